/**
 * POST /api/webhooks/dataverse: the endpoint a Dataverse service endpoint (webhook) calls with the
 * RemoteExecutionContext of a change. It checks the secret registered on the service endpoint (a
 * header, the webhook key or a query string parameter) in constant time, validates the payload,
 * routes (message, table) to an orchestration (WEBHOOK_ROUTES, or the `webhookRoutes` key of the
 * versioned app configuration when set), and starts it under an instance id derived from the
 * event, so Dataverse's retry and duplicate deliveries of one change start exactly one instance.
 * Changes made by the app's own identity, and deep plugin chains, are acknowledged and ignored (the
 * loop guard). It answers fast: it never waits for the orchestration, and never logs the secret or
 * the payload's field values. Each delivery is recorded as a WebhookDelivery telemetry event with its
 * outcome: accepted, duplicate, ignored or refused.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { services } from '../lib/config/services';
import type { AppSettings } from '../lib/config/settings';
import { findInstance, runsOrchestration } from '../lib/api/durable';
import { ApiError, answering } from '../lib/api/errors';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../lib/api/request';
import { webhookInstanceId } from '../lib/instanceIds';
import { recordEvent } from '../lib/telemetry';

/** A change as the flows see it: what happened to which record, and who did it. */
export interface DataverseEvent {
  message: string;
  table: string;
  id: string;
  requestId?: string;
  operationId: string;
  correlationId: string;
  userId: string;
  initiatingUserId: string;
  depth: number;
  /** When Dataverse recorded the operation (ISO 8601). */
  at?: string;
  /** The Target's columns (option sets as numbers, lookups as { id, table }, dates as ISO strings). */
  target: Record<string, unknown>;
  /** Columns of the registered pre-image, when there is one. */
  preImage?: Record<string, unknown>;
}

/** What an orchestration started by a webhook receives. */
export interface WebhookInput {
  event: DataverseEvent;
  timeZone: string;
}

export interface WebhookRoute {
  message: string;
  table: string;
  orchestration: string;
  /** For Update: start only when the change touches one of these columns. */
  whenChanged?: string[];
}

/** Which change starts which flow, unless the app configuration's `webhookRoutes` says otherwise. */
export const WEBHOOK_ROUTES: WebhookRoute[] = [
  { message: 'Create', table: 'contact', orchestration: 'clientOnboarding' },
  { message: 'Create', table: 'lc_session', orchestration: 'sessionConfirmation' },
  {
    message: 'Update',
    table: 'lc_session',
    orchestration: 'sessionConfirmation',
    whenChanged: ['lc_starttime', 'lc_endtime', 'lc_location'],
  },
];

/** Deeper than this, a change was made by a chain of plugins or flows reacting to each other. */
export const MAX_DEPTH = 2;

export class WebhookPayloadError extends Error {
  readonly code = 'INVALID_WEBHOOK_PAYLOAD';
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Compares secrets in constant time (hashing first, so different lengths leak nothing either). */
export function secretMatches(given: string | null | undefined, expected: string): boolean {
  const a = createHash('sha256')
    .update(given ?? '')
    .digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given !== null && given !== undefined;
}

export function authorized(
  request: Pick<HttpRequest, 'headers' | 'query'>,
  auth: NonNullable<AppSettings['webhookAuth']>,
): boolean {
  const presented =
    auth.kind === 'HttpHeader' ? request.headers.get(auth.name) : request.query.get(auth.name);
  return secretMatches(presented, auth.value);
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A data contract value as plain JSON: /Date(ms)/ → ISO, OptionSetValue/Money → number, EntityReference → { id, table }. */
function plainValue(value: unknown): unknown {
  if (typeof value === 'string') {
    const date = /^\/Date\((-?\d+)(?:[+-]\d{4})?\)\/$/.exec(value);
    return date ? new Date(Number(date[1])).toISOString() : value;
  }
  if (isObject(value)) {
    const type = typeof value.__type === 'string' ? value.__type : '';
    if (type.startsWith('OptionSetValue') || type.startsWith('Money')) return value.Value;
    if (type.startsWith('EntityReference')) return { id: value.Id, table: value.LogicalName };
  }
  return value;
}

function attributesOf(entity: unknown): Record<string, unknown> | undefined {
  if (!isObject(entity) || !Array.isArray(entity.Attributes)) return undefined;
  const out: Record<string, unknown> = {};
  for (const pair of entity.Attributes) {
    if (isObject(pair) && typeof pair.key === 'string') out[pair.key] = plainValue(pair.value);
  }
  return out;
}

function pairValue(list: unknown, key: string): unknown {
  if (!Array.isArray(list)) return undefined;
  const pair = list.find((p) => isObject(p) && p.key === key) as Json | undefined;
  return pair?.value;
}

/** Validates a RemoteExecutionContext and reduces it to a DataverseEvent; names every bad field. */
export function parseRemoteExecutionContext(body: unknown): DataverseEvent {
  if (!isObject(body)) throw new WebhookPayloadError('The body must be a RemoteExecutionContext object.');
  const problems: string[] = [];
  const text = (name: string, pattern?: RegExp, optional = false): string => {
    const v = body[name];
    if (v === undefined || v === null) {
      if (!optional) problems.push(`${name} is missing`);
      return '';
    }
    if (typeof v !== 'string' || v === '' || (pattern && !pattern.test(v))) {
      problems.push(`${name} must be ${pattern ? 'a GUID' : 'a non-empty string'}`);
      return '';
    }
    return v;
  };
  const message = text('MessageName');
  const table = text('PrimaryEntityName');
  const id = text('PrimaryEntityId', GUID);
  const requestId = text('RequestId', GUID, true);
  const operationId = text('OperationId', GUID);
  const correlationId = text('CorrelationId', GUID);
  const userId = text('UserId', GUID);
  const initiatingUserId = text('InitiatingUserId', GUID, true) || userId;
  const depth = body.Depth;
  if (typeof depth !== 'number' || !Number.isInteger(depth) || depth < 1)
    problems.push('Depth must be a whole number of at least 1');
  if (problems.length)
    throw new WebhookPayloadError(`Invalid RemoteExecutionContext: ${problems.join('; ')}.`);
  const created =
    typeof body.OperationCreatedOn === 'string' ? plainValue(body.OperationCreatedOn) : undefined;
  const preImages = Array.isArray(body.PreEntityImages) ? body.PreEntityImages : [];
  const firstPre = isObject(preImages[0]) ? preImages[0].value : undefined;
  return {
    message,
    table,
    id: id.toLowerCase(),
    requestId: requestId ? requestId.toLowerCase() : undefined,
    operationId: operationId.toLowerCase(),
    correlationId: correlationId.toLowerCase(),
    userId: userId.toLowerCase(),
    initiatingUserId: initiatingUserId.toLowerCase(),
    depth: depth as number,
    at: typeof created === 'string' && created.includes('T') ? created : undefined,
    target: attributesOf(pairValue(body.InputParameters, 'Target')) ?? {},
    preImage: attributesOf(firstPre),
  };
}

/**
 * The instance id of the flow an event starts. Dataverse resends the same context on a retry and on
 * a duplicate delivery, so its ids identify the change: the request id (one per originating
 * request), else the correlation and operation ids.
 */
export function instanceIdFor(event: DataverseEvent): string {
  const change = event.requestId ?? `${event.correlationId}-${event.operationId}`;
  return webhookInstanceId({ message: event.message, table: event.table, id: event.id, change });
}

/**
 * Whether an update really changed a column: it must be in the Target and, when a pre-image came
 * with the event, differ from it (integrations often send every column on each save).
 */
function changed(event: DataverseEvent, column: string): boolean {
  if (!(column in event.target)) return false;
  if (!event.preImage || !(column in event.preImage)) return true;
  return JSON.stringify(event.preImage[column]) !== JSON.stringify(event.target[column]);
}

export function routeFor(event: DataverseEvent, routes = WEBHOOK_ROUTES): WebhookRoute | undefined {
  return routes.find(
    (r) =>
      r.message.toLowerCase() === event.message.toLowerCase() &&
      r.table === event.table &&
      (!r.whenChanged || r.whenChanged.some((column) => changed(event, column))),
  );
}

/** Why an event is acknowledged without starting anything; undefined when it should run. */
export function ignoreReason(event: DataverseEvent, appUserId: string | undefined): string | undefined {
  const own = appUserId?.toLowerCase();
  if (own && (event.userId === own || event.initiatingUserId === own))
    return "made by the app's own identity";
  if (event.depth > MAX_DEPTH) return `depth ${event.depth} is deeper than ${MAX_DEPTH} (a plugin chain)`;
  return undefined;
}

/** The only orchestrations a webhook may start: a route can never reach deployments or rollbacks. */
const WEBHOOK_FLOWS: readonly string[] = ['clientOnboarding', 'sessionConfirmation'];

/** Validates configured routes; names every bad entry. */
export function parseRoutes(value: unknown): WebhookRoute[] {
  if (!Array.isArray(value)) throw new WebhookPayloadError('webhookRoutes must be an array of routes.');
  const problems: string[] = [];
  const routes = value.map((r: unknown, i): WebhookRoute => {
    const ok =
      isObject(r) &&
      typeof r.message === 'string' &&
      typeof r.table === 'string' &&
      typeof r.orchestration === 'string' &&
      WEBHOOK_FLOWS.includes(r.orchestration) &&
      (r.whenChanged === undefined ||
        (Array.isArray(r.whenChanged) && r.whenChanged.every((c) => typeof c === 'string')));
    if (!ok) {
      problems.push(
        `webhookRoutes[${i}] needs message, table and orchestration (one of ${WEBHOOK_FLOWS.join(', ')}) and optional whenChanged (strings)`,
      );
      return { message: '', table: '', orchestration: '' };
    }
    return r as unknown as WebhookRoute;
  });
  if (problems.length) throw new WebhookPayloadError(problems.join('; '));
  return routes;
}

/**
 * The routes in force: the configured ones, else the defaults. When the configuration cannot be read
 * the delivery fails with 503, so Dataverse retries it: falling back to the defaults could start
 * flows an operator switched off.
 */
async function currentRoutes(context: InvocationContext): Promise<WebhookRoute[]> {
  try {
    const config = await services().config.current();
    const configured = config?.value.webhookRoutes;
    return configured === undefined ? WEBHOOK_ROUTES : parseRoutes(configured);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    context.warn(`Webhook routes unusable: ${message}`);
    throw new ApiError(503, 'WEBHOOK_ROUTES_UNAVAILABLE', `The webhook routes could not be read: ${message}`);
  }
}

function reply(status: number, body: Json): HttpResponseInit {
  return { status, jsonBody: body };
}

/**
 * The runtime status of the flow already started for this change, or undefined when there is none.
 * An instance of another orchestration under the change's id is not that flow: the delivery is
 * refused (409, logged as an error) rather than taken as done, so the change is never silently lost.
 */
async function startedFlow(
  client: df.DurableClient,
  instanceId: string,
  orchestration: string,
  context: InvocationContext,
): Promise<string | undefined> {
  const existing = await findInstance(client, instanceId);
  if (!existing) return undefined;
  if (runsOrchestration(existing, orchestration)) return String(existing.runtimeStatus);
  const message = `Instance '${instanceId}' runs '${existing.name}', not '${orchestration}': the id of this change is taken, so its flow cannot start.`;
  context.error(`Dataverse webhook refused: ${message}`);
  throw new ApiError(409, 'INSTANCE_ID_TAKEN', message);
}

type DeliveryOutcome = 'accepted' | 'duplicate' | 'ignored' | 'refused';

function delivered(
  outcome: DeliveryOutcome,
  status: number,
  body: Json,
  context: InvocationContext,
  event?: DataverseEvent,
): HttpResponseInit {
  recordEvent('WebhookDelivery', {
    outcome,
    status,
    instanceId: typeof body.instanceId === 'string' ? body.instanceId : undefined,
    orchestration: typeof body.orchestration === 'string' ? body.orchestration : undefined,
    code: typeof body.code === 'string' ? body.code : undefined,
    reason: typeof body.ignored === 'string' ? body.ignored : undefined,
    message: event?.message,
    table: event?.table,
    invocationId: context.invocationId,
  });
  return reply(status, body);
}

export async function dataverseWebhook(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  try {
    return await receive(request, context);
  } catch (err) {
    // Dataverse retries a failed delivery; it is refused for now, whatever answers it.
    const status = err instanceof ApiError ? err.status : 500;
    const code = err instanceof ApiError ? err.code : 'INTERNAL';
    recordEvent('WebhookDelivery', { outcome: 'refused', status, code, invocationId: context.invocationId });
    throw err;
  }
}

async function receive(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const { settings } = services();
  if (!settings.webhookAuth) {
    context.warn('Dataverse webhook called, but DATAVERSE_WEBHOOK_SECRET is not set: refusing it.');
    return delivered(
      'refused',
      503,
      {
        code: 'WEBHOOK_NOT_CONFIGURED',
        message: 'This endpoint accepts Dataverse webhooks only once DATAVERSE_WEBHOOK_SECRET is set.',
      },
      context,
    );
  }
  if (!authorized(request, settings.webhookAuth)) {
    context.warn('Dataverse webhook refused: missing or wrong secret.');
    return delivered(
      'refused',
      401,
      { code: 'UNAUTHORIZED', message: 'Missing or wrong webhook secret.' },
      context,
    );
  }
  const raw = await request.text();
  if (Buffer.byteLength(raw) > settings.maxBodyBytes)
    return delivered(
      'refused',
      413,
      { code: 'PAYLOAD_TOO_LARGE', message: `The body exceeds ${settings.maxBodyBytes} bytes.` },
      context,
    );
  let event: DataverseEvent;
  try {
    const body = JSON.parse(raw) as unknown;
    if (nestsDeeperThan(body, MAX_JSON_DEPTH))
      throw new WebhookPayloadError(`The body nests deeper than ${MAX_JSON_DEPTH} levels.`);
    event = parseRemoteExecutionContext(body);
  } catch (err) {
    const message = err instanceof WebhookPayloadError ? err.message : 'The body is not valid JSON.';
    return delivered('refused', 400, { code: 'INVALID_WEBHOOK_PAYLOAD', message }, context);
  }
  const instanceId = instanceIdFor(event);
  const ignored = ignoreReason(event, settings.appUserId);
  if (ignored) {
    context.log(`Dataverse webhook ${event.message} of ${event.table} ignored: ${ignored}.`);
    return delivered('ignored', 200, { ignored }, context, event);
  }
  const route = routeFor(event, await currentRoutes(context));
  if (!route)
    return delivered(
      'ignored',
      200,
      { ignored: `no flow for ${event.message} of ${event.table}` },
      context,
      event,
    );

  const client = df.getClient(context);
  const existing = await startedFlow(client, instanceId, route.orchestration, context);
  if (existing)
    return delivered(
      'duplicate',
      200,
      { instanceId, orchestration: route.orchestration, started: false, status: existing },
      context,
      event,
    );
  const input: WebhookInput = { event, timeZone: settings.timeZone };
  try {
    await client.startNew(route.orchestration, { instanceId, input });
  } catch (err) {
    // A duplicate delivery that raced this one started it first.
    const now = await startedFlow(client, instanceId, route.orchestration, context);
    if (now)
      return delivered(
        'duplicate',
        200,
        { instanceId, orchestration: route.orchestration, started: false, status: now },
        context,
        event,
      );
    throw err;
  }
  context.log(
    `Dataverse webhook ${event.message} of ${event.table} started ${route.orchestration} ${instanceId}.`,
  );
  return delivered(
    'accepted',
    202,
    { instanceId, orchestration: route.orchestration, started: true },
    context,
    event,
  );
}

app.http('dataverseWebhook', {
  route: 'webhooks/dataverse',
  methods: ['POST'],
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: answering(dataverseWebhook),
});
