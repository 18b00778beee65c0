/**
 * POST /api/webhooks/dataverse: the endpoint a Dataverse service endpoint (webhook) calls with the
 * RemoteExecutionContext of a change. This file is the HTTP side only: it checks the secret
 * registered on the service endpoint (a header, the webhook key or a query string parameter) in
 * constant time, limits the body, and answers. What the payload means, which flow it starts and the
 * loop guard live in lib/dataverse/webhook/; the flow is started under an instance id derived from
 * the event through the API's start-once helper, so Dataverse's retry and duplicate deliveries of one
 * change start exactly one instance. It answers fast: it never waits for the orchestration, and never
 * logs the secret or the payload's field values. Each delivery is recorded as a WebhookDelivery
 * telemetry event with its outcome: accepted, duplicate, ignored or refused.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { services } from '../lib/config/services';
import type { AppSettings } from '../lib/config/settings';
import { startOnce, type Started } from '../lib/api/durable';
import { ApiError, answering } from '../lib/api/errors';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../lib/api/request';
import {
  WebhookPayloadError,
  currentRoutes,
  flowOf,
  ignoreReason,
  instanceIdFor,
  parseRemoteExecutionContext,
  routeFor,
  type DataverseEvent,
  type WebhookInput,
} from '../lib/dataverse/webhook';
import type { TypedOrchestration } from '../lib/saga';
import { recordEvent } from '../lib/telemetry';

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

function reply(status: number, body: Json): HttpResponseInit {
  return { status, jsonBody: body };
}

/**
 * Starts the change's flow at most once. An instance of another orchestration under the change's id
 * is not that flow: the delivery is refused (409, logged as an error) rather than taken as done, so
 * the change is never silently lost.
 */
async function startFlow(
  client: df.DurableClient,
  flow: TypedOrchestration<WebhookInput, unknown>,
  instanceId: string,
  input: WebhookInput,
  context: InvocationContext,
): Promise<Started> {
  try {
    return await startOnce(client, { name: flow.name, input, instanceId });
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 'CONFLICT')) throw err;
    const message = `${err.message} The id of this change is taken, so its flow cannot start.`;
    context.error(`Dataverse webhook refused: ${message}`);
    throw new ApiError(409, 'INSTANCE_ID_TAKEN', message);
  }
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

  const flow = flowOf(route);
  const input: WebhookInput = { event, timeZone: settings.timeZone };
  const started = await startFlow(df.getClient(context), flow, instanceId, input, context);
  if (started.existing)
    return delivered(
      'duplicate',
      200,
      { instanceId, orchestration: flow.name, started: false, status: started.runtimeStatus },
      context,
      event,
    );
  context.log(`Dataverse webhook ${event.message} of ${event.table} started ${flow.name} ${instanceId}.`);
  return delivered('accepted', 202, { instanceId, orchestration: flow.name, started: true }, context, event);
}

app.http('dataverseWebhook', {
  route: 'webhooks/dataverse',
  methods: ['POST'],
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: answering(dataverseWebhook),
});
