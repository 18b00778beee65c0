/**
 * Starting a public orchestration from a request: look it up in the registry (404 when it is not
 * public), validate its input (400 naming each field), choose the instance id (the caller's, one
 * derived from an Idempotency-Key, or a new one) and start it at most once. Shared by every route
 * that starts work, so they all behave alike.
 */
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { DurableClient } from 'durable-functions';
import { services } from '../config/services';
import { BlobStartClaims, type StartClaims } from './claims';
import { ApiError } from './errors';
import { apiBase, checkStatusResponse, startOnce, type Started } from './durable';
import { requirePublicOrchestration } from './registry';
import { checkInstanceId, instanceIdForIdempotencyKey } from './request';

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

/** Validates and starts; returns what startOnce returned. */
export async function startPublic(
  client: DurableClient,
  request: HttpRequest,
  options: StartOptions,
): Promise<Started> {
  const entry = requirePublicOrchestration(options.name);
  const problems = entry.validate(options.input);
  if (problems.length) throw ApiError.invalidInput(problems);
  const keyed = options.instanceId === undefined ? instanceIdForIdempotencyKey(request) : undefined;
  const instanceId = options.instanceId !== undefined ? checkInstanceId(options.instanceId) : keyed;
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
