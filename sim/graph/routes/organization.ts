/**
 * GET /organization and GET /organization/{id}: the tenant, always a one-item collection as in
 * Graph. Must never answer with an empty collection: every tenant has its organization.
 */
import { graphErrors } from '../errors';
import type { Organization } from '../model';
import type { GraphCall, GraphReply } from './call';
import { serveCollection, serveEntity } from './collection';

// Organization has no reduced default set: Graph returns every property unless $select narrows it.
const ORGANIZATION_PROPERTIES: readonly (keyof Organization)[] = [
  'id',
  'businessPhones',
  'city',
  'country',
  'countryLetterCode',
  'createdDateTime',
  'displayName',
  'postalCode',
  'preferredLanguage',
  'state',
  'street',
  'technicalNotificationMails',
  'tenantType',
  'verifiedDomains',
];
const ORGANIZATION_RULES = {
  type: 'organization',
  known: new Set<string>(ORGANIZATION_PROPERTIES),
  defaults: ORGANIZATION_PROPERTIES,
};

export function listOrganization(call: GraphCall): GraphReply {
  return serveCollection(call, 'organization', [call.store.organization()], ORGANIZATION_RULES);
}

export function getOrganization(call: GraphCall, key: string): GraphReply {
  const find = (): Organization => {
    const organization = call.store.organization();
    if (organization.id.toLowerCase() !== key.toLowerCase()) throw graphErrors.resourceNotFound(key);
    return organization;
  };
  return serveEntity(call, 'organization', find, ORGANIZATION_RULES);
}
