/**
 * The deployments HTTP API (function keys):
 * - `POST /api/deployments` takes a manifest, validates it (400 naming each bad field), reserves the
 *   version (409 if it was used) and starts the `deployment` saga as `deploy-<version>`; it answers
 *   202 with the Durable status URLs.
 * - `GET /api/deployments` lists deployments with their state (`?state=` filters);
 *   `GET /api/deployments/{id}` shows one in full.
 * - `POST /api/deployments/{id}/approve` and `/reject` pass a person's decision to a waiting saga.
 * - `POST /api/deployments/{id}/rollback` (`{"force": true}` optional) rolls a succeeded deployment
 *   (or a failed one with rollback points left) back through its rollback points (202 with the
 *   status URLs of `deploymentRollback`).
 * It never applies anything itself: all changes happen in the saga.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { newDeploymentRecord } from '../activities/deployment';
import { services } from '../lib/config/services';
import {
  DeploymentError,
  ManifestValidationError,
  deploymentIdFor,
  deploymentStore,
  validateManifest,
  type DeploymentRecord,
  type DeploymentState,
} from '../lib/deployments';

function problem(status: number, code: string, message: string, details?: unknown): HttpResponseInit {
  return { status, jsonBody: { error: { code, message, ...(details === undefined ? {} : { details }) } } };
}

function fromError(err: unknown): HttpResponseInit {
  if (err instanceof DeploymentError) {
    const status =
      err.code === 'DEPLOYMENT_NOT_FOUND'
        ? 404
        : err.code === 'DEPLOYMENT_EXISTS' ||
            err.code === 'DEPLOYMENT_NOT_AWAITING_APPROVAL' ||
            err.code === 'DEPLOYMENT_STATE_CONFLICT'
          ? 409
          : 500;
    return problem(status, err.code, err.message, err.details);
  }
  throw err;
}

async function readJson(
  request: HttpRequest,
): Promise<{ ok: true; value: unknown } | { ok: false; res: HttpResponseInit }> {
  const text = await request.text();
  const limit = services().settings.maxBodyBytes;
  if (Buffer.byteLength(text) > limit)
    return {
      ok: false,
      res: problem(413, 'BODY_TOO_LARGE', `The request body is larger than ${limit} bytes.`),
    };
  if (text.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, res: problem(400, 'INVALID_JSON', 'The request body is not valid JSON.') };
  }
}

export async function startDeployment(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const body = await readJson(request);
  if (!body.ok) return body.res;
  let manifest;
  try {
    manifest = validateManifest(body.value);
  } catch (err) {
    if (err instanceof ManifestValidationError) return problem(400, err.code, err.message, err.problems);
    throw err;
  }
  const id = deploymentIdFor(manifest.version);
  const store = deploymentStore();
  try {
    // Create-only: of two requests for one version, one gets the record and the other a 409.
    await store.create(newDeploymentRecord(id, manifest, new Date().toISOString()));
  } catch (err) {
    return fromError(err);
  }
  const client = df.getClient(context);
  try {
    await client.startNew('deployment', { instanceId: id, input: manifest });
  } catch (err) {
    const message = `The deployment saga could not be started: ${(err as Error).message}`;
    await store
      .update(id, (r) => ({ ...r, state: 'failed', error: { code: 'DEPLOYMENT_FAILED', message } }))
      .catch(() => undefined);
    return problem(500, 'DEPLOYMENT_FAILED', message);
  }
  context.log(`Started deployment ${id}.`);
  return client.createCheckStatusResponse(request, id);
}

function summary(r: DeploymentRecord): Record<string, unknown> {
  return {
    id: r.id,
    version: r.version,
    ...(r.description ? { description: r.description } : {}),
    state: r.state,
    requestedAt: r.requestedAt,
    updatedAt: r.updatedAt,
    requireApproval: r.manifest.requireApproval === true,
    ...(r.approval ? { approval: r.approval } : {}),
    rollbackPoints: r.rollbackPoints,
    ...(r.error ? { error: r.error } : {}),
  };
}

export async function listDeployments(request: HttpRequest): Promise<HttpResponseInit> {
  const states = (request.query.get('state') ?? '').split(',').filter(Boolean) as DeploymentState[];
  const records = await deploymentStore().list();
  const shown = states.length ? records.filter((r) => states.includes(r.state)) : records;
  return { jsonBody: { deployments: shown.map(summary) } };
}

export async function getDeployment(request: HttpRequest): Promise<HttpResponseInit> {
  try {
    return { jsonBody: await deploymentStore().require(request.params.id) };
  } catch (err) {
    return fromError(err);
  }
}

function decide(event: 'approve' | 'reject') {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const body = await readJson(request);
    if (!body.ok) return body.res;
    const payload = body.value ?? {};
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
      return problem(
        400,
        'INVALID_INPUT',
        'The body, if any, must be an object such as {"by": "...", "reason": "..."}.',
      );
    const id = request.params.id;
    try {
      const record = await deploymentStore().require(id);
      if (record.state !== 'awaiting-approval') {
        throw new DeploymentError(
          'DEPLOYMENT_NOT_AWAITING_APPROVAL',
          `Deployment '${id}' is ${record.state}, not awaiting approval.`,
          { state: record.state },
        );
      }
    } catch (err) {
      return fromError(err);
    }
    await df.getClient(context).raiseEvent(id, event, payload);
    return { status: 202, jsonBody: { id, event } };
  };
}

export async function rollbackDeployment(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const body = await readJson(request);
  if (!body.ok) return body.res;
  const options = (body.value ?? {}) as { force?: unknown };
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    return problem(400, 'INVALID_INPUT', 'The body, if any, must be an object such as {"force": true}.');
  if (options.force !== undefined && typeof options.force !== 'boolean')
    return problem(400, 'INVALID_INPUT', 'force must be true or false.');
  const id = request.params.id;
  let attempt: number;
  try {
    const record = await deploymentStore().require(id);
    // A failed deployment may still hold points to run (a stuck rollback, or one refused on a conflict).
    if (record.state !== 'succeeded' && !(record.state === 'failed' && record.rollbackPoints.length)) {
      throw new DeploymentError(
        'DEPLOYMENT_STATE_CONFLICT',
        `Deployment '${id}' is ${record.state}${record.state === 'failed' ? ' with no rollback points left' : ''}; only a succeeded deployment, or a failed one with rollback points left, can be rolled back.`,
        { state: record.state },
      );
    }
    attempt = record.history.filter((h) => h.state === 'rolling-back').length + 1;
  } catch (err) {
    return fromError(err);
  }
  const client = df.getClient(context);
  const instanceId = `${id}-rollback-${attempt}`;
  await client.startNew('deploymentRollback', {
    instanceId,
    input: { deploymentId: id, ...(options.force ? { force: true } : {}) },
  });
  return client.createCheckStatusResponse(request, instanceId);
}

const extraInputs = [df.input.durableClient()];
app.http('deploymentsStart', {
  route: 'deployments',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs,
  handler: startDeployment,
});
app.http('deploymentsList', {
  route: 'deployments',
  methods: ['GET'],
  authLevel: 'function',
  handler: listDeployments,
});
app.http('deploymentsGet', {
  route: 'deployments/{id}',
  methods: ['GET'],
  authLevel: 'function',
  handler: getDeployment,
});
app.http('deploymentsApprove', {
  route: 'deployments/{id}/approve',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs,
  handler: decide('approve'),
});
app.http('deploymentsReject', {
  route: 'deployments/{id}/reject',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs,
  handler: decide('reject'),
});
app.http('deploymentsRollback', {
  route: 'deployments/{id}/rollback',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs,
  handler: rollbackDeployment,
});
