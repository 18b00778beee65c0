/**
 * A Dataverse Web API (v9.2) client in the Azure SDK style: built from an environment URL and a
 * TokenCredential, every call takes an options bag with an abort signal, failures are typed
 * DataverseErrors with Dataverse's code, transient failures (429, 502/503/504, timeouts, dropped
 * connections) are retried a few times honouring Retry-After and then reported as transient (see
 * DataverseError.transient) for a caller that can wait longer, and queries are async iterators that
 * can also page. Requests are paced by the app user's request budget when given one (pacing.ts); a
 * 429 asking for a long pause is reported at once as transient instead of slept through. It never
 * reads process.env: configuration is passed in, so it cannot tell a simulator from a real environment.
 */
import type { TokenCredential } from '@azure/core-auth';
import { recordDependency } from '../telemetry';
import { isTransientStatus, retryAfterMs } from '../errors/transient';
import {
  buildBatchBody,
  MAX_BATCH_OPERATIONS,
  operationCount,
  partThrottleMs,
  readBatchResult,
  type BatchRequest,
  type BatchResult,
} from './batch';
import { DataverseError } from './errors';
import { RecordKey, idFromEntityIdHeader, keySegment } from './keys';
import { delay } from './delay';
import type { RequestPacer } from './pacing';

export { retryAfterMs };

export type DataverseRecord = Record<string, unknown> & { '@odata.etag'?: string };

export interface DataverseClientOptions {
  apiVersion?: string;
  /** Attempts after the first for transient answers (429, 502/503/504, 408) and dropped connections. */
  maxRetries?: number;
  /** Longest wait honoured between attempts, whatever Retry-After says. */
  maxRetryDelayMs?: number;
  /** For tests and custom transports; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Sent as `x-ms-correlation-request-id`, e.g. an orchestration instance id. */
  correlationId?: string;
  /** The app user's request budget (pacing.ts), shared by every client of that user; none: unpaced. */
  pacer?: RequestPacer;
  /**
   * A 429 whose Retry-After asks for longer than this is not waited out in place: it fails at once
   * as transient, so a saga step waits on a durable timer instead of holding a worker. Default 1 s.
   */
  maxInlineThrottleWaitMs?: number;
}

export interface CallOptions {
  abortSignal?: AbortSignal;
}

export interface WriteOptions extends CallOptions {
  /** An etag the record must still carry, or '*' for "must exist". */
  ifMatch?: string;
  /** Ask for the written record back (with its new etag). */
  returnRepresentation?: boolean;
}

export interface CreateOptions extends CallOptions {
  returnRepresentation?: boolean;
}

export interface UpsertOptions extends CallOptions {
  /** 'upsert' (default) creates or updates; 'create' fails if it exists; 'update' fails if it does not. */
  mode?: 'upsert' | 'create' | 'update';
  returnRepresentation?: boolean;
}

export interface RetrieveOptions extends CallOptions {
  select?: string[];
  /** Instance annotations to include (Prefer: odata.include-annotations), e.g. lookups' target tables. */
  annotations?: string;
}

export interface QueryOptions extends CallOptions {
  select?: string[];
  filter?: string;
  orderBy?: string[];
  top?: number;
  /** Records per page (Prefer: odata.maxpagesize). */
  pageSize?: number;
  count?: boolean;
}

export interface TableDefinition {
  LogicalName: string;
  EntitySetName: string;
  PrimaryIdAttribute: string;
  PrimaryNameAttribute?: string;
}

export interface WriteResult {
  id?: string;
  etag?: string;
  record?: DataverseRecord;
}

export interface Page {
  records: DataverseRecord[];
  count?: number;
  nextLink?: string;
}

export interface PagedIterator<T> extends AsyncIterableIterator<T> {
  byPage(): AsyncIterableIterator<Page>;
}

interface ErrorBody {
  error?: { code?: string; message?: string };
}

export class DataverseClient {
  readonly apiUrl: string;
  private readonly scope: string;
  private readonly options: Required<Omit<DataverseClientOptions, 'correlationId' | 'fetch' | 'pacer'>> &
    Pick<DataverseClientOptions, 'correlationId' | 'pacer'>;
  private readonly fetchImpl: typeof fetch;

  constructor(
    readonly environmentUrl: string,
    private readonly credential: TokenCredential,
    options: DataverseClientOptions = {},
  ) {
    const base = environmentUrl.replace(/\/+$/, '');
    this.apiUrl = `${base}/api/data/${options.apiVersion ?? 'v9.2'}`;
    this.scope = `${base}/.default`;
    this.options = {
      apiVersion: options.apiVersion ?? 'v9.2',
      maxRetries: options.maxRetries ?? 4,
      maxRetryDelayMs: options.maxRetryDelayMs ?? 30_000,
      correlationId: options.correlationId,
      pacer: options.pacer,
      maxInlineThrottleWaitMs: options.maxInlineThrottleWaitMs ?? 1000,
    };
    this.fetchImpl = options.fetch ?? fetch;
  }

  async create(
    entitySet: string,
    data: Record<string, unknown>,
    options: CreateOptions = {},
  ): Promise<WriteResult> {
    const res = await this.send('POST', `/${entitySet}`, {
      body: data,
      headers: options.returnRepresentation ? { Prefer: 'return=representation' } : {},
      abortSignal: options.abortSignal,
    });
    return this.writeResult(res);
  }

  async retrieve(entitySet: string, key: RecordKey, options: RetrieveOptions = {}): Promise<DataverseRecord> {
    const query = options.select?.length ? `?$select=${options.select.join(',')}` : '';
    const res = await this.send('GET', `/${entitySet}${keySegment(key)}${query}`, {
      headers: options.annotations ? { Prefer: `odata.include-annotations="${options.annotations}"` } : {},
      abortSignal: options.abortSignal,
    });
    return (await res.json()) as DataverseRecord;
  }

  /** Like retrieve, but undefined when the record does not exist. */
  async tryRetrieve(
    entitySet: string,
    key: RecordKey,
    options: RetrieveOptions = {},
  ): Promise<DataverseRecord | undefined> {
    try {
      return await this.retrieve(entitySet, key, options);
    } catch (err) {
      if (err instanceof DataverseError && err.isNotFound) return undefined;
      throw err;
    }
  }

  /** Updates an existing record (never creates one). */
  async update(
    entitySet: string,
    key: RecordKey,
    data: Record<string, unknown>,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    const res = await this.send('PATCH', `/${entitySet}${keySegment(key)}`, {
      body: data,
      headers: {
        'If-Match': options.ifMatch ?? '*',
        ...(options.returnRepresentation ? { Prefer: 'return=representation' } : {}),
      },
      abortSignal: options.abortSignal,
    });
    return this.writeResult(res);
  }

  async upsert(
    entitySet: string,
    key: RecordKey,
    data: Record<string, unknown>,
    options: UpsertOptions = {},
  ): Promise<WriteResult> {
    const headers: Record<string, string> = {};
    if (options.mode === 'create') headers['If-None-Match'] = '*';
    if (options.mode === 'update') headers['If-Match'] = '*';
    if (options.returnRepresentation) headers.Prefer = 'return=representation';
    const res = await this.send('PATCH', `/${entitySet}${keySegment(key)}`, {
      body: data,
      headers,
      abortSignal: options.abortSignal,
    });
    return this.writeResult(res);
  }

  async delete(entitySet: string, key: RecordKey, options: WriteOptions = {}): Promise<void> {
    await this.send('DELETE', `/${entitySet}${keySegment(key)}`, {
      headers: options.ifMatch ? { 'If-Match': options.ifMatch } : {},
      abortSignal: options.abortSignal,
    });
  }

  async whoAmI(
    options: CallOptions = {},
  ): Promise<{ UserId: string; BusinessUnitId: string; OrganizationId: string }> {
    const res = await this.send('GET', '/WhoAmI', { abortSignal: options.abortSignal });
    return (await res.json()) as { UserId: string; BusinessUnitId: string; OrganizationId: string };
  }

  /** A table's names and primary attributes, by entity set name; undefined if there is no such table. */
  async tableDefinition(entitySet: string, options: CallOptions = {}): Promise<TableDefinition | undefined> {
    const filter = encodeURIComponent(`EntitySetName eq '${entitySet.replace(/'/g, "''")}'`);
    const res = await this.send(
      'GET',
      `/EntityDefinitions?$select=LogicalName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute&$filter=${filter}`,
      { abortSignal: options.abortSignal },
    );
    const body = (await res.json()) as { value: TableDefinition[] };
    return body.value[0];
  }

  /**
   * Reads, then one all-or-nothing changeset, in a single `$batch` call (see batch.ts). The call as a
   * whole is authenticated and retried like any other (a 429 or 503 for the batch is transient); a
   * failed read or changeset is a result with Dataverse's code and the failing Content-ID, not a throw.
   * A part answered 429 with Retry-After holds the pacer like a throttled call (see partThrottleMs).
   */
  async executeBatch(request: BatchRequest, options: CallOptions = {}): Promise<BatchResult> {
    const count = operationCount(request);
    if (count === 0) throw new TypeError('A batch needs at least one read or write.');
    if (count > MAX_BATCH_OPERATIONS) {
      throw new DataverseError(
        `A batch can hold at most ${MAX_BATCH_OPERATIONS} operations; this one has ${count}.`,
        400,
        'BATCH_TOO_LARGE',
      );
    }
    const boundary = `batch_${crypto.randomUUID()}`;
    const res = await this.send('POST', '/$batch', {
      raw: {
        text: buildBatchBody(this.apiUrl, boundary, request),
        contentType: `multipart/mixed; boundary=${boundary}`,
      },
      headers: request.continueOnError ? { Prefer: 'odata.continue-on-error' } : {},
      abortSignal: options.abortSignal,
      // Without continue-on-error a failed part gives the batch its status; the parts still answer.
      accept: (answer) => /^multipart\/mixed/i.test(answer.headers.get('Content-Type') ?? ''),
    });
    const result = readBatchResult(request, res.headers.get('Content-Type'), await res.text(), res.status);
    // A part throttled by service protection holds back this user's other requests, as a throttled
    // call does; the part itself stays a result, transient by its 429.
    const throttled = partThrottleMs(result);
    if (throttled !== undefined) this.options.pacer?.throttledFor(throttled);
    return result;
  }

  /**
   * A read of table metadata: `path` is under /EntityDefinitions (with its query options). The answer
   * is the parsed JSON, unchecked: the caller validates the shape it asked for (see metadata.ts).
   */
  async readMetadata(path: string, options: CallOptions = {}): Promise<unknown> {
    if (!path.startsWith('/EntityDefinitions'))
      throw new TypeError(`'${path}' is not a metadata path (/EntityDefinitions…).`);
    const res = await this.send('GET', path, { abortSignal: options.abortSignal });
    return res.json();
  }

  /** All matching records, fetched page by page as they are consumed. */
  query(entitySet: string, options: QueryOptions = {}): PagedIterator<DataverseRecord> {
    const pages = (): AsyncIterableIterator<Page> => this.pages(entitySet, options);
    async function* records(): AsyncIterableIterator<DataverseRecord> {
      for await (const page of pages()) yield* page.records;
    }
    const iterator = records() as PagedIterator<DataverseRecord>;
    iterator.byPage = pages;
    return iterator;
  }

  private async *pages(entitySet: string, options: QueryOptions): AsyncIterableIterator<Page> {
    const params: string[] = [];
    if (options.select?.length) params.push(`$select=${options.select.join(',')}`);
    if (options.filter) params.push(`$filter=${encodeURIComponent(options.filter)}`);
    if (options.orderBy?.length) params.push(`$orderby=${encodeURIComponent(options.orderBy.join(','))}`);
    if (options.top !== undefined) params.push(`$top=${options.top}`);
    if (options.count) params.push('$count=true');
    const headers: Record<string, string> = options.pageSize
      ? { Prefer: `odata.maxpagesize=${options.pageSize}` }
      : {};
    let next: string | undefined =
      `${this.apiUrl}/${entitySet}${params.length ? `?${params.join('&')}` : ''}`;
    while (next) {
      const res = await this.send('GET', next, { headers, abortSignal: options.abortSignal });
      const body = (await res.json()) as {
        value: DataverseRecord[];
        '@odata.nextLink'?: string;
        '@odata.count'?: number;
      };
      next = body['@odata.nextLink'];
      yield { records: body.value, count: body['@odata.count'], nextLink: next };
    }
  }

  private async writeResult(res: Response): Promise<WriteResult> {
    const etag = res.headers.get('ETag') ?? undefined;
    const id = idFromEntityIdHeader(res.headers.get('OData-EntityId'));
    if (res.status === 204) return { id, etag };
    const text = await res.text();
    const record = text ? (JSON.parse(text) as DataverseRecord) : undefined;
    return { id, etag: record?.['@odata.etag'] ?? etag, record };
  }

  /** One call with authentication, bounded retries for throttling and typed errors. */
  private async send(
    method: string,
    pathOrUrl: string,
    init: {
      body?: unknown;
      /** A body sent as is (a $batch), instead of `body` as JSON. */
      raw?: { text: string; contentType: string };
      headers?: Record<string, string>;
      abortSignal?: AbortSignal;
      /** A non-2xx answer to hand back instead of retrying or throwing (a $batch's multipart answer). */
      accept?: (res: Response) => boolean;
    },
  ): Promise<Response> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.apiUrl}${pathOrUrl}`;
    for (let attempt = 0; ; attempt++) {
      await this.options.pacer?.take(init.abortSignal);
      const token = await this.credential.getToken(this.scope, { abortSignal: init.abortSignal });
      if (!token) throw new DataverseError('The credential returned no token.', 401, 'NO_TOKEN');
      const headers: Record<string, string> = {
        Authorization: `Bearer ${token.token}`,
        Accept: 'application/json',
        'OData-MaxVersion': '4.0',
        'OData-Version': '4.0',
        ...(this.options.correlationId ? { 'x-ms-correlation-request-id': this.options.correlationId } : {}),
        ...init.headers,
      };
      if (init.body !== undefined) headers['Content-Type'] = 'application/json; charset=utf-8';
      if (init.raw) headers['Content-Type'] = init.raw.contentType;
      let res: Response;
      const started = performance.now();
      try {
        res = await this.fetchImpl(url, {
          method,
          headers,
          body: init.raw ? init.raw.text : init.body === undefined ? undefined : JSON.stringify(init.body),
          signal: init.abortSignal,
        });
        recordDependency({
          service: 'Dataverse',
          method,
          url,
          durationMs: performance.now() - started,
          status: res.status,
          success: res.ok,
        });
      } catch (err) {
        recordDependency({
          service: 'Dataverse',
          method,
          url,
          durationMs: performance.now() - started,
          status: 0,
          success: false,
        });
        if (init.abortSignal?.aborted) throw err;
        if (attempt < this.options.maxRetries) {
          await delay(this.backoff(attempt), init.abortSignal);
          continue;
        }
        throw new DataverseError(
          `Dataverse could not be reached: ${(err as Error).message}`,
          0,
          'NETWORK_ERROR',
        );
      }
      if (res.ok || init.accept?.(res)) return res;
      const retryAfter = retryAfterMs(res.headers.get('Retry-After'), Date.now());
      // Service protection asked for a long pause: every request of this user holds back, and this
      // call reports the throttling now (transient) instead of sleeping in a worker.
      const longThrottle =
        res.status === 429 && retryAfter !== undefined && retryAfter > this.options.maxInlineThrottleWaitMs;
      if (longThrottle) this.options.pacer?.throttledFor(retryAfter);
      if (isTransientStatus(res.status) && attempt < this.options.maxRetries && !longThrottle) {
        const wait = retryAfter ?? this.backoff(attempt);
        await res.body?.cancel();
        await delay(Math.min(wait, this.options.maxRetryDelayMs), init.abortSignal);
        continue;
      }
      throw await toError(res, method, url, retryAfter);
    }
  }

  private backoff(attempt: number): number {
    return Math.min(500 * 2 ** attempt, this.options.maxRetryDelayMs);
  }
}

async function toError(
  res: Response,
  method: string,
  url: string,
  retryAfter: number | undefined,
): Promise<DataverseError> {
  const text = await res.text();
  let body: ErrorBody = {};
  try {
    body = JSON.parse(text) as ErrorBody;
  } catch {
    // not JSON: keep the text
  }
  const message = body.error?.message ?? (text || res.statusText);
  const requestId = res.headers.get('x-ms-service-request-id') ?? res.headers.get('REQ_ID') ?? undefined;
  return new DataverseError(
    `${method} ${new URL(url).pathname} failed with ${res.status}: ${message}`,
    res.status,
    body.error?.code ?? `HTTP_${res.status}`,
    requestId,
    retryAfter,
  );
}
