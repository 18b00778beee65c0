/** Deployments: the manifest and its validation, the records store, and the saga's bookkeeping. */
export * from './manifest';
export * from './store';
export * from './progress';
