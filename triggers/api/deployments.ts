/**
 * The deployments HTTP API (function keys):
 * - `POST /api/deployments` takes a manifest, validates it (400 naming each bad field), reserves the
 *   version (409 if another manifest used it) and starts the `deployment` saga as `deploy-<version>`;
 *   it answers 202 with the Durable status URLs. Sending the same manifest again is a retry: it
 *   answers for the existing deployment (and starts it, if it was reserved but never started).
 * - `GET /api/deployments` lists deployments with their state, newest request first, a page at a time
 *   (`?state=` filters, `?top=` (default 50) and `?continuationToken=` page);
 *   `GET /api/deployments/{id}` shows one in full.
 * - `POST /api/deployments/{id}/approve` and `/reject` pass a person's decision to a waiting saga.
 * - `POST /api/deployments/{id}/rollback` (`{"force": true}` optional) rolls a succeeded deployment
 *   (or a failed one with rollback points left) back through its rollback points (202 with the
 *   status URLs of `deploymentRollback`).
 * Every `{id}` must pass lib/ids.ts (400 INVALID_ID) before a record is looked up. An instance of
 * another orchestration under a deployment's id is never taken for its saga (409 INSTANCE_ID_TAKEN).
 * It never applies anything itself: all changes happen in the saga.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { apiBase, checkStatusResponse, findInstance, runsOrchestration } from '../../lib/api/durable';
import { ApiError, answering } from '../../lib/api/errors';
import { queryInt, queryList, readJsonBody, readObjectBody } from '../../lib/api/request';
import type { RawStatus } from '../../lib/api/status';
import type { DeploymentPage, DeploymentSummary } from '../../lib/contracts/responses';
import { services } from '../../lib/config/services';
import { parseId } from '../../lib/ids';
import { deploymentRollbackInstanceId } from '../../lib/instanceIds';
import { deploymentFlow, deploymentRollbackFlow } from '../../lib/orchestrations';
import {
  DeploymentError,
  FINAL_STATES,
  ManifestValidationError,
  deploymentIdFor,
  deploymentStore,
  newDeploymentRecord,
  validateManifest,
  type DeploymentRecord,
  type DeploymentState,
} from '../../lib/deployments';

// Errors answer as the public API's do: `{ code, message, details? }`.
const STATUS_OF: Partial<Record<DeploymentError['code'], number>> = {
  DEPLOYMENT_NOT_FOUND: 404,
  DEPLOYMENT_EXISTS: 409,
  DEPLOYMENT_NOT_AWAITING_APPROVAL: 409,
  DEPLOYMENT_STATE_CONFLICT: 409,
  DEPLOYMENT_BUSY: 409,
};

/** Runs `work`, turning a DeploymentError with a client-facing meaning into its ApiError. */
async function asApiErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const status = err instanceof DeploymentError ? STATUS_OF[err.code] : undefined;
    if (err instanceof DeploymentError && status) throw new ApiError(status, err.code, err.message);
    throw err;
  }
}

const maxBytes = (): number => services().settings.maxBodyBytes;

/**
 * Whether the instance `instanceId` exists and runs `orchestration`. One of another orchestration
 * (made through the durable management API, say) is not ours to answer for: 409, and logged.
 */
async function ourInstance(
  client: df.DurableClient,
  instanceId: string,
  orchestration: string,
  context: InvocationContext,
): Promise<RawStatus | undefined> {
  const existing = await findInstance(client, instanceId);
  if (!existing) return undefined;
  if (runsOrchestration(existing, orchestration)) return existing;
  const message = `Instance '${instanceId}' runs '${existing.name}', not '${orchestration}'; purge it (DELETE /api/instances/{id} once it has finished) or deploy under a new version.`;
  context.error(`Deployments: ${message}`);
  throw new ApiError(409, 'INSTANCE_ID_TAKEN', message);
}

export async function startDeployment(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const body = await readJsonBody(request, maxBytes());
  let manifest;
  try {
    manifest = validateManifest(body);
  } catch (err) {
    if (err instanceof ManifestValidationError) throw new ApiError(400, err.code, err.message, err.problems);
    throw err;
  }
  const id = deploymentIdFor(manifest.version);
  const store = deploymentStore();
  const client = df.getClient(context);
  // Before anything is recorded: an instance of another orchestration holding the id is a 409.
  await ourInstance(client, id, deploymentFlow.name, context);
  try {
    // Create-only: of two requests for one version, one gets the record and the other a 409.
    await store.create(newDeploymentRecord(id, manifest, new Date().toISOString()));
  } catch (err) {
    if (!(err instanceof DeploymentError && err.code === 'DEPLOYMENT_EXISTS')) throw err;
    // The same manifest again is a retried request: answer with that deployment, and start its
    // saga if a crash came between reserving the version and starting it. Another manifest under a
    // used version is a conflict.
    const existing = await store.get(id);
    if (!existing || JSON.stringify(existing.manifest) !== JSON.stringify(manifest))
      throw new ApiError(409, err.code, err.message);
    if (existing.state === 'pending' && !(await ourInstance(client, id, deploymentFlow.name, context))) {
      try {
        await client.startNew(deploymentFlow.name, { instanceId: id, input: manifest });
      } catch (startErr) {
        // A concurrent retry started it first: that is the same deployment.
        if (!(await ourInstance(client, id, deploymentFlow.name, context))) throw startErr;
      }
    }
    return accepted(client, request, id, true);
  }
  try {
    await client.startNew(deploymentFlow.name, { instanceId: id, input: manifest });
  } catch (err) {
    // A retried request may have started the saga meanwhile; then this request simply answers for it.
    if (await ourInstance(client, id, deploymentFlow.name, context))
      return accepted(client, request, id, true);
    const message = `The deployment saga could not be started: ${(err as Error).message}`;
    await store
      .update(id, (r) => ({ ...r, state: 'failed', error: { code: 'DEPLOYMENT_FAILED', message } }))
      .catch(() => undefined);
    throw err;
  }
  context.log(`Started deployment ${id}.`);
  return accepted(client, request, id);
}

/** The check-status answer with this API's URLs: the extension's own URLs carry the system key. */
function accepted(
  client: df.DurableClient,
  request: HttpRequest,
  instanceId: string,
  existing = false,
): HttpResponseInit {
  return checkStatusResponse(client, apiBase(request, 'deployments'), { instanceId, existing });
}

function summary(r: DeploymentRecord): DeploymentSummary {
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

/**
 * The saga's runtime status for a record that is not final: a deployment whose orchestration was
 * terminated (say, through the instances API) would otherwise look as if it were still waiting.
 */
async function withRuntimeStatus<T extends object>(
  client: df.DurableClient,
  r: DeploymentRecord,
  shown: T,
): Promise<T | (T & Required<Pick<DeploymentSummary, 'runtimeStatus'>>)> {
  if (FINAL_STATES.includes(r.state)) return shown;
  const instance = await findInstance(client, r.id);
  const saga = instance && runsOrchestration(instance, deploymentFlow.name) ? instance : undefined;
  return { ...shown, runtimeStatus: saga?.runtimeStatus ?? 'NotFound' };
}

export async function listDeployments(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const states = queryList(request, 'state') as DeploymentState[];
  const top = queryInt(request, 'top', 1, 1000, 50);
  const continuationToken = request.query.get('continuationToken') || undefined;
  let page;
  try {
    // One page read from the store, not every deployment.
    page = await deploymentStore().listPage({ top, continuationToken, states });
  } catch (err) {
    if (err instanceof DeploymentError && err.code === 'INVALID_CONTINUATION_TOKEN')
      throw ApiError.invalidInput([
        { field: 'continuationToken', message: 'is not a token this API handed out' },
      ]);
    throw err;
  }
  const client = df.getClient(context);
  const body: DeploymentPage = {
    deployments: await Promise.all(page.records.map((r) => withRuntimeStatus(client, r, summary(r)))),
    ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}),
  };
  return { jsonBody: body };
}

export async function getDeployment(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const id = parseId(request.params.id, 'id');
  const record = await asApiErrors(() => deploymentStore().require(id));
  return { jsonBody: await withRuntimeStatus(df.getClient(context), record, { ...record }) };
}

function decide(event: 'approve' | 'reject') {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const id = parseId(request.params.id, 'id');
    const payload = await readObjectBody(request, maxBytes());
    const record = await asApiErrors(() => deploymentStore().require(id));
    if (record.state !== 'awaiting-approval') {
      throw new ApiError(
        409,
        'DEPLOYMENT_NOT_AWAITING_APPROVAL',
        `Deployment '${id}' is ${record.state}, not awaiting approval.`,
      );
    }
    try {
      await df.getClient(context).raiseEvent(id, event, payload);
    } catch (err) {
      // The deadline may have passed between the check and the event: say so, not 500.
      const now = await deploymentStore().get(id);
      if (now && now.state !== 'awaiting-approval')
        throw new ApiError(409, 'DEPLOYMENT_NOT_AWAITING_APPROVAL', `Deployment '${id}' is ${now.state}.`);
      throw err;
    }
    return { status: 202, jsonBody: { id, event } };
  };
}

export async function rollbackDeployment(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const id = parseId(request.params.id, 'id');
  const options = await readObjectBody(request, maxBytes());
  if (options.force !== undefined && typeof options.force !== 'boolean')
    throw ApiError.invalidInput([{ field: 'force', message: 'must be true or false' }]);
  const record = await asApiErrors(() => deploymentStore().require(id));
  // A failed deployment may still hold points to run (a stuck rollback, or one refused on a conflict).
  if (record.state !== 'succeeded' && !(record.state === 'failed' && record.rollbackPoints.length)) {
    throw new ApiError(
      409,
      'DEPLOYMENT_STATE_CONFLICT',
      `Deployment '${id}' is ${record.state}${record.state === 'failed' ? ' with no rollback points left' : ''}; only a succeeded deployment, or a failed one with rollback points left, can be rolled back.`,
    );
  }
  const attempt = record.history.filter((h) => h.state === 'rolling-back').length + 1;
  const client = df.getClient(context);
  const instanceId = deploymentRollbackInstanceId(id, attempt);
  const running = await ourInstance(client, instanceId, deploymentRollbackFlow.name, context);
  if (
    running &&
    ['Pending', 'Running', 'Suspended', 'ContinuedAsNew'].includes(String(running.runtimeStatus))
  ) {
    return accepted(client, request, instanceId, true);
  }
  try {
    await client.startNew(deploymentRollbackFlow.name, {
      instanceId,
      input: { deploymentId: id, ...(options.force ? { force: true } : {}) },
    });
  } catch (err) {
    if (!(await ourInstance(client, instanceId, deploymentRollbackFlow.name, context))) throw err;
    return accepted(client, request, instanceId, true);
  }
  return accepted(client, request, instanceId);
}

const extraInputs = [df.input.durableClient()];
app.http('deploymentsStart', {
  route: 'deployments',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs,
  handler: answering(startDeployment),
});
app.http('deploymentsList', {
  route: 'deployments',
  methods: ['GET'],
  authLevel: 'function',
  extraInputs,
  handler: answering(listDeployments),
});
app.http('deploymentsGet', {
  route: 'deployments/{id}',
  methods: ['GET'],
  authLevel: 'function',
  extraInputs,
  handler: answering(getDeployment),
});
app.http('deploymentsApprove', {
  route: 'deployments/{id}/approve',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs,
  handler: answering(decide('approve')),
});
app.http('deploymentsReject', {
  route: 'deployments/{id}/reject',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs,
  handler: answering(decide('reject')),
});
app.http('deploymentsRollback', {
  route: 'deployments/{id}/rollback',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs,
  handler: answering(rollbackDeployment),
});
