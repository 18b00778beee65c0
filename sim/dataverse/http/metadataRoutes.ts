/**
 * GET requests on EntityDefinitions: the list, one definition by `(LogicalName='…')` or MetadataId,
 * and its `Attributes` and `Keys` collections (each also addressable by LogicalName). Supports
 * $select, $filter and $expand=Attributes,Keys. Metadata is read-only here; other methods get 405.
 */
import { methodNotAllowed, segmentNotFound, uriError } from '../errors';
import {
  attributeMetadata,
  entityMetadata,
  filterObjects,
  keyMetadata,
  parseMetadataExpand,
  selectProperties,
  tableForKey,
  type MetadataObject,
} from '../metadata';
import type { PathSegment } from '../odata/path';
import type { Catalog } from '../schema/catalog';
import type { TableDef } from '../schema/types';
import type { ApiRequest, ApiResponse } from './api';

function selectList(request: ApiRequest): string[] | undefined {
  const select = request.params.get('$select');
  return select === undefined ? undefined : select.split(',').map((s) => s.trim());
}

function checkOptions(request: ApiRequest, allowed: string[]): void {
  for (const name of request.params.keys()) {
    if (name.startsWith('$') && !allowed.includes(name)) {
      throw uriError(
        `The query parameter '${name}' is not supported on metadata in the Dataverse simulator.`,
      );
    }
  }
}

function children(table: TableDef, property: 'Attributes' | 'Keys'): MetadataObject[] {
  return property === 'Attributes'
    ? table.attributes.map((a) => attributeMetadata(table, a))
    : table.keys.map((k) => keyMetadata(table, k));
}

function entityWithExpand(table: TableDef, request: ApiRequest): MetadataObject {
  const expand = parseMetadataExpand(request.params.get('$expand'));
  const object = selectProperties(entityMetadata(table), selectList(request), ['MetadataId']);
  for (const item of expand) {
    object[item.property] = children(table, item.property).map((c) =>
      selectProperties(c, item.select, ['MetadataId']),
    );
  }
  return object;
}

export function handleEntityDefinitions(
  catalog: Catalog,
  request: ApiRequest,
  segments: PathSegment[],
): ApiResponse {
  if (request.method !== 'GET') throw methodNotAllowed(request.method, ['GET']);
  const [definitions, child, grandChild] = segments;
  const base = `${request.apiBase}$metadata#EntityDefinitions`;
  if (!definitions.key) {
    if (child) throw segmentNotFound(child.raw);
    checkOptions(request, ['$select', '$filter', '$expand']);
    const all = catalog.tables.map((t) => entityMetadata(t));
    const chosen = filterObjects(all, request.params.get('$filter'));
    const select = selectList(request);
    return {
      status: 200,
      json: {
        '@odata.context': `${base}${select ? `(${select.join(',')})` : ''}`,
        value: chosen.map((o) => entityWithExpand(catalog.table(String(o.LogicalName)) as TableDef, request)),
      },
    };
  }
  const table = tableForKey(catalog, definitions.key, definitions.raw);
  if (!child) {
    checkOptions(request, ['$select', '$expand']);
    return {
      status: 200,
      json: { '@odata.context': `${base}/$entity`, ...entityWithExpand(table, request) },
    };
  }
  if (child.name !== 'Attributes' && child.name !== 'Keys') throw segmentNotFound(child.raw);
  if (grandChild) throw segmentNotFound(grandChild.raw);
  const list = children(table, child.name);
  if (child.key) {
    const name = child.key.kind === 'named' ? child.key.values.get('LogicalName') : undefined;
    const found = list.find((o) =>
      child.key?.kind === 'id' ? o.MetadataId === child.key.id : o.LogicalName === name,
    );
    if (!found) throw segmentNotFound(child.raw);
    checkOptions(request, ['$select']);
    return {
      status: 200,
      json: {
        '@odata.context': `${base}(${table.metadataId})/${child.name}/$entity`,
        ...selectProperties(found, selectList(request), ['MetadataId']),
      },
    };
  }
  checkOptions(request, ['$select', '$filter']);
  const chosen = filterObjects(list, request.params.get('$filter'));
  return {
    status: 200,
    json: {
      '@odata.context': `${base}(${table.metadataId})/${child.name}`,
      value: chosen.map((o) => selectProperties(o, selectList(request), ['MetadataId'])),
    },
  };
}
