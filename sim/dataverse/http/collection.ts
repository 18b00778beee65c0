/**
 * Requests on an entity set: GET with $select/$filter/$orderby/$top/$count and paging through
 * `Prefer: odata.maxpagesize` and `@odata.nextLink` ($skiptoken), GET `/$count`, and POST (create,
 * 204 with OData-EntityId or 201 with the record under return=representation).
 */
import { methodNotAllowed, propertyNotFound } from '../errors';
import { parseFilter } from '../odata/filter';
import { FilterTranslator } from '../odata/filterSql';
import { readQueryOptions } from '../odata/queryOptions';
import { makeSkipToken, readSkipToken } from '../odata/skiptoken';
import type { Records } from '../records';
import { selectedAttributes, type Representer } from '../representation';
import type { TableDef } from '../schema/types';
import { quote, type SqlFragment } from '../store';
import { appliedPreferences, jsonBody, type ApiRequest, type ApiResponse } from './api';

/** Dataverse returns at most this many rows per page, and counts at most this many. */
const MAX_PAGE = 5000;

export interface CollectionServices {
  records: Records;
  representer: Representer;
}

function whereClause(services: CollectionServices, table: TableDef, filter: string | undefined): SqlFragment {
  if (filter === undefined) return { sql: '1 = 1', params: [] };
  return new FilterTranslator(services.records.catalog, table).translate(parseFilter(filter));
}

export function contextUrl(
  request: ApiRequest,
  table: TableDef,
  select: string[] | undefined,
  entity: boolean,
): string {
  return `${request.apiBase}$metadata#${table.entitySetName}${select ? `(${select.join(',')})` : ''}${entity ? '/$entity' : ''}`;
}

export function queryCollection(
  services: CollectionServices,
  request: ApiRequest,
  table: TableDef,
): ApiResponse {
  const { catalog } = services.records;
  const options = readQueryOptions(request.params);
  const attributes = selectedAttributes(catalog, table, options.select);
  const where = whereClause(services, table, options.filter);
  const orderBy = options.orderBy.map((o) => {
    const attribute = catalog.property(table, o.property);
    if (!attribute || !attribute.readable) throw propertyNotFound(o.property, table.logicalName);
    return `${quote(attribute.logicalName)} ${o.descending ? 'DESC' : 'ASC'}`;
  });

  const paged = request.preferences.maxPageSize !== undefined;
  // With odata.maxpagesize, $top is ignored (as Dataverse documents); without it $top caps one page.
  const pageSize = paged
    ? (request.preferences.maxPageSize as number)
    : Math.min(options.top ?? MAX_PAGE, MAX_PAGE);
  const page = options.skipToken ? readSkipToken(options.skipToken) : 1;
  const offset = (page - 1) * pageSize;
  const rows = services.records.query(table, where, orderBy, pageSize + 1, offset);
  const more = rows.length > pageSize && (paged || options.top === undefined);
  const pageRows = rows.slice(0, pageSize);

  const json: Record<string, unknown> = {
    '@odata.context': contextUrl(request, table, options.select, false),
  };
  if (options.count) json['@odata.count'] = Math.min(services.records.count(table, where), MAX_PAGE);
  json.value = pageRows.map((row) =>
    services.representer.record(table, row, attributes, request.preferences),
  );
  if (more && pageRows.length > 0) {
    const id = table.primaryIdAttribute;
    const token = makeSkipToken(
      page + 1,
      page,
      String(pageRows[0][id]),
      String(pageRows[pageRows.length - 1][id]),
      id,
    );
    const kept = request.rawQuery
      .split('&')
      .filter((p) => p !== '' && !/^(\$|%24)skiptoken=/i.test(p))
      .join('&');
    json['@odata.nextLink'] =
      `${request.apiBase}${table.entitySetName}?${kept}${kept ? '&' : ''}$skiptoken=${encodeURIComponent(token)}`;
  }
  const applied = appliedPreferences(request.preferences, { pageSize: true });
  return { status: 200, headers: applied.length ? { 'Preference-Applied': applied } : {}, json };
}

export function countCollection(
  services: CollectionServices,
  request: ApiRequest,
  table: TableDef,
): ApiResponse {
  if (request.method !== 'GET') throw methodNotAllowed(request.method, ['GET']);
  const options = readQueryOptions(request.params);
  const where = whereClause(services, table, options.filter);
  return { status: 200, text: String(Math.min(services.records.count(table, where), MAX_PAGE)) };
}

export function createRecord(
  services: CollectionServices,
  request: ApiRequest,
  table: TableDef,
): ApiResponse {
  const options = readQueryOptions(request.params);
  const attributes = selectedAttributes(services.records.catalog, table, options.select);
  const values = services.records.readBody(
    table,
    jsonBody(request, table.entitySetName),
    true,
    request.apiBase,
  );
  const row = services.records.create(table, values, request.operation);
  const id = String(row[table.primaryIdAttribute]);
  if (request.preferences.returnRepresentation) {
    return {
      status: 201,
      headers: { 'Preference-Applied': appliedPreferences(request.preferences, { representation: true }) },
      json: {
        '@odata.context': contextUrl(request, table, options.select, true),
        ...services.representer.record(table, row, attributes, request.preferences),
      },
    };
  }
  return { status: 204, headers: { 'OData-EntityId': `${request.apiBase}${table.entitySetName}(${id})` } };
}

export function handleCollection(
  services: CollectionServices,
  request: ApiRequest,
  table: TableDef,
): ApiResponse {
  switch (request.method) {
    case 'GET':
      return queryCollection(services, request, table);
    case 'POST':
      return createRecord(services, request, table);
    default:
      throw methodNotAllowed(request.method, ['GET', 'POST']);
  }
}
