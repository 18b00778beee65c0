/**
 * The Durable extension's HTTP API: the management webhooks under /runtime/webhooks/durabletask
 * whose URLs `createCheckStatusResponse` hands out, and the same routes under the rpc base URL
 * that `DurableClient` calls. Status codes and bodies follow the extension. Transport-agnostic: it
 * takes a parsed request and returns a response; it never touches sockets.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { Engine, EngineError } from './engine';
import { statusJson } from './statusJson';
import { InvalidContinuationError, RuntimeStatus, isTerminal } from './backend';

export interface ApiRequest {
  method: string;
  /** Path below the API prefix, without a leading slash, still URL-encoded. */
  path: string;
  query: URLSearchParams;
  contentType: string | undefined;
  /** The x-ms-continuation-token request header, for paged queries. */
  continuationToken?: string;
  body: Buffer;
  /** The absolute URL of the request, for Location headers. */
  url: string;
}

export interface ApiResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface DurableUrls {
  /** `<origin>/runtime/webhooks/durabletask` as clients should see it. */
  webhookBase: string;
  /** Query string the management URLs carry (taskHub, connection, code); no leading '?'. */
  managementQuery: string;
  /** Query string the creation URLs carry (code); may be empty. */
  creationQuery: string;
}

const RUNTIME_STATUSES: readonly RuntimeStatus[] = [
  'Pending',
  'Running',
  'Completed',
  'ContinuedAsNew',
  'Failed',
  'Canceled',
  'Terminated',
  'Suspended',
];

export function managementUrls(urls: DurableUrls, instanceId: string): Record<string, string> {
  const i = `${urls.webhookBase}/instances/${encodeURIComponent(instanceId)}`;
  const m = urls.managementQuery;
  return {
    id: instanceId,
    statusQueryGetUri: `${i}?${m}`,
    sendEventPostUri: `${i}/raiseEvent/{eventName}?${m}`,
    terminatePostUri: `${i}/terminate?reason={text}&${m}`,
    rewindPostUri: `${i}/rewind?reason={text}&${m}`,
    purgeHistoryDeleteUri: `${i}?${m}`,
    restartPostUri: `${i}/restart?${m}`,
    suspendPostUri: `${i}/suspend?reason={text}&${m}`,
    resumePostUri: `${i}/resume?reason={text}&${m}`,
  };
}

/** The `durableClient` input binding value, as the extension passes it to a function. */
export function clientBindingValue(
  urls: DurableUrls,
  hubName: string,
  rpcBaseUrl: string,
): Record<string, unknown> {
  const b = urls.webhookBase;
  const q = urls.creationQuery ? `?${urls.creationQuery}` : '';
  const amp = urls.creationQuery ? `&${urls.creationQuery}` : '';
  const mgmt = managementUrls(urls, 'INSTANCEID');
  return {
    taskHubName: hubName,
    creationUrls: {
      createNewInstancePostUri: `${b}/orchestrators/{functionName}[/{instanceId}]${q}`,
      createAndWaitOnNewInstancePostUri: `${b}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}${amp}`,
    },
    managementUrls: { ...mgmt, id: 'INSTANCEID' },
    baseUrl: b,
    requiredQueryStringParameters: urls.creationQuery,
    rpcBaseUrl,
    connectionName: null,
    httpBaseUrl: null,
  };
}

function error(status: number, code: string, message: string): ApiResponse {
  return { status, body: { code, message, Message: message } };
}

function fromEngineError(err: unknown): ApiResponse {
  if (err instanceof InvalidContinuationError) return error(400, err.code, err.message);
  if (err instanceof EngineError) {
    const status = { NOT_FOUND: 404, CONFLICT: 409, GONE: 410, BAD_REQUEST: 400, PRECONDITION_FAILED: 412 }[
      err.code
    ];
    return error(status, err.code, err.message);
  }
  throw err;
}

function parseBody(
  req: ApiRequest,
): { ok: true; value: string | null } | { ok: false; response: ApiResponse } {
  if (req.body.length === 0) return { ok: true, value: null };
  const text = req.body.toString('utf8');
  try {
    JSON.parse(text);
    return { ok: true, value: text };
  } catch {
    return { ok: false, response: error(400, 'INVALID_JSON', 'The request body is not valid JSON.') };
  }
}

function parseTime(value: string | null, name: string): number | undefined {
  if (value === null || value === '') return undefined;
  const t = Date.parse(value);
  if (Number.isNaN(t))
    throw new EngineError('BAD_REQUEST', `${name} is not a valid date and time: '${value}'.`);
  return t;
}

function parseStatuses(value: string | null): RuntimeStatus[] | undefined {
  if (!value) return undefined;
  const out: RuntimeStatus[] = [];
  for (const raw of value.split(',')) {
    const s = RUNTIME_STATUSES.find((r) => r.toLowerCase() === raw.trim().toLowerCase());
    if (!s)
      throw new EngineError(
        'BAD_REQUEST',
        `Unknown runtimeStatus '${raw}'. Use one of ${RUNTIME_STATUSES.join(', ')}.`,
      );
    out.push(s);
  }
  return out;
}

function flag(query: URLSearchParams, name: string): boolean {
  return (query.get(name) ?? '').toLowerCase() === 'true';
}

export class DurableApi {
  constructor(private readonly engine: Engine) {}

  async handle(req: ApiRequest, urls: DurableUrls): Promise<ApiResponse> {
    const segments = req.path
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
    const method = req.method.toUpperCase();
    try {
      const [head, a, b, c] = segments;
      if (head === 'orchestrators' && a && method === 'POST' && segments.length <= 3) {
        return await this.start(req, urls, a, b);
      }
      if (head === 'instances') {
        if (!a) {
          if (method === 'GET') return this.query(req);
          if (method === 'DELETE') return this.purgeWhere(req);
        } else if (segments.length === 2) {
          if (method === 'GET') return this.status(req, a);
          if (method === 'DELETE') return this.purge(a);
        } else if (method === 'POST') {
          return await this.instanceOperation(req, urls, a, b, c);
        }
      }
      if (head === 'entities' && a && b === undefined && method === 'GET') return this.listEntities(a);
      if (head === 'entities' && a) return this.entity(req, method, a, b ?? '');
      return error(404, 'NOT_FOUND', `No Durable API route matches ${method} /${segments.join('/')}.`);
    } catch (err) {
      return fromEngineError(err);
    }
  }

  private checkStatus(urls: DurableUrls, instanceId: string): ApiResponse {
    const all = managementUrls(urls, instanceId);
    const body = {
      id: instanceId,
      statusQueryGetUri: all.statusQueryGetUri,
      sendEventPostUri: all.sendEventPostUri,
      terminatePostUri: all.terminatePostUri,
      purgeHistoryDeleteUri: all.purgeHistoryDeleteUri,
      restartPostUri: all.restartPostUri,
      suspendPostUri: all.suspendPostUri,
      resumePostUri: all.resumePostUri,
    };
    return { status: 202, headers: { Location: all.statusQueryGetUri, 'Retry-After': '10' }, body };
  }

  private async start(
    req: ApiRequest,
    urls: DurableUrls,
    name: string,
    instanceId?: string,
  ): Promise<ApiResponse> {
    const input = parseBody(req);
    if (!input.ok) return input.response;
    const row = await this.engine.startNewGrouped(
      name,
      instanceId,
      input.value,
      req.query.get('version') ?? undefined,
    );
    const timeout = Number(req.query.get('timeout'));
    const interval = Number(req.query.get('pollingInterval'));
    if (timeout > 0 && interval > 0) {
      const deadline = Date.now() + timeout * 1000;
      while (Date.now() < deadline) {
        const current = this.engine.store.getInstance(row.instanceId);
        if (current?.status === 'Completed')
          return { status: 200, body: JSON.parse(current.output ?? 'null') };
        if (current && isTerminal(current.status))
          return { status: 200, body: statusJson(current, undefined) };
        await delay(Math.min(interval * 1000, Math.max(0, deadline - Date.now())));
      }
    }
    return this.checkStatus(urls, row.instanceId);
  }

  private status(req: ApiRequest, instanceId: string): ApiResponse {
    const row = this.engine.store.getInstance(instanceId);
    if (!row) return error(404, 'NOT_FOUND', `No instance with ID '${instanceId}' was found.`);
    const showHistory = flag(req.query, 'showHistory');
    const body = statusJson(row, showHistory ? this.engine.store.history(instanceId) : undefined, {
      showHistory,
      showHistoryOutput: flag(req.query, 'showHistoryOutput'),
      showInput: req.query.get('showInput') === null ? true : flag(req.query, 'showInput'),
    });
    if (isTerminal(row.status)) {
      const failedAs500 = row.status === 'Failed' && flag(req.query, 'returnInternalServerErrorOnFailure');
      return { status: failedAs500 ? 500 : 200, body };
    }
    return { status: 202, headers: { Location: req.url, 'Retry-After': '5' }, body };
  }

  /**
   * One page of the instance listing, read from the store as one bounded query. The extension leaves
   * the order to its storage provider; this host answers newest first, as an operator reads a list.
   */
  private query(req: ApiRequest): ApiResponse {
    const q = req.query;
    const top = Number(q.get('top') ?? '0');
    const page = this.engine.store.queryInstances({
      createdFrom: parseTime(q.get('createdTimeFrom'), 'createdTimeFrom'),
      createdTo: parseTime(q.get('createdTimeTo'), 'createdTimeTo'),
      statuses: parseStatuses(q.get('runtimeStatus')),
      instanceIdPrefix: q.get('instanceIdPrefix') ?? undefined,
      top: Number.isFinite(top) && top > 0 ? top : 100,
      newestFirst: true,
      continuation: req.continuationToken ?? q.get('continuationToken') ?? undefined,
    });
    // The extension's list shows inputs unless told not to (OrchestrationStatusQueryCondition.ShowInput = true).
    const showInput = q.get('showInput') === null ? true : flag(q, 'showInput');
    const body = page.rows.map((row) => statusJson(row, undefined, { showInput }));
    return {
      status: 200,
      headers: page.continuation ? { 'x-ms-continuation-token': page.continuation } : {},
      body,
    };
  }

  private purge(instanceId: string): ApiResponse {
    const deleted = this.engine.purge(instanceId);
    if (deleted === 0) return error(404, 'NOT_FOUND', `No instance with ID '${instanceId}' was found.`);
    return { status: 200, body: { instancesDeleted: deleted } };
  }

  private purgeWhere(req: ApiRequest): ApiResponse {
    const createdFrom = parseTime(req.query.get('createdTimeFrom'), 'createdTimeFrom');
    if (createdFrom === undefined)
      return error(400, 'BAD_REQUEST', 'createdTimeFrom is required to purge by filter.');
    const deleted = this.engine.purgeWhere({
      createdFrom,
      createdTo: parseTime(req.query.get('createdTimeTo'), 'createdTimeTo'),
      statuses: parseStatuses(req.query.get('runtimeStatus')),
    });
    if (deleted === 0) return error(404, 'NOT_FOUND', 'No instances matched the filter.');
    return { status: 200, body: { instancesDeleted: deleted } };
  }

  private async instanceOperation(
    req: ApiRequest,
    urls: DurableUrls,
    instanceId: string,
    operation: string | undefined,
    eventName: string | undefined,
  ): Promise<ApiResponse> {
    const reason = req.query.get('reason') ?? '';
    switch (operation) {
      case 'raiseEvent': {
        if (!eventName) return error(400, 'BAD_REQUEST', 'An event name is required.');
        if (req.body.length > 0 && req.contentType && !/json/i.test(req.contentType)) {
          return error(400, 'UNSUPPORTED_CONTENT_TYPE', 'Event data must be sent as application/json.');
        }
        const body = parseBody(req);
        if (!body.ok) return body.response;
        this.engine.raiseEvent(instanceId, eventName, body.value);
        return { status: 202 };
      }
      case 'terminate':
        this.engine.terminate(instanceId, reason);
        return { status: 202 };
      case 'suspend':
        this.engine.suspend(instanceId, reason);
        return { status: 202 };
      case 'resume':
        this.engine.resume(instanceId, reason);
        return { status: 202 };
      case 'rewind':
        this.engine.rewind(instanceId, reason);
        return { status: 202 };
      case 'restart': {
        const row = this.engine.store.getInstance(instanceId);
        if (!row) return error(404, 'NOT_FOUND', `No instance with ID '${instanceId}' was found.`);
        const newId =
          flag(req.query, 'restartWithNewInstanceId') || req.query.get('restartWithNewInstanceId') === null
            ? undefined
            : instanceId;
        const started = this.engine.startNew(row.name, newId, row.input, row.version ?? undefined);
        return this.checkStatus(urls, started.instanceId);
      }
      default:
        return error(404, 'NOT_FOUND', `Unknown instance operation '${operation ?? ''}'.`);
    }
  }

  /** `GET entities/{name}`: every existing entity of that name with its state, as the extension lists them. */
  private listEntities(name: string): ApiResponse {
    const body = this.engine.store.entitiesNamed(name.toLowerCase()).map((e) => ({
      entityId: { name: name.toLowerCase(), key: e.entityId.slice(name.length + 2) },
      state: e.state === null ? null : JSON.parse(e.state),
    }));
    return { status: 200, body };
  }

  private entity(req: ApiRequest, method: string, name: string, rawKey: string): ApiResponse {
    const key = rawKey === '$' ? '' : rawKey;
    if (method === 'GET') {
      const state = this.engine.readEntityState(name, key);
      if (!state.exists) return error(404, 'NOT_FOUND', `Entity @${name}@${key} does not exist.`);
      return { status: 200, body: state.state };
    }
    if (method === 'POST' || method === 'DELETE') {
      const op = method === 'DELETE' ? 'delete' : (req.query.get('op') ?? '');
      let input: string | null = null;
      if (req.body.length > 0) {
        const text = req.body.toString('utf8');
        input = req.contentType && /json/i.test(req.contentType) ? text : JSON.stringify(text);
        if (req.contentType && /json/i.test(req.contentType)) {
          try {
            JSON.parse(text);
          } catch {
            return error(400, 'INVALID_JSON', 'The request body is not valid JSON.');
          }
        }
      }
      this.engine.signalEntity(name, key, op, input);
      return { status: 202 };
    }
    return error(405, 'METHOD_NOT_ALLOWED', `${method} is not supported on entities.`);
  }
}
