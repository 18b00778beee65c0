/**
 * Maps a Web API resource path to its handler: the service document, WhoAmI, EntityDefinitions,
 * entity sets (`contacts`, `contacts/$count`), records (`contacts(…)`) and single columns
 * (`contacts(…)/firstname`). Anything else is Dataverse's "Resource not found for the segment".
 */
import { methodNotAllowed, notImplemented, segmentNotFound } from '../errors';
import type { PlatformIdentity } from '../platform';
import type { ApiRequest, ApiResponse } from './api';
import { countCollection, handleCollection, type CollectionServices } from './collection';
import { handleEntityDefinitions } from './metadataRoutes';
import { handleColumn, handleRecord } from './record';

export interface RouterServices extends CollectionServices {
  identity: PlatformIdentity;
}

function whoAmI(services: RouterServices, request: ApiRequest): ApiResponse {
  if (request.method !== 'GET') {
    // Calling a function with the wrong method is not a 405 on Dataverse but a missing resource.
    throw segmentNotFound('WhoAmI');
  }
  return {
    status: 200,
    json: {
      '@odata.context': `${request.apiBase}$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse`,
      BusinessUnitId: request.operation.caller.businessUnitId,
      UserId: request.operation.caller.userId,
      OrganizationId: services.identity.organizationId,
    },
  };
}

function serviceDocument(services: RouterServices, request: ApiRequest): ApiResponse {
  if (request.method !== 'GET') throw methodNotAllowed(request.method, ['GET']);
  return {
    status: 200,
    json: {
      '@odata.context': `${request.apiBase}$metadata`,
      value: services.records.catalog.tables.map((t) => ({
        name: t.entitySetName,
        kind: 'EntitySet',
        url: t.entitySetName,
      })),
    },
  };
}

export function route(services: RouterServices, request: ApiRequest): ApiResponse {
  const [first, second, third] = request.segments;
  if (!first) return serviceDocument(services, request);
  if (
    first.name === 'WhoAmI' &&
    !second &&
    (!first.key || (first.key.kind === 'named' && first.key.values.size === 0))
  ) {
    return whoAmI(services, request);
  }
  // $batch is served by server.ts (batch.ts) before routing; inside a batch it is refused there.
  if (first.name === '$metadata') throw notImplemented(first.name);
  if (first.name === 'EntityDefinitions')
    return handleEntityDefinitions(services.records.catalog, request, request.segments);
  const table = services.records.catalog.tableBySet(first.name);
  if (!table) throw segmentNotFound(first.raw);
  if (!first.key) {
    if (!second) return handleCollection(services, request, table);
    if (second.name === '$count' && !second.key && !third) return countCollection(services, request, table);
    throw segmentNotFound(second.raw);
  }
  if (first.key.kind === 'named' && first.key.values.size === 0) throw segmentNotFound(first.raw);
  if (!second) return handleRecord(services, request, table, first.key);
  if (third || second.key) throw segmentNotFound((third ?? second).raw);
  return handleColumn(services, request, table, first.key, second.name);
}
