/**
 * Rollback points over HTTP: list (by status and resource), show one, plan (read here, through
 * lib/rollback/plan.ts, never as an orchestration: a plan leaves no instance behind), execute (the
 * same checks, then starts `rollback`, answered with the check-status payload) and create by hand
 * (starts `createRollbackPoint`). Points hold the user's
 * own data; no settings or secrets are ever part of an answer.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { services } from '../../lib/config/services';
import {
  RollbackError,
  isLater,
  planRollback,
  resourceKey,
  type RecordReader,
  type RollbackPoint,
  type RollbackStatus,
} from '../../lib/rollback';
import { retrieveWithLookups } from '../../lib/dataverse/lookups';
import { ApiError, answering } from '../../lib/api/errors';
import { findInstance } from '../../lib/api/durable';
import { instanceIdForIdempotencyKey, queryList, readJsonBody, readObjectBody } from '../../lib/api/request';
import { createRollbackPointFlow, rollbackFlow } from '../../lib/orchestrations';
import { startAndAnswer } from '../../lib/api/start';
import { errorCodeOf } from '../../lib/api/status';
import type { RollbackOptions } from '../../lib/contracts/rollback';
import { validateRollbackOptions } from '../../lib/api/validators';
import type { RollbackPlan, RollbackPointListed } from '../../lib/contracts/responses';
import { parseId } from '../../lib/ids';

const STATUSES: readonly RollbackStatus[] = [
  'active',
  'rolling-back',
  'rolled-back',
  'rollback-failed',
  'expired',
];

function pointListed(p: RollbackPoint, dependsOn: string[]): RollbackPointListed {
  const { id, origin, description, createdAt, expiresAt, status, sagaInstanceId, resources, rollback } = p;
  return {
    id,
    origin,
    description,
    createdAt,
    expiresAt,
    status,
    sagaInstanceId,
    resources,
    rollback,
    dependsOn,
  };
}

/**
 * For each point, the earlier points (of any status) that touched one of its resources: it depends
 * on them, since undoing an earlier change alone would also undo part of the later one (the
 * dashboard draws these as its dependency graph; the rollback itself only counts active points).
 */
function dependenciesOf(all: RollbackPoint[]): Map<string, string[]> {
  const keys = new Map(all.map((p) => [p.id, new Set(p.resources.map(resourceKey))]));
  const deps = new Map<string, string[]>();
  for (const later of all) {
    const mine = keys.get(later.id) as Set<string>;
    deps.set(
      later.id,
      all
        .filter((earlier) => earlier.id !== later.id && isLater(later, earlier))
        .filter((earlier) => [...(keys.get(earlier.id) as Set<string>)].some((k) => mine.has(k)))
        .map((earlier) => earlier.id),
    );
  }
  return deps;
}

/** The point id of the path; a bad one is a 400 INVALID_ID before any store is asked. */
function pointIdFrom(request: HttpRequest): string {
  return parseId(request.params.id, 'id');
}

async function requirePoint(id: string): Promise<RollbackPoint> {
  const point = await services().rollbackPoints.get(id);
  if (!point) throw ApiError.notFound(`No rollback point with id '${id}'.`);
  return point;
}

/** A resource as `dataverse:<table>:<id>` or `config:<name>`; ids compare case-insensitively. */
function resourceFilter(request: HttpRequest): string | undefined {
  const raw = request.query.get('resource');
  if (raw === null || raw === '') return undefined;
  const parts = raw.split(':');
  if (parts[0] === 'dataverse' && parts.length === 3 && parts[1] && parts[2])
    return `dataverse:${parts[1]}:${parts[2].toLowerCase()}`;
  if (parts[0] === 'config' && parts.length === 2 && parts[1]) return raw;
  throw ApiError.invalidInput([
    { field: 'resource', message: 'must be dataverse:<table>:<id> or config:<name>' },
  ]);
}

/**
 * GET /api/rollback-points?status=active,expired&resource=dataverse:contacts:<id>, oldest first,
 * each point with `dependsOn` (see dependenciesOf).
 */
export async function listPoints(request: HttpRequest): Promise<HttpResponseInit> {
  const status = queryList(request, 'status').map((s) => {
    if (!STATUSES.includes(s as RollbackStatus))
      throw ApiError.invalidInput([{ field: 'status', message: `must be among ${STATUSES.join(', ')}` }]);
    return s as RollbackStatus;
  });
  const resource = resourceFilter(request);
  // One read of every point: dependencies may lead to points the filters leave out.
  const all = await services().rollbackPoints.list();
  const points = all
    .filter((p) => !status.length || status.includes(p.status))
    .filter((p) => !resource || p.resources.some((r) => resourceKey(r) === resource));
  const dependsOn = dependenciesOf(all);
  return {
    status: 200,
    jsonBody: { points: points.map((p) => pointListed(p, dependsOn.get(p.id) ?? [])) },
  };
}

/** GET /api/rollback-points/{id}: the whole point, with its undo plan. */
export async function showPoint(request: HttpRequest): Promise<HttpResponseInit> {
  return { status: 200, jsonBody: await requirePoint(pointIdFrom(request)) };
}

/** A refusal of the plan (lib/rollback/plan.ts) as the API answers it: 404 for no point, else 409. */
function refusalAnswer(err: unknown): unknown {
  if (!(err instanceof RollbackError)) return err;
  const { message } = errorCodeOf(err.message);
  return err.code === 'ROLLBACK_POINT_NOT_FOUND'
    ? ApiError.notFound(message)
    : new ApiError(409, err.code, message);
}

/** The plan of a rollback, read in this function; a refusal is thrown as its API answer. */
async function readPlan(pointId: string, options: RollbackOptions): Promise<RollbackPlan> {
  const app = services();
  // Created on first use: a point of configuration only reads no record (and needs no Dataverse).
  const records: RecordReader = {
    // With lookups as bindings, as the change's values and the undo name them.
    tryRetrieve: (table, id) =>
      retrieveWithLookups(app.dataverse(`plan:${pointId}`), app.metadata(`plan:${pointId}`), table, id),
  };
  try {
    const { steps, conflicts } = await planRollback(app.rollbackPoints, records, { pointId, ...options });
    return { pointId, dryRun: true, steps, conflicts };
  } catch (err) {
    throw refusalAnswer(err);
  }
}

/**
 * POST /api/rollback-points/{id}/plan (body `{cascade?, force?}`): what a rollback would undo (200),
 * or 409 with the code that would stop it. A read: no instance is started, nothing is written.
 * POST /api/rollback-points/{id}/execute (same body): the same checks, then starts `rollback` (202
 * check-status); a request repeated with its Idempotency-Key is answered with the first instance.
 */
export async function pointAction(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const id = pointIdFrom(request);
  const action = request.params.action;
  if (action !== 'plan' && action !== 'execute')
    throw ApiError.notFound(`No rollback point action '${action}'. Use plan or execute.`);
  const body = await readObjectBody(request, services().settings.maxBodyBytes);
  const problems = validateRollbackOptions(body);
  if (problems.length) throw ApiError.invalidInput(problems);
  const options = body as RollbackOptions;
  await requirePoint(id);
  if (action === 'plan') return { status: 200, jsonBody: await readPlan(id, options) };
  const client = df.getClient(context);
  const input = { pointId: id, ...options };
  const keyed = instanceIdForIdempotencyKey(request);
  // The repeat of a request that started the rollback: answered with it, whatever the point is now.
  const replay = keyed !== undefined && (await findInstance(client, keyed)) !== undefined;
  if (!replay) await readPlan(id, options);
  return startAndAnswer(client, request, { name: rollbackFlow.name, input, routeRoot: 'rollback-points' });
}

/** POST /api/rollback-points (body `{description?, records?, includeConfig?, retentionDays?}`). */
export async function createPoint(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const input = await readJsonBody(request, services().settings.maxBodyBytes);
  return startAndAnswer(df.getClient(context), request, {
    name: createRollbackPointFlow.name,
    input,
    routeRoot: 'rollback-points',
  });
}

/** GET lists, POST creates; one function per route so the host's 405 lists both methods. */
async function points(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return request.method === 'POST' ? createPoint(request, context) : listPoints(request);
}

const keyed = { authLevel: 'function' as const, extraInputs: [df.input.durableClient()] };

app.http('apiRollbackPoints', {
  route: 'rollback-points',
  methods: ['GET', 'POST'],
  ...keyed,
  handler: answering(points),
});
app.http('apiRollbackPoint', {
  route: 'rollback-points/{id}',
  methods: ['GET'],
  authLevel: 'function',
  handler: answering(showPoint),
});
app.http('apiRollbackPointAction', {
  route: 'rollback-points/{id}/{action}',
  methods: ['POST'],
  ...keyed,
  handler: answering(pointAction),
});
