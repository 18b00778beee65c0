/**
 * The `$batch` request of the Dataverse client: reads, then one changeset of writes that Dataverse
 * applies all-or-nothing, in one HTTP call. This module builds the multipart/mixed body (each
 * operation with a Content-ID, writes with their If-Match / If-None-Match) and reads the multipart
 * answer back into one result per operation, with Dataverse's code and the Content-ID of the operation
 * that failed a changeset. It never sends anything itself (client.ts does, with its auth and retries)
 * and never decides what a failure means for the caller: a failed changeset is a result, not a throw.
 */
import { retryAfterMs } from '../errors/transient';
import { DataverseError } from './errors';
import { idFromEntityIdHeader, keySegment, type RecordKey } from './keys';
import { parseHttpResponse, splitMultipart, boundaryOf, type HttpAnswer } from './multipart';

/** Dataverse's limit on the operations in one batch. */
export const MAX_BATCH_OPERATIONS = 1000;

type Data = Record<string, unknown>;
type BatchRecord = Data & { '@odata.etag'?: string };

/** An earlier operation of the same changeset, by its Content-ID (sent as `$<contentId>`). */
export interface BatchRef {
  contentId: string;
}

interface WriteBase {
  entitySet: string;
  /** Defaults to the operation's position in the changeset, from 1. */
  contentId?: string;
  /** Ask for the written record back (with its new etag). */
  returnRepresentation?: boolean;
}

export type BatchWrite =
  /** With `id`: created with that id (PATCH + If-None-Match: *), failing if it exists. */
  | (WriteBase & { kind: 'create'; data: Data; id?: string })
  /** Updates an existing record; `ifMatch` defaults to '*' (must exist). */
  | (WriteBase & { kind: 'update'; key: RecordKey | BatchRef; data: Data; ifMatch?: string })
  | (WriteBase & { kind: 'upsert'; key: RecordKey; data: Data; mode?: 'upsert' | 'create' | 'update' })
  | (WriteBase & { kind: 'delete'; key: RecordKey | BatchRef; ifMatch?: string });

/** A record by key, or (without key) one page of a query. */
export interface BatchRead {
  entitySet: string;
  key?: RecordKey;
  select?: string[];
  filter?: string;
  orderBy?: string[];
  top?: number;
  /** Instance annotations to include (Prefer: odata.include-annotations). */
  annotations?: string;
}

export interface BatchRequest {
  /** Sent first, each on its own (outside the changeset). */
  reads?: BatchRead[];
  /** Sent after the reads, as one changeset: all of them apply or none. */
  changeset?: BatchWrite[];
  /** Prefer: odata.continue-on-error. Without it Dataverse stops at the first failure. */
  continueOnError?: boolean;
}

export interface BatchReadResult {
  /** False when an earlier failure stopped the batch before this read. */
  ran: boolean;
  status: number;
  record?: BatchRecord;
  records?: BatchRecord[];
  error?: DataverseError;
}

export interface BatchWriteResult {
  contentId: string;
  index: number;
  status: number;
  id?: string;
  etag?: string;
  record?: BatchRecord;
}

export interface BatchChangesetFailure {
  /** The Content-ID and position of the operation that failed, when Dataverse named it. */
  contentId?: string;
  index?: number;
  error: DataverseError;
}

export interface BatchChangesetResult {
  /** 'not-run': an earlier failure stopped the batch; nothing of the changeset was applied either way. */
  outcome: 'committed' | 'failed' | 'not-run';
  /** One per operation, in order, when committed. */
  operations: BatchWriteResult[];
  failure?: BatchChangesetFailure;
}

export interface BatchResult {
  /** The HTTP status of the $batch call: 200, or the first failure's status without continue-on-error. */
  status: number;
  reads: BatchReadResult[];
  changeset?: BatchChangesetResult;
}

/** One operation as a request line, headers and body. */
interface Outgoing {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: Data;
  contentId?: string;
}

function target(apiUrl: string, entitySet: string, key: RecordKey | BatchRef): string {
  if (typeof key === 'object' && 'contentId' in key && typeof key.contentId === 'string')
    return `$${key.contentId}`;
  return `${apiUrl}/${entitySet}${keySegment(key as RecordKey)}`;
}

function readRequest(apiUrl: string, read: BatchRead): Outgoing {
  const params: string[] = [];
  if (read.select?.length) params.push(`$select=${read.select.join(',')}`);
  if (read.key === undefined) {
    if (read.filter) params.push(`$filter=${encodeURIComponent(read.filter)}`);
    if (read.orderBy?.length) params.push(`$orderby=${encodeURIComponent(read.orderBy.join(','))}`);
    if (read.top !== undefined) params.push(`$top=${read.top}`);
  }
  const path =
    read.key === undefined ? `${apiUrl}/${read.entitySet}` : target(apiUrl, read.entitySet, read.key);
  return {
    method: 'GET',
    url: `${path}${params.length ? `?${params.join('&')}` : ''}`,
    headers: {
      Accept: 'application/json',
      ...(read.annotations ? { Prefer: `odata.include-annotations="${read.annotations}"` } : {}),
    },
  };
}

function writeRequest(apiUrl: string, write: BatchWrite, contentId: string): Outgoing {
  const headers: Record<string, string> = {};
  if (write.returnRepresentation) headers.Prefer = 'return=representation';
  switch (write.kind) {
    case 'create':
      if (write.id === undefined)
        return { method: 'POST', url: `${apiUrl}/${write.entitySet}`, headers, body: write.data, contentId };
      return {
        method: 'PATCH',
        url: target(apiUrl, write.entitySet, write.id),
        headers: { ...headers, 'If-None-Match': '*' },
        body: write.data,
        contentId,
      };
    case 'update':
      return {
        method: 'PATCH',
        url: target(apiUrl, write.entitySet, write.key),
        headers: { ...headers, 'If-Match': write.ifMatch ?? '*' },
        body: write.data,
        contentId,
      };
    case 'upsert':
      if (write.mode === 'create') headers['If-None-Match'] = '*';
      if (write.mode === 'update') headers['If-Match'] = '*';
      return {
        method: 'PATCH',
        url: target(apiUrl, write.entitySet, write.key),
        headers,
        body: write.data,
        contentId,
      };
    case 'delete':
      return {
        method: 'DELETE',
        url: target(apiUrl, write.entitySet, write.key),
        headers: write.ifMatch ? { 'If-Match': write.ifMatch } : {},
        contentId,
      };
  }
}

/** The Content-IDs of a changeset's operations: given ones kept, the rest numbered by position. */
export function contentIds(writes: BatchWrite[]): string[] {
  const ids = writes.map((w, i) => w.contentId ?? String(i + 1));
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) throw new TypeError(`Content-ID '${id}' is used by two operations of one changeset.`);
    seen.add(id);
  }
  return ids;
}

function part(lines: string[], operation: Outgoing): void {
  lines.push('Content-Type: application/http', 'Content-Transfer-Encoding: binary');
  if (operation.contentId !== undefined) lines.push(`Content-ID: ${operation.contentId}`);
  lines.push('', `${operation.method} ${operation.url} HTTP/1.1`);
  for (const [name, value] of Object.entries(operation.headers)) lines.push(`${name}: ${value}`);
  if (operation.body !== undefined) lines.push('Content-Type: application/json; type=entry');
  lines.push('', operation.body === undefined ? '' : JSON.stringify(operation.body));
}

/** The multipart/mixed body of a batch; `boundary` must be unique within it (a random id). */
export function buildBatchBody(apiUrl: string, boundary: string, request: BatchRequest): string {
  const lines: string[] = [];
  for (const read of request.reads ?? []) {
    lines.push(`--${boundary}`);
    part(lines, readRequest(apiUrl, read));
  }
  const writes = request.changeset ?? [];
  if (writes.length > 0) {
    const changeset = `changeset_${boundary.replace(/^batch_/, '')}`;
    const ids = contentIds(writes);
    lines.push(`--${boundary}`, `Content-Type: multipart/mixed; boundary=${changeset}`, '');
    writes.forEach((write, i) => {
      lines.push(`--${changeset}`);
      part(lines, writeRequest(apiUrl, write, ids[i]));
    });
    lines.push(`--${changeset}--`);
  }
  lines.push(`--${boundary}--`, '');
  return lines.join('\r\n');
}

export function operationCount(request: BatchRequest): number {
  return (request.reads?.length ?? 0) + (request.changeset?.length ?? 0);
}

/** One top-level part of the answer: a read's response, or a changeset's responses. */
interface BatchItem {
  single?: HttpAnswer;
  changeset?: HttpAnswer[];
}

function json(answer: HttpAnswer): BatchRecord | undefined {
  if (!answer.body.trim() || !/json/i.test(answer.headers.get('content-type') ?? '')) return undefined;
  return JSON.parse(answer.body) as BatchRecord;
}

function errorOf(answer: HttpAnswer, what: string): DataverseError {
  let body: { error?: { code?: string; message?: string } } = {};
  try {
    body = JSON.parse(answer.body) as typeof body;
  } catch {
    // not JSON: keep the text
  }
  const message = body.error?.message ?? (answer.body.trim() || 'no details');
  return new DataverseError(
    `${what} in $batch failed with ${answer.status}: ${message}`,
    answer.status,
    body.error?.code ?? `HTTP_${answer.status}`,
    answer.headers.get('req_id') ?? undefined,
    retryAfterMs(answer.headers.get('retry-after') ?? null, Date.now()),
    message,
  );
}

function readResult(answer: HttpAnswer | undefined, read: BatchRead): BatchReadResult {
  if (!answer) return { ran: false, status: 0 };
  if (answer.status >= 400)
    return { ran: true, status: answer.status, error: errorOf(answer, `GET ${read.entitySet}`) };
  const body = json(answer);
  if (read.key !== undefined) return { ran: true, status: answer.status, record: body };
  return { ran: true, status: answer.status, records: (body?.value as BatchRecord[] | undefined) ?? [] };
}

function writeResult(answer: HttpAnswer, index: number, contentId: string): BatchWriteResult {
  const record = json(answer);
  const etag = record?.['@odata.etag'] ?? answer.headers.get('etag') ?? undefined;
  return {
    contentId,
    index,
    status: answer.status,
    id: idFromEntityIdHeader(answer.headers.get('odata-entityid') ?? null),
    ...(etag !== undefined ? { etag } : {}),
    ...(record ? { record } : {}),
  };
}

function changesetResult(writes: BatchWrite[], item: BatchItem | undefined): BatchChangesetResult {
  const ids = contentIds(writes);
  // OData lets a service answer a failed changeset with one plain response instead of a nested
  // multipart: that is the changeset's failure (a 429 among them), not a changeset that never ran.
  const answers = item?.changeset ?? (item?.single && item.single.status >= 400 ? [item.single] : undefined);
  if (!answers) return { outcome: 'not-run', operations: [] };
  const failed = answers.find((a) => a.status >= 400);
  if (!failed && answers.length === writes.length) {
    return { outcome: 'committed', operations: answers.map((a, i) => writeResult(a, i, ids[i])) };
  }
  const answer = failed ?? answers[0];
  const contentId = answer?.contentId;
  const index = contentId === undefined ? -1 : ids.indexOf(contentId);
  const write = index >= 0 ? writes[index] : undefined;
  const error = answer
    ? errorOf(answer, write ? `${write.kind} ${write.entitySet} (Content-ID ${contentId})` : 'changeset')
    : new DataverseError('The changeset was answered without any response.', 0, 'BATCH_ANSWER_INVALID');
  return {
    outcome: 'failed',
    operations: [],
    failure: { ...(index >= 0 ? { contentId, index } : {}), error },
  };
}

/** Maps a batch answer back onto the request: reads in order, then the changeset. */
export function readBatchResult(
  request: BatchRequest,
  contentType: string | null,
  text: string,
  status: number,
): BatchResult {
  const boundary = boundaryOf(contentType ?? '');
  if (!boundary)
    throw new DataverseError(
      `$batch answered ${status} without a multipart body.`,
      status,
      'BATCH_ANSWER_INVALID',
    );
  const items = splitMultipart(text, boundary).map((p): BatchItem => {
    const inner = boundaryOf(p.headers.get('content-type') ?? '');
    return inner
      ? { changeset: splitMultipart(p.lines, inner).map(parseHttpResponse) }
      : { single: parseHttpResponse(p) };
  });
  const reads = (request.reads ?? []).map((read, i) => readResult(items[i]?.single, read));
  const result: BatchResult = { status, reads };
  if (request.changeset?.length) result.changeset = changesetResult(request.changeset, items[reads.length]);
  return result;
}

/**
 * The longest Retry-After that a part of the answer throttled with (429), or undefined when none did.
 * Service protection counts per app user, so a throttled part means the user's other requests are
 * throttled too: the client holds them all back for this long, as it does after a 429 for a whole call.
 */
export function partThrottleMs(result: BatchResult): number | undefined {
  const errors = [...result.reads.map((r) => r.error), result.changeset?.failure?.error];
  let longest: number | undefined;
  for (const error of errors)
    if (error?.statusCode === 429 && error.retryAfterMs !== undefined)
      longest = Math.max(longest ?? 0, error.retryAfterMs);
  return longest;
}
