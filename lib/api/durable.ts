/**
 * The API's side of the durable client: find an instance (absent is undefined, not an error),
 * start a public orchestration at most once per instance id, and the check-status answer. The
 * answer has the standard payload's shape (from the client's management payload) but its URLs
 * are this API's keyed routes: the extension's webhook URLs carry the system key, a secret that
 * must never leave the app (it would also let a caller start orchestrations that are not public).
 */
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { DurableClient } from 'durable-functions';
import { setTimeout as delay } from 'node:timers/promises';
import type { StartClaims } from './claims';
import { ApiError } from './errors';
import { isFinal, type RawStatus } from './status';

export function isNotFound(err: unknown): boolean {
  return /HTTP 404|No instance with ID/i.test(String((err as Error)?.message ?? err));
}

/** The client's own raw status read, which keeps `historyEvents` (its public getStatus drops them). */
interface RawStatusReader {
  getStatusInternal(options: {
    instanceId: string;
    showHistory?: boolean;
    showHistoryOutput?: boolean;
    showInput?: boolean;
  }): Promise<{ status: number; data: unknown }>;
}

function rawReader(client: DurableClient): RawStatusReader | undefined {
  const candidate = client as unknown as Partial<RawStatusReader>;
  return typeof candidate.getStatusInternal === 'function'
    ? (client as unknown as RawStatusReader)
    : undefined;
}

export async function findInstance(
  client: DurableClient,
  instanceId: string,
  options: { history?: boolean } = {},
): Promise<RawStatus | undefined> {
  const reader = options.history ? rawReader(client) : undefined;
  if (reader) {
    const res = await reader.getStatusInternal({
      instanceId,
      showHistory: true,
      showHistoryOutput: true,
      showInput: true,
    });
    if (res.status === 404) return undefined;
    if (res.status !== 200 && res.status !== 202)
      throw new Error(`Reading the status of '${instanceId}' answered ${res.status}.`);
    return res.data as RawStatus;
  }
  try {
    return (await client.getStatus(instanceId, { showInput: true })) as RawStatus;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Whether `status` is an instance of orchestration `name` (Durable Functions names ignore case). */
export function runsOrchestration(status: Pick<RawStatus, 'name'>, name: string): boolean {
  return String(status.name).toLowerCase() === name.toLowerCase();
}

export async function requireInstance(
  client: DurableClient,
  instanceId: string,
  options: { history?: boolean } = {},
): Promise<RawStatus> {
  const status = await findInstance(client, instanceId, options);
  if (!status) throw ApiError.notFound(`No orchestration instance with id '${instanceId}'.`);
  return status;
}

/** requireInstance, and 409 when it has already finished (nothing left to steer or to tell). */
export async function requireUnfinishedInstance(
  client: DurableClient,
  instanceId: string,
): Promise<RawStatus> {
  const status = await requireInstance(client, instanceId);
  if (isFinal(status.runtimeStatus))
    throw new ApiError(
      409,
      'INSTANCE_NOT_RUNNING',
      `Instance '${instanceId}' has already finished (${status.runtimeStatus}).`,
    );
  return status;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value ?? null);
}

export interface StartRequest {
  name: string;
  input: unknown;
  /** Chosen by the caller (path) or derived from an Idempotency-Key; absent: a new id. */
  instanceId?: string;
  /** True when instanceId came from an Idempotency-Key: reusing the key for another request is a 409. */
  fromIdempotencyKey?: boolean;
}

export interface Started {
  instanceId: string;
  /** True when the instance already existed and nothing was started. */
  existing: boolean;
  /** The existing instance's runtime status, when there was one. */
  runtimeStatus?: string;
}

function checkExisting(request: StartRequest, existing: RawStatus): Started {
  if (
    !runsOrchestration(existing, request.name) ||
    (request.fromIdempotencyKey && canonical(existing.input) !== canonical(request.input))
  ) {
    throw request.fromIdempotencyKey
      ? new ApiError(
          409,
          'IDEMPOTENCY_KEY_REUSED',
          'This Idempotency-Key was already used for a different request; use a new key for a new request.',
        )
      : new ApiError(
          409,
          'CONFLICT',
          `Instance '${existing.instanceId}' already exists and runs '${existing.name}', not '${request.name}'.`,
        );
  }
  return { instanceId: existing.instanceId, existing: true, runtimeStatus: String(existing.runtimeStatus) };
}

/** How long a request that lost a start claim waits for the winner's instance to appear. */
const CLAIM_WAIT_MS = 10_000;

async function startNew(client: DurableClient, request: StartRequest): Promise<Started> {
  const { instanceId } = request;
  try {
    const id = await client.startNew(request.name, { instanceId, input: request.input });
    return { instanceId: id, existing: false };
  } catch (err) {
    if (instanceId && /\b409\b/.test(String((err as Error).message))) {
      const existing = await findInstance(client, instanceId);
      if (existing) return checkExisting(request, existing);
    }
    throw err;
  }
}

/**
 * Starts an orchestration, unless its instance id already exists: then that instance is the answer
 * and no second run starts. With `claims`, racing requests for one id start it exactly once (see
 * lib/api/claims.ts); without, the durable engine's conflict on a running instance is the guard.
 */
export async function startOnce(
  client: DurableClient,
  request: StartRequest,
  claims?: StartClaims,
): Promise<Started> {
  const { instanceId } = request;
  if (!instanceId) return startNew(client, request);
  const existing = await findInstance(client, instanceId);
  if (existing) return checkExisting(request, existing);
  const outcome = claims ? await claims.claim(instanceId, request.name) : 'won';
  if (outcome === 'taken') {
    // Another request is starting this id right now: answer with its instance.
    const deadline = Date.now() + CLAIM_WAIT_MS;
    while (Date.now() < deadline) {
      await delay(25);
      const started = await findInstance(client, instanceId);
      if (started) return checkExisting(request, started);
    }
  }
  try {
    return await startNew(client, request);
  } catch (err) {
    if (claims && outcome !== 'taken') await claims.release(instanceId).catch(() => undefined);
    throw err;
  }
}

/** This API's base URL (`<origin>/api`), from a request to a route that starts with `firstSegment`. */
export function apiBase(request: HttpRequest, firstSegment: string): string {
  const url = new URL(request.url);
  const match = new RegExp(`/${firstSegment}(/|$)`).exec(url.pathname);
  return `${url.origin}${match ? url.pathname.slice(0, match.index) : '/api'}`;
}

const OUR_ROUTES: Record<string, (instance: string) => string> = {
  statusQueryGetUri: (i) => i,
  sendEventPostUri: (i) => `${i}/events/{eventName}`,
  terminatePostUri: (i) => `${i}/terminate?reason={text}`,
  purgeHistoryDeleteUri: (i) => i,
  suspendPostUri: (i) => `${i}/suspend?reason={text}`,
  resumePostUri: (i) => `${i}/resume?reason={text}`,
};

/**
 * The check-status answer (202, Location, Retry-After) for an instance, with this API's URLs in
 * place of the webhook URLs for every management operation the API offers.
 */
export function checkStatusResponse(client: DurableClient, base: string, started: Started): HttpResponseInit {
  const standard = client.createHttpManagementPayload(started.instanceId) as unknown as Record<
    string,
    string
  >;
  const instance = `${base}/instances/${encodeURIComponent(started.instanceId)}`;
  const body: Record<string, string> = {};
  for (const key of Object.keys(standard)) {
    if (key === 'id') body.id = started.instanceId;
    else if (OUR_ROUTES[key]) body[key] = OUR_ROUTES[key](instance);
  }
  const headers: Record<string, string> = { Location: instance, 'Retry-After': '10' };
  if (started.existing) headers['Idempotent-Replayed'] = 'true';
  return { status: 202, jsonBody: body, headers };
}
