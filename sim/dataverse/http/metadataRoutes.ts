/**
 * GET requests on EntityDefinitions: the list, one definition by `(LogicalName='…')` or MetadataId,
 * and its `Attributes`, `Keys` and `ManyToOneRelationships` collections (each also addressable by
 * LogicalName), and the attributes of one type through a cast
 * (`Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata`, with $expand=OptionSet). Supports
 * $select, $filter and $expand. Metadata is read-only here; other methods get 405.
 */
import { methodNotAllowed, segmentNotFound, uriError } from '../errors';
import {
  ATTRIBUTE_METADATA_TYPES,
  attributeMetadata,
  EXPANDABLE,
  entityMetadata,
  filterObjects,
  keyMetadata,
  manyToOneMetadata,
  optionSetMetadata,
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

type Child = (typeof EXPANDABLE)[number];

function isChild(name: string): name is Child {
  return (EXPANDABLE as readonly string[]).includes(name);
}

function children(catalog: Catalog, table: TableDef, property: Child): MetadataObject[] {
  switch (property) {
    case 'Attributes':
      return table.attributes.map((a) => attributeMetadata(table, a));
    case 'Keys':
      return table.keys.map((k) => keyMetadata(table, k));
    case 'ManyToOneRelationships':
      return manyToOneMetadata(catalog, table);
  }
}

/** `Attributes/Microsoft.Dynamics.CRM.<Type>AttributeMetadata`: the attributes of one type. */
function castAttributes(table: TableDef, request: ApiRequest, cast: string): MetadataObject[] {
  checkOptions(request, ['$select', '$filter', '$expand']);
  const expand = parseMetadataExpand(request.params.get('$expand'), ['OptionSet'], cast.slice(23));
  const typed = table.attributes.filter((a) => attributeMetadata(table, a)['@odata.type'] === `#${cast}`);
  const chosen = filterObjects(
    typed.map((a) => attributeMetadata(table, a)),
    request.params.get('$filter'),
  );
  return chosen.map((object) => {
    const out = selectProperties(object, selectList(request), ['MetadataId']);
    for (const item of expand) {
      const attribute = typed.find((a) => a.logicalName === object.LogicalName) as (typeof typed)[number];
      const optionSet = optionSetMetadata(table, attribute);
      if (!optionSet)
        throw uriError(
          `Could not find a property named 'OptionSet' on type 'Microsoft.Dynamics.CRM.${cast.slice(23)}'.`,
        );
      out.OptionSet = selectProperties(optionSet, item.select, ['MetadataId']);
    }
    return out;
  });
}

function entityWithExpand(catalog: Catalog, table: TableDef, request: ApiRequest): MetadataObject {
  const expand = parseMetadataExpand(request.params.get('$expand'));
  const object = selectProperties(entityMetadata(table), selectList(request), ['MetadataId']);
  for (const item of expand) {
    object[item.property] = children(catalog, table, item.property).map((c) =>
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
        value: chosen.map((o) =>
          entityWithExpand(catalog, catalog.table(String(o.LogicalName)) as TableDef, request),
        ),
      },
    };
  }
  const table = tableForKey(catalog, definitions.key, definitions.raw);
  if (!child) {
    checkOptions(request, ['$select', '$expand']);
    return {
      status: 200,
      json: { '@odata.context': `${base}/$entity`, ...entityWithExpand(catalog, table, request) },
    };
  }
  if (!isChild(child.name)) throw segmentNotFound(child.raw);
  if (grandChild) {
    const isCast =
      child.name === 'Attributes' &&
      !child.key &&
      !grandChild.key &&
      ATTRIBUTE_METADATA_TYPES.includes(grandChild.name) &&
      segments.length === 3;
    if (!isCast) throw segmentNotFound(grandChild.raw);
    return {
      status: 200,
      json: {
        '@odata.context': `${base}(${table.metadataId})/Attributes/${grandChild.name}`,
        value: castAttributes(table, request, grandChild.name),
      },
    };
  }
  const list = children(catalog, table, child.name);
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
