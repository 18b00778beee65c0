/**
 * Per-request identity for the Graph simulator: the request-id it assigns and the client-request-id
 * it echoes, kept in async context so every answer for a request (a route's result, a route's
 * error, an injected fault) carries the same ids in its headers and in innerError.
 * Must never leak ids between requests.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export interface RequestIds {
  requestId: string;
  clientRequestId: string;
}

const storage = new AsyncLocalStorage<RequestIds>();

// Graph echoes the caller's client-request-id; an absurd one is replaced rather than reflected.
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function idsFor(req: IncomingMessage): RequestIds {
  const requestId = randomUUID();
  const sent = req.headers['client-request-id'];
  const clientRequestId = typeof sent === 'string' && CLIENT_REQUEST_ID.test(sent) ? sent : requestId;
  return { requestId, clientRequestId };
}

export function withRequestIds<T>(ids: RequestIds, work: () => T): T {
  return storage.run(ids, work);
}

/** The ids of the request being served; fresh ones outside a request, so a body is never id-less. */
export function currentRequestIds(): RequestIds {
  const ids = storage.getStore();
  if (ids) return ids;
  const id = randomUUID();
  return { requestId: id, clientRequestId: id };
}
