/**
 * Seeing and steering work: list instances, show one (status, saga phase and steps, input, output,
 * the rollback point it left, optionally history), terminate, suspend, resume, raise an event, purge. Works on every instance
 * of the app, public or not; starting work is only through the public registry. Answers are
 * redacted: a secret that reached an instance's input, output or status is not shown back.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { DurableClient } from 'durable-functions';
import { services } from '../../lib/config/services';
import { ApiError, answering } from '../../lib/api/errors';
import { apiBase, requireInstance, requireUnfinishedInstance } from '../../lib/api/durable';
import { parseInstanceId } from '../../lib/ids';
import {
  queryDate,
  queryFlag,
  queryInt,
  queryList,
  readJsonBody,
  readObjectBody,
} from '../../lib/api/request';
import { rollbackPointOf } from '../../lib/api/instancePoint';
import { listInstancePage } from '../../lib/api/instancePages';
import { instanceView, isFinal } from '../../lib/api/status';
import { appRedactor } from '../../lib/telemetry';

const RUNTIME_STATUSES = [
  'Pending',
  'Running',
  'Completed',
  'ContinuedAsNew',
  'Failed',
  'Canceled',
  'Terminated',
  'Suspended',
];

function instanceUrl(request: HttpRequest, instanceId: string): string {
  return `${apiBase(request, 'instances')}/instances/${encodeURIComponent(instanceId)}`;
}

/** GET /api/instances?status=&name=&createdFrom=&createdTo=&top=&continuationToken= */
export async function listInstances(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const statuses = queryList(request, 'status').map((raw) => {
    const found = RUNTIME_STATUSES.find((s) => s.toLowerCase() === raw.toLowerCase());
    if (!found)
      throw ApiError.invalidInput([
        { field: 'status', message: `must be among ${RUNTIME_STATUSES.join(', ')}` },
      ]);
    return found;
  });
  const createdTimeFrom = queryDate(request, 'createdFrom');
  const createdTimeTo = queryDate(request, 'createdTo');
  if (createdTimeFrom && createdTimeTo && createdTimeFrom > createdTimeTo)
    throw ApiError.invalidInput([{ field: 'createdFrom', message: 'must not be after createdTo' }]);
  const top = queryInt(request, 'top', 1, 1000, 50);
  const continuationToken = request.query.get('continuationToken') || undefined;
  // One page read from the store (not every instance, then a slice of them).
  const page = await listInstancePage(df.getClient(context), {
    filter: { createdTimeFrom, createdTimeTo, runtimeStatus: statuses },
    names: queryList(request, 'name'),
    top,
    continuationToken,
  });
  return {
    status: 200,
    jsonBody: appRedactor().value({
      instances: page.items,
      ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}),
    }),
  };
}

/** GET /api/instances/{id}[?history=true] and DELETE /api/instances/{id} (purge). */
export async function instance(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const id = parseInstanceId(request.params.id, 'id');
  const client = df.getClient(context);
  if (request.method === 'DELETE') {
    const status = await requireInstance(client, id);
    if (!isFinal(status.runtimeStatus))
      throw new ApiError(
        409,
        'INSTANCE_RUNNING',
        `Instance '${id}' is ${status.runtimeStatus}; terminate it (or let it finish) before purging it.`,
      );
    const result = await client.purgeInstanceHistory(id);
    if (result.instancesDeleted === 0) throw ApiError.notFound(`No orchestration instance with id '${id}'.`);
    return { status: 200, jsonBody: { instanceId: id, instancesDeleted: result.instancesDeleted } };
  }
  const status = await requireInstance(client, id, { history: queryFlag(request, 'history') });
  const raw = instanceView(status);
  const point = await rollbackPointOf(services().rollbackPoints, raw);
  const view = appRedactor().value(point ? { ...raw, rollbackPoint: point } : raw);
  // Like the durable status endpoint: 202 while it runs (poll again), 200 once it has finished.
  return isFinal(view.runtimeStatus)
    ? { status: 200, jsonBody: view }
    : { status: 202, jsonBody: view, headers: { Location: instanceUrl(request, id), 'Retry-After': '5' } };
}

type Operation = 'terminate' | 'suspend' | 'resume';
const OPERATIONS: readonly Operation[] = ['terminate', 'suspend', 'resume'];

function conflictCode(operation: Operation): string {
  return operation === 'resume' ? 'INSTANCE_NOT_SUSPENDED' : 'CONFLICT';
}

/** Runs a client operation; the engine's "not now" (409) becomes an ApiError naming the state. */
async function steer(client: DurableClient, id: string, operation: Operation, reason: string): Promise<void> {
  try {
    // The client puts the reason into the URL as it is; encode it so `&` or `#` stay text.
    await client[operation](id, encodeURIComponent(reason));
  } catch (err) {
    const message = String((err as Error).message);
    if (/No instance with ID/i.test(message))
      throw ApiError.notFound(`No orchestration instance with id '${id}'.`);
    if (/status code: 409/.test(message)) {
      const current = await requireInstance(client, id);
      throw new ApiError(
        409,
        conflictCode(operation),
        `Cannot ${operation} instance '${id}': it is ${current.runtimeStatus}.`,
      );
    }
    throw err;
  }
}

/** POST /api/instances/{id}/{terminate|suspend|resume}, reason as `?reason=` or body `{reason}`. */
export async function instanceOperation(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const id = parseInstanceId(request.params.id, 'id');
  const operation = OPERATIONS.find((o) => o === request.params.operation);
  if (!operation)
    throw ApiError.notFound(
      `No instance operation '${request.params.operation}'. Use ${OPERATIONS.join(', ')}, or events/{eventName}.`,
    );
  const body = await readObjectBody(request, services().settings.maxBodyBytes);
  if (body.reason !== undefined && typeof body.reason !== 'string')
    throw ApiError.invalidInput([{ field: 'reason', message: 'must be a string' }]);
  const reason = (body.reason as string | undefined) ?? request.query.get('reason') ?? '';
  if (reason.length > 1000)
    throw ApiError.invalidInput([{ field: 'reason', message: 'must be at most 1000 characters' }]);
  const client = df.getClient(context);
  await requireUnfinishedInstance(client, id);
  await steer(client, id, operation, reason);
  return {
    status: 202,
    jsonBody: { instanceId: id, operation, accepted: true },
    headers: { Location: instanceUrl(request, id) },
  };
}

const EVENT_NAME = /^[A-Za-z0-9_.:-]{1,100}$/;

/** POST /api/instances/{id}/events/{eventName}; the body (any JSON, or none) is the event's data. */
export async function raiseEvent(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const id = parseInstanceId(request.params.id, 'id');
  const eventName = request.params.eventName;
  if (!EVENT_NAME.test(eventName))
    throw ApiError.invalidInput([
      { field: 'eventName', message: 'must be 1 to 100 letters, digits, _ . : or -' },
    ]);
  const data = await readJsonBody(request, services().settings.maxBodyBytes);
  const client = df.getClient(context);
  await requireUnfinishedInstance(client, id);
  await client.raiseEvent(id, eventName, data ?? null);
  return {
    status: 202,
    jsonBody: { instanceId: id, eventName, accepted: true },
    headers: { Location: instanceUrl(request, id) },
  };
}

const withClient = { authLevel: 'function' as const, extraInputs: [df.input.durableClient()] };

app.http('apiListInstances', {
  route: 'instances',
  methods: ['GET'],
  ...withClient,
  handler: answering(listInstances),
});
app.http('apiInstance', {
  route: 'instances/{id}',
  methods: ['GET', 'DELETE'],
  ...withClient,
  handler: answering(instance),
});
app.http('apiInstanceOperation', {
  route: 'instances/{id}/{operation}',
  methods: ['POST'],
  ...withClient,
  handler: answering(instanceOperation),
});
app.http('apiRaiseEvent', {
  route: 'instances/{id}/events/{eventName}',
  methods: ['POST'],
  ...withClient,
  handler: answering(raiseEvent),
});
