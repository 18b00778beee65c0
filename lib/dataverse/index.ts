/** The Dataverse Web API client, its keys and its typed errors. */
export * from './client';
export * from './errors';
export * from './keys';
export * from './changes';
export * from './batch';
export * from './metadata';
export * from './planChecks';
export * from './pacing';
export * from './changeset';
export * from './readRecords';
export * from './lookups';
