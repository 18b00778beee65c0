/**
 * Starting a public orchestration from a request: look it up in the registry (404 when it is not
 * public), validate its input (400 naming each field), choose the instance id (the caller's, one
 * derived from an Idempotency-Key, or a new one) and start it at most once. Shared by every route
 * that starts work, so they all behave alike. A caller never gets an id the app generates for its
 * own runs (lib/instanceIds.ts): holding one would stand in for the app's run.
 */
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { DurableClient } from 'durable-functions';
import { services } from '../config/services';
import { MAX_CHOSEN_INSTANCE_ID_LENGTH, parseInstanceId } from '../ids';
import { reservedInstanceIdOwner } from '../instanceIds';
import { BlobStartClaims, type StartClaims } from './claims';
import { ApiError } from './errors';
import { apiBase, checkStatusResponse, startOnce, type Started } from './durable';
import { requirePublicOrchestration } from './registry';
import { instanceIdForIdempotencyKey } from './request';

let claims: StartClaims | undefined;

/** Start claims live beside the snapshots (under `_api/starts/`), in a container the app already has. */
function startClaims(): StartClaims {
  claims ??= new BlobStartClaims(services().snapshots.container);
  return claims;
}

export interface StartOptions {
  /** The orchestration's name. */
  name: string;
  input: unknown;
  /** An instance id from the path; wins over an Idempotency-Key. */
  instanceId?: string;
  /** The first path segment of the route, to build this API's URLs. */
  routeRoot: string;
}

/** An instance id a caller chose: a usable id (else 400 INVALID_ID), and none the app keeps for itself. */
export function chosenInstanceId(id: string, field = 'instanceId'): string {
  const checked = parseInstanceId(id, field, MAX_CHOSEN_INSTANCE_ID_LENGTH);
  const owner = reservedInstanceIdOwner(checked);
  if (owner)
    throw new ApiError(
      400,
      'RESERVED_INSTANCE_ID',
      `Instance id '${checked}' is reserved: ids like it belong to ${owner}. Choose another id, or leave it out to get a new one.`,
      [{ field, message: `must not be an id reserved for ${owner}` }],
    );
  return checked;
}

/** Validates and starts; returns what startOnce returned. */
export async function startPublic(
  client: DurableClient,
  request: HttpRequest,
  options: StartOptions,
): Promise<Started> {
  const entry = requirePublicOrchestration(options.name);
  // The path's id first: a bad one is refused whatever the body holds.
  const chosen = options.instanceId !== undefined ? chosenInstanceId(options.instanceId) : undefined;
  const problems = entry.validate(options.input);
  if (problems.length) throw ApiError.invalidInput(problems);
  const keyed = chosen === undefined ? instanceIdForIdempotencyKey(request) : undefined;
  const instanceId = chosen ?? keyed;
  return startOnce(
    client,
    { name: entry.name, input: options.input, instanceId, fromIdempotencyKey: keyed !== undefined },
    instanceId === undefined ? undefined : startClaims(),
  );
}

/** startPublic, answered with the check-status payload (202 + Location). */
export async function startAndAnswer(
  client: DurableClient,
  request: HttpRequest,
  options: StartOptions,
): Promise<HttpResponseInit> {
  const started = await startPublic(client, request, options);
  return checkStatusResponse(client, apiBase(request, options.routeRoot), started);
}
