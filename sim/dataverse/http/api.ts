/**
 * What a Web API handler receives and returns: a parsed request (resource path segments, query
 * options, Prefer header, body, the caller and the ids of this operation) and a response (status,
 * headers, JSON or text body). Handlers stay free of node:http; only server.ts writes to sockets.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { payloadError } from '../errors';
import type { PathSegment } from '../odata/path';
import type { Preferences } from '../odata/prefer';
import type { OperationContext } from '../records';

export interface ApiRequest {
  method: string;
  segments: PathSegment[];
  params: Map<string, string>;
  /** The query string as sent, without `?` (used to build @odata.nextLink). */
  rawQuery: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** `http://host:port/api/data/v9.2/` as the client addressed it. */
  apiBase: string;
  preferences: Preferences;
  operation: OperationContext;
}

export interface ApiResponse {
  status: number;
  headers?: Record<string, string | string[]>;
  json?: unknown;
  text?: string;
}

export function header(request: ApiRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The JSON body of a write; malformed JSON is Dataverse's payload error for the entity set. */
export function jsonBody(request: ApiRequest, entitySetName: string): unknown {
  const text = request.body.toString('utf8');
  if (text.trim() === '')
    throw payloadError(entitySetName, 'The request body is empty; a JSON object was expected.');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw payloadError(
      entitySetName,
      `Microsoft.OData.ODataException: The request body is not valid JSON (${err instanceof Error ? err.message : String(err)}).`,
    );
  }
}

/** Preference-Applied values for what the handler honoured. */
export function appliedPreferences(
  preferences: Preferences,
  parts: { representation?: boolean; pageSize?: boolean },
): string[] {
  const applied: string[] = [];
  if (parts.representation && preferences.returnRepresentation) applied.push('return=representation');
  if (parts.pageSize && preferences.maxPageSize !== undefined)
    applied.push(`odata.maxpagesize=${preferences.maxPageSize}`);
  if (preferences.includeAnnotations)
    applied.push(`odata.include-annotations="${preferences.includeAnnotations}"`);
  return applied;
}
