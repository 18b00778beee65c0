/**
 * Hands a checked request to the Durable HTTP API and writes its answer: shared by the public
 * management webhooks and the private rpc listener, which differ only in how they admit a request.
 * Callers have already checked who may ask and read the body within its limit; this refuses only
 * JSON nested too deep for anything downstream to serialize again.
 */
import type http from 'node:http';
import type { DurableApi, DurableUrls } from '../durable/api';
import { MAX_JSON_DEPTH, jsonNestsDeeperThan } from './jsonDepth';
import { sendError, sendJson } from './respond';

export interface DurableCall {
  /** Path below the API prefix, still URL-encoded. */
  path: string;
  query: URLSearchParams;
  body: Buffer;
  /** The request's URL on a configured base, never on a name the request sent. */
  url: string;
  urls: DurableUrls;
}

export async function answerDurable(
  api: DurableApi,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  call: DurableCall,
): Promise<void> {
  if (jsonNestsDeeperThan(call.body.toString('utf8'), MAX_JSON_DEPTH)) {
    sendError(res, 400, 'JSON_TOO_DEEP', `The request body nests deeper than ${MAX_JSON_DEPTH} levels.`);
    return;
  }
  const answer = await api.handle(
    {
      method: (req.method ?? 'GET').toUpperCase(),
      path: call.path,
      query: call.query,
      contentType: req.headers['content-type'],
      continuationToken: req.headers['x-ms-continuation-token'] as string | undefined,
      body: call.body,
      url: call.url,
    },
    call.urls,
  );
  sendJson(res, answer.status, answer.body, answer.headers);
}
