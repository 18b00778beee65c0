/**
 * Requests on one record, addressed by id or alternate key: GET (with If-None-Match → 304), PATCH as
 * update or upsert (If-Match: * prevents create, If-None-Match: * prevents update, If-Match with a
 * stale etag → 412), DELETE (with optional If-Match), and the single-column forms
 * `record/column` (GET, PUT, DELETE).
 */
import {
  concurrencyMismatch,
  duplicateRecord,
  methodNotAllowed,
  payloadError,
  propertyNotFound,
  segmentNotFound,
} from '../errors';
import type { KeySpec } from '../odata/path';
import { readQueryOptions } from '../odata/queryOptions';
import { etagOf, selectedAttributes } from '../representation';
import { propertyName, type TableDef } from '../schema/types';
import type { StoredRow } from '../store';
import { fromStorage } from '../values';
import { appliedPreferences, header, jsonBody, type ApiRequest, type ApiResponse } from './api';
import { contextUrl, type CollectionServices } from './collection';

/** `If-None-Match: null` is the documented "no condition" value clients send on every request. */
function condition(request: ApiRequest, name: string): string | undefined {
  const value = header(request, name)?.trim();
  return value === undefined || value === '' || value === 'null' ? undefined : value;
}

function etagMatches(condition: string, row: StoredRow): boolean {
  const current = etagOf(row);
  return condition.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t === current || t === current.slice(2);
  });
}

function entityIdHeader(request: ApiRequest, table: TableDef, row: StoredRow): Record<string, string> {
  return {
    'OData-EntityId': `${request.apiBase}${table.entitySetName}(${String(row[table.primaryIdAttribute])})`,
  };
}

function represent(
  services: CollectionServices,
  request: ApiRequest,
  table: TableDef,
  row: StoredRow,
  status: number,
): ApiResponse {
  const options = readQueryOptions(request.params);
  const attributes = selectedAttributes(services.records.catalog, table, options.select);
  const applied = appliedPreferences(request.preferences, {
    representation: status !== 200 || request.method !== 'GET',
  });
  return {
    status,
    headers: applied.length ? { 'Preference-Applied': applied } : {},
    json: {
      '@odata.context': contextUrl(request, table, options.select, true),
      ...services.representer.record(table, row, attributes, request.preferences),
    },
  };
}

function retrieve(
  services: CollectionServices,
  request: ApiRequest,
  table: TableDef,
  key: KeySpec,
): ApiResponse {
  const row = services.records.find(table, key);
  if (!row) throw services.records.notFound(table, key);
  const ifNoneMatch = condition(request, 'If-None-Match');
  // Annotated responses may depend on other records, so Dataverse never answers them with 304.
  if (ifNoneMatch && !request.preferences.includeAnnotations && etagMatches(ifNoneMatch, row)) {
    return { status: 304, headers: { ETag: etagOf(row) } };
  }
  return represent(services, request, table, row, 200);
}

function upsert(
  services: CollectionServices,
  request: ApiRequest,
  table: TableDef,
  key: KeySpec,
): ApiResponse {
  const existing = services.records.find(table, key);
  const ifMatch = condition(request, 'If-Match');
  const ifNoneMatch = condition(request, 'If-None-Match');
  const body = jsonBody(request, table.entitySetName);
  if (existing) {
    if (ifNoneMatch === '*') throw duplicateRecord();
    if (ifMatch && !etagMatches(ifMatch, existing)) throw concurrencyMismatch();
    const values = services.records.readBody(table, body, false, request.apiBase);
    const row = services.records.update(table, existing, values, request.operation);
    return request.preferences.returnRepresentation
      ? represent(services, request, table, row, 200)
      : { status: 204, headers: entityIdHeader(request, table, row) };
  }
  if (ifMatch) throw services.records.notFound(table, key);
  const values = services.records.readBody(table, body, true, request.apiBase);
  if (key.kind === 'id') {
    values[table.primaryIdAttribute] = key.id;
  } else {
    Object.assign(values, services.records.keyValues(table, key.values));
  }
  const row = services.records.create(table, values, request.operation);
  return request.preferences.returnRepresentation
    ? represent(services, request, table, row, 201)
    : { status: 204, headers: entityIdHeader(request, table, row) };
}

function remove(
  services: CollectionServices,
  request: ApiRequest,
  table: TableDef,
  key: KeySpec,
): ApiResponse {
  const existing = services.records.find(table, key);
  if (!existing) throw services.records.notFound(table, key);
  const ifMatch = condition(request, 'If-Match');
  if (ifMatch && !etagMatches(ifMatch, existing)) throw concurrencyMismatch();
  services.records.delete(table, existing, request.operation);
  return { status: 204 };
}

export function handleRecord(
  services: CollectionServices,
  request: ApiRequest,
  table: TableDef,
  key: KeySpec,
): ApiResponse {
  switch (request.method) {
    case 'GET':
      return retrieve(services, request, table, key);
    case 'PATCH':
      return upsert(services, request, table, key);
    case 'DELETE':
      return remove(services, request, table, key);
    default:
      throw methodNotAllowed(request.method, ['GET', 'PATCH', 'DELETE']);
  }
}

/** `contacts(id)/firstname`: read, set (PUT {"value": …}) or clear (DELETE) one column. */
export function handleColumn(
  services: CollectionServices,
  request: ApiRequest,
  table: TableDef,
  key: KeySpec,
  column: string,
): ApiResponse {
  const { catalog } = services.records;
  const existing = services.records.find(table, key);
  if (!existing) throw services.records.notFound(table, key);
  if (request.method === 'GET') {
    const attribute = catalog.property(table, column);
    if (!attribute || !attribute.readable) throw segmentNotFound(column);
    const value = fromStorage(attribute, existing[attribute.logicalName] ?? null);
    if (value === null) return { status: 204 };
    return {
      status: 200,
      json: {
        '@odata.context': `${request.apiBase}$metadata#${table.entitySetName}(${String(existing[table.primaryIdAttribute])})/${propertyName(attribute)}`,
        value,
      },
    };
  }
  const attribute = catalog.attribute(table, column);
  if (!attribute || attribute.type === 'Lookup') throw propertyNotFound(column, table.logicalName);
  let value: unknown = null;
  if (request.method === 'PUT') {
    const body = jsonBody(request, table.entitySetName);
    if (typeof body !== 'object' || body === null || !('value' in body)) {
      throw payloadError(table.entitySetName, 'A PUT to a column needs a body of the form {"value": …}.');
    }
    value = (body as { value: unknown }).value;
  } else if (request.method !== 'DELETE') {
    throw methodNotAllowed(request.method, ['GET', 'PUT', 'DELETE']);
  }
  const values = services.records.readBody(table, { [column]: value }, false, request.apiBase);
  services.records.update(table, existing, values, request.operation);
  return { status: 204 };
}
