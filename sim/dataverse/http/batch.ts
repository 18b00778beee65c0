/**
 * `POST $batch` as Dataverse executes it: the operations of a multipart/mixed request run in order,
 * each one dispatched through the same router and handlers as a request of its own (so validation,
 * etags, webhooks and injected faults apply exactly as outside a batch). A changeset runs in one
 * SQLite transaction with its change notifications held back: if any of its operations fails, none
 * of its changes persist, no webhook fires, and the changeset is answered with the failing response
 * alone. `Content-ID` / `$n` references resolve to records created (or written) earlier in the same
 * changeset. Without `Prefer: odata.continue-on-error` the batch stops at the first failure and takes
 * its status; with it every item runs and the batch answers 200. This module never re-implements a
 * record operation: if a rule holds for a request on its own, the batch gets it by routing.
 */
import { DataverseFault, ErrorCodes, segmentNotFound, unexpected, uriError } from '../errors';
import type { ChangeGate } from '../changeGate';
import type { FaultInjector } from '../../common/faults';
import { newId } from '../ids';
import { parsePath } from '../odata/path';
import { readPreferences } from '../odata/prefer';
import { parseQueryString } from '../odata/queryOptions';
import type { OperationContext } from '../records';
import type { ApiResponse } from './api';
import {
  boundaryOf,
  MultipartError,
  readPartRequest,
  splitMultipart,
  writeBatchResponse,
  type BatchResponseItem,
  type MimePart,
  type PartRequest,
  type PartResponse,
} from './multipart';
import { route, type RouterServices } from './router';

/** Dataverse's limit on the requests in one batch, changeset operations included. */
export const MAX_BATCH_OPERATIONS = 1000;

const JSON_TYPE = 'application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8';

export interface BatchContext {
  services: RouterServices;
  faults: FaultInjector;
  changes: ChangeGate;
  onError?: (err: unknown) => void;
}

export interface BatchRequest {
  contentType: string | undefined;
  prefer: string | string[] | undefined;
  body: Buffer;
  /** `http://host:port/api/data/v9.2/` as the client addressed the batch. */
  apiBase: string;
  /** The caller and correlation id shared by every operation; each gets its own request id. */
  operation: OperationContext;
}

export interface BatchAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Latency that faults added to operations, to wait before answering. */
  delayMs: number;
  /** A fault dropped the connection at an operation: answer nothing. */
  drop: boolean;
}

interface Operation {
  request: PartRequest;
  contentId?: string;
}

type Item = { kind: 'single'; operation: Operation } | { kind: 'changeset'; operations: Operation[] };

interface RunState {
  delayMs: number;
  drop: boolean;
}

/** Thrown inside a changeset's transaction to roll it back; carries the answer for the changeset. */
class Abandon {
  constructor(readonly response?: PartResponse) {}
}

function badBatch(message: string): DataverseFault {
  return new DataverseFault(400, ErrorCodes.invalidArgument, message);
}

function continueOnError(prefer: string | string[] | undefined): boolean {
  const text = Array.isArray(prefer) ? prefer.join(',') : (prefer ?? '');
  return text.split(',').some((p) => {
    const [name, value] = p.split('=').map((s) => s.trim().toLowerCase());
    return name === 'odata.continue-on-error' && (value === undefined || value === 'true');
  });
}

function isHttpPart(part: MimePart): boolean {
  return (part.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase() === 'application/http';
}

function readOperation(part: MimePart): Operation {
  if (!isHttpPart(part)) {
    throw badBatch(
      `A batch part must have Content-Type application/http or multipart/mixed, not '${part.headers.get('content-type') ?? ''}'.`,
    );
  }
  return { request: readPartRequest(part), contentId: part.headers.get('content-id') };
}

/** The batch's items, checked as a whole before anything runs: a malformed batch changes nothing. */
function readItems(request: BatchRequest): Item[] {
  const boundary = boundaryOf(request.contentType);
  if (!boundary) {
    throw badBatch(
      'A $batch request needs Content-Type multipart/mixed with a boundary, e.g. multipart/mixed; boundary=batch_<id>.',
    );
  }
  const items: Item[] = [];
  let count = 0;
  try {
    for (const part of splitMultipart(request.body.toString('utf8'), boundary)) {
      const changesetBoundary = boundaryOf(part.headers.get('content-type'));
      if (!changesetBoundary) {
        items.push({ kind: 'single', operation: readOperation(part) });
        count++;
        continue;
      }
      const operations: Operation[] = [];
      const ids = new Set<string>();
      for (const inner of splitMultipart(part.lines, changesetBoundary)) {
        if (boundaryOf(inner.headers.get('content-type')))
          throw badBatch('A changeset cannot contain another changeset.');
        const operation = readOperation(inner);
        if (operation.request.method === 'GET')
          throw badBatch('GET requests are not allowed in a changeset; send them outside it.');
        if (operation.contentId !== undefined) {
          if (ids.has(operation.contentId))
            throw badBatch(`Content-ID '${operation.contentId}' is used more than once in one changeset.`);
          ids.add(operation.contentId);
        }
        operations.push(operation);
      }
      items.push({ kind: 'changeset', operations });
      count += operations.length;
    }
  } catch (err) {
    if (err instanceof MultipartError)
      throw badBatch(`The batch request body cannot be read: ${err.message}`);
    throw err;
  }
  if (count > MAX_BATCH_OPERATIONS) {
    throw badBatch(
      `The batch contains ${count} requests; a batch can contain at most ${MAX_BATCH_OPERATIONS}.`,
    );
  }
  return items;
}

function referenceMissing(name: string): DataverseFault {
  return new DataverseFault(
    400,
    ErrorCodes.invalidArgument,
    `Content-ID Reference: '${name}' does not exist in the batch context.`,
  );
}

/** A `$n` prefix replaced by the URL of the entity the operation with Content-ID n wrote. */
function resolveReference(value: string, refs: Map<string, string>): string {
  const match = /^\$([^/?]+)(.*)$/s.exec(value);
  if (!match || match[1] === 'batch' || match[1] === 'metadata') return value;
  const url = refs.get(match[1]);
  if (!url) throw referenceMissing(`$${match[1]}`);
  return url + match[2];
}

/** `$n` in `@odata.bind` (and `@odata.id`) values of a JSON body; any other body is left to the handler. */
function resolveBodyReferences(body: string, refs: Map<string, string>): string {
  if (!body.includes('"$')) return body;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return body;
  const object = parsed as Record<string, unknown>;
  for (const [key, value] of Object.entries(object)) {
    if ((key.endsWith('@odata.bind') || key === '@odata.id') && typeof value === 'string')
      object[key] = resolveReference(value, refs);
  }
  return JSON.stringify(object);
}

/** The path below `/api/data/v9.x/` and the query of an operation's URL (absolute, rooted or relative). */
function locate(url: string, apiBase: string): { resource: string; rawQuery: string; path: string } {
  const base = new URL(apiBase);
  let target: URL;
  try {
    target = new URL(url, base);
  } catch {
    throw uriError(`'${url}' is not a valid request URL.`);
  }
  const api = /^\/api\/data\/v9\.[0-2]\/(.*)$/.exec(target.pathname);
  if (!api) throw segmentNotFound(target.pathname);
  let resource: string;
  try {
    resource = decodeURIComponent(api[1]);
  } catch {
    throw uriError(`The path '${target.pathname}' is not correctly percent-encoded.`);
  }
  return { resource, rawQuery: target.search.replace(/^\?/, ''), path: target.pathname };
}

function toPart(response: ApiResponse, requestId: string): PartResponse {
  const headers: Record<string, string | string[]> = {
    'OData-Version': '4.0',
    REQ_ID: requestId,
    ...response.headers,
  };
  const entityId = response.headers?.['OData-EntityId'];
  if (typeof entityId === 'string') headers.Location = entityId;
  if (response.json !== undefined) {
    headers['Content-Type'] = JSON_TYPE;
    return { status: response.status, headers, body: JSON.stringify(response.json) };
  }
  if (response.text !== undefined) {
    headers['Content-Type'] = 'text/plain';
    return { status: response.status, headers, body: response.text };
  }
  return { status: response.status, headers };
}

function faultPart(err: DataverseFault, requestId: string): PartResponse {
  return toPart({ status: err.status, headers: err.headers, json: err.body() }, requestId);
}

class BatchRun {
  readonly state: RunState = { delayMs: 0, drop: false };

  constructor(
    private readonly context: BatchContext,
    private readonly request: BatchRequest,
  ) {}

  /** One operation, answered as the router answers it; `refs` are the changeset's Content-IDs so far. */
  operation(operation: Operation, refs: Map<string, string>): { response: PartResponse; entityUrl?: string } {
    const requestId = newId();
    try {
      const { method, headers } = operation.request;
      const { resource, rawQuery, path } = locate(
        resolveReference(operation.request.url, refs),
        this.request.apiBase,
      );
      if (resource.replace(/\/+$/, '') === '$batch')
        throw badBatch('A batch cannot contain another batch request.');
      const fault = this.context.faults.forOperation(method, path);
      if (fault?.kind === 'latency') this.state.delayMs += fault.latencyMs;
      if (fault?.kind === 'drop') {
        this.state.drop = true;
        return { response: { status: 0, headers: {} } };
      }
      if (fault?.kind === 'answer') {
        return {
          response: toPart({ status: fault.status, headers: fault.headers, json: fault.body }, requestId),
        };
      }
      const segments = parsePath(resource);
      const response = route(this.context.services, {
        method,
        segments,
        params: parseQueryString(rawQuery),
        rawQuery,
        headers,
        body: Buffer.from(resolveBodyReferences(operation.request.body, refs), 'utf8'),
        apiBase: this.request.apiBase,
        preferences: readPreferences(headers.prefer),
        operation: { ...this.request.operation, requestId },
      });
      return {
        response: toPart(response, requestId),
        entityUrl: this.entityUrl(response, segments[0]?.name),
      };
    } catch (err) {
      if (err instanceof DataverseFault) return { response: faultPart(err, requestId) };
      this.context.onError?.(err);
      return { response: faultPart(unexpected(), requestId) };
    }
  }

  /** What `$n` stands for after a successful write: the OData-EntityId, or the record the body returned. */
  private entityUrl(response: ApiResponse, entitySet: string | undefined): string | undefined {
    const header = response.headers?.['OData-EntityId'];
    if (typeof header === 'string') return header;
    const table = entitySet ? this.context.services.records.catalog.tableBySet(entitySet) : undefined;
    const record = response.json as Record<string, unknown> | undefined;
    const id = table && record ? record[table.primaryIdAttribute] : undefined;
    return table && typeof id === 'string'
      ? `${this.request.apiBase}${table.entitySetName}(${id})`
      : undefined;
  }

  /** All operations in one transaction: every response when all succeed, else only the failing one. */
  changeset(operations: Operation[]): { ok: boolean; responses: PartResponse[] } {
    const { records } = this.context.services;
    const refs = new Map<string, string>();
    try {
      const responses = this.context.changes.hold(() =>
        records.store.transaction(() => {
          const done: PartResponse[] = [];
          for (const operation of operations) {
            const { response, entityUrl } = this.operation(operation, refs);
            if (this.state.drop) throw new Abandon();
            response.contentId = operation.contentId;
            if (response.status >= 400) throw new Abandon(response);
            if (operation.contentId !== undefined && entityUrl) refs.set(operation.contentId, entityUrl);
            done.push(response);
          }
          return done;
        }),
      );
      return { ok: true, responses };
    } catch (err) {
      if (err instanceof Abandon) return { ok: false, responses: err.response ? [err.response] : [] };
      throw err;
    }
  }
}

/** Runs a batch; throws a DataverseFault (answered as JSON) when the batch as a whole is refused. */
export function executeBatch(context: BatchContext, request: BatchRequest): BatchAnswer {
  const items = readItems(request);
  const keepGoing = continueOnError(request.prefer);
  const run = new BatchRun(context, request);
  const answered: BatchResponseItem[] = [];
  let failedStatus: number | undefined;
  for (const item of items) {
    let failed: number | undefined;
    if (item.kind === 'single') {
      const { response } = run.operation(item.operation, new Map());
      if (run.state.drop) break;
      answered.push({ kind: 'response', response });
      if (response.status >= 400) failed = response.status;
    } else {
      const { ok, responses } = run.changeset(item.operations);
      if (run.state.drop) break;
      answered.push({ kind: 'changeset', responses });
      if (!ok) failed = responses[0]?.status ?? 500;
    }
    if (failed !== undefined && !keepGoing) {
      failedStatus = failed;
      break;
    }
  }
  const { boundary, body } = writeBatchResponse(answered);
  const headers: Record<string, string> = {
    'Content-Type': `multipart/mixed; boundary=${boundary}`,
    'OData-Version': '4.0',
  };
  if (keepGoing) headers['Preference-Applied'] = 'odata.continue-on-error';
  return {
    status: failedStatus ?? 200,
    headers,
    body,
    delayMs: run.state.delayMs,
    drop: run.state.drop,
  };
}
