/**
 * The simulator's HTTP front door (node:http): on loopback only loopback Host names; then admin
 * routes under `/_sim/` (fault injection, health, waiting for webhook deliveries, the request counter), the Web API under `/api/data/v9.x/` with Dataverse's 401 for a
 * request without a bearer token, queued faults, then the router. Every failure becomes Dataverse's status and error body; an
 * unexpected exception becomes 500 "An unexpected error occurred." and never takes the process down.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { hostAllowed, parseHostHeader } from '../../../host/http/hostHeader';
import { handleFaultAdmin, type FaultInjector } from '../../common/faults';
import type { ChangeGate } from '../changeGate';
import {
  DataverseFault,
  ErrorCodes,
  methodNotAllowed,
  segmentNotFound,
  unexpected,
  uriError,
} from '../errors';
import { newId } from '../ids';
import { parsePath } from '../odata/path';
import { readPreferences } from '../odata/prefer';
import { parseQueryString } from '../odata/queryOptions';
import type { ApiResponse } from './api';
import { executeBatch } from './batch';
import { route, type RouterServices } from './router';

export interface ServerOptions {
  services: RouterServices;
  faults: FaultInjector;
  /** Holds back webhook notifications while a $batch changeset is open (see changeGate.ts). */
  changes: ChangeGate;
  /** Entra tenant named in the WWW-Authenticate challenge of a 401. */
  tenantId: string;
  /** Resolves when queued webhook deliveries are done (GET /_sim/webhooks/idle). */
  webhooksIdle: () => Promise<void>;
  /** Counts the Web API requests received (GET /_sim/requests reads it). */
  requests: RequestCounter;
  /** Where unexpected exceptions are reported (they are answered with a 500 either way). */
  onError?: (err: unknown) => void;
}

/**
 * The Web API requests the simulator received, as Dataverse's service protection would count them:
 * every HTTP request under /api/data/ (a $batch is one, whatever it holds), admin routes not at all.
 */
export class RequestCounter {
  private total = 0;
  private readonly byMethod = new Map<string, number>();

  count(method: string): void {
    this.total++;
    this.byMethod.set(method, (this.byMethod.get(method) ?? 0) + 1);
  }

  snapshot(): { total: number; byMethod: Record<string, number> } {
    return { total: this.total, byMethod: Object.fromEntries(this.byMethod) };
  }

  get value(): number {
    return this.total;
  }
}

const MAX_BODY_BYTES = 64 * 1024 * 1024;
const JSON_TYPE =
  'application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8';

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new DataverseFault(413, ErrorCodes.payload, 'The request body is too large.'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, response: ApiResponse, requestId?: string): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string | string[]> = { 'OData-Version': '4.0', ...response.headers };
  if (requestId) {
    headers.REQ_ID = requestId;
    headers['x-ms-service-request-id'] = requestId;
  }
  let body: string | undefined;
  if (response.json !== undefined) {
    headers['Content-Type'] = JSON_TYPE;
    body = JSON.stringify(response.json);
  } else if (response.text !== undefined) {
    headers['Content-Type'] = 'text/plain';
    body = response.text;
  }
  res.writeHead(response.status, headers);
  res.end(body);
}

function sendError(res: ServerResponse, err: DataverseFault, requestId?: string): void {
  send(res, { status: err.status, headers: err.headers, json: err.body() }, requestId);
}

function challenge(res: ServerResponse, options: ServerOptions, req: IncomingMessage): void {
  const resource = `http://${req.headers.host ?? 'localhost'}/`;
  res.writeHead(401, {
    'WWW-Authenticate': `Bearer authorization_uri=https://login.microsoftonline.com/${options.tenantId}/oauth2/authorize, resource_id=${resource}`,
    'Content-Length': '0',
  });
  res.end();
}

function hasBearer(req: IncomingMessage): boolean {
  const value = req.headers.authorization;
  return typeof value === 'string' && /^Bearer\s+\S+/i.test(value.trim());
}

/**
 * Whether the request names this simulator as a loopback listener may be named: a page on a
 * rebinding name (evil.example resolving to 127.0.0.1) still sends its own name in Host, and must
 * not read or change the records here. A listener on another address answers to any name.
 */
function answersToHost(req: IncomingMessage): boolean {
  const host = parseHostHeader(req.headers.host);
  const local = (req.socket.localAddress ?? '').replace(/^::ffff:/, '');
  return host !== undefined && hostAllowed(host, local, undefined);
}

async function handle(options: ServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!answersToHost(req)) {
    send(res, {
      status: 400,
      json: {
        code: 'INVALID_HOST',
        message:
          'This Dataverse simulator listens on loopback and answers only to a loopback Host name (localhost, 127.0.0.1, [::1]).',
      },
    });
    return;
  }
  const rawUrl = req.url ?? '/';
  const question = rawUrl.indexOf('?');
  const rawPath = question < 0 ? rawUrl : rawUrl.slice(0, question);
  const rawQuery = question < 0 ? '' : rawUrl.slice(question + 1);
  const body = await readBody(req);

  if (rawPath.startsWith('/_sim/')) {
    if (await handleFaultAdmin(options.faults, req, res, body)) return;
    if (rawPath === '/_sim/webhooks/idle' && req.method === 'GET') {
      // Lets a test in another process wait until webhooks caused by its writes were delivered.
      await options.webhooksIdle();
      send(res, { status: 204 });
      return;
    }
    if (rawPath === '/_sim/requests' && req.method === 'GET') {
      send(res, { status: 200, json: options.requests.snapshot() });
      return;
    }
    if (rawPath === '/_sim/health' && req.method === 'GET') {
      send(res, { status: 200, json: { status: 'ok', service: 'dataverse' } });
      return;
    }
    send(res, { status: 404, json: { code: 'NOT_FOUND', message: `No simulator admin route ${rawPath}.` } });
    return;
  }

  const api = /^\/api\/data\/(v9\.[0-2])(?:\/(.*))?$/.exec(rawPath);
  if (!api) {
    sendError(res, segmentNotFound(rawPath));
    return;
  }
  options.requests.count((req.method ?? 'GET').toUpperCase());
  if (!hasBearer(req)) {
    challenge(res, options, req);
    return;
  }
  if ((await options.faults.apply(req, res)).handled) return;

  const requestId = newId();
  try {
    let resourcePath: string;
    try {
      resourcePath = decodeURIComponent(api[2] ?? '');
    } catch {
      throw uriError(`The path '${rawPath}' is not correctly percent-encoded.`);
    }
    const { identity } = options.services;
    const apiBase = `http://${req.headers.host ?? 'localhost'}/api/data/${api[1]}/`;
    const caller = { userId: identity.userId, businessUnitId: identity.businessUnitId };
    if (resourcePath === '$batch') {
      if (req.method !== 'POST') throw methodNotAllowed(req.method ?? 'GET', ['POST']);
      const answer = executeBatch(
        {
          services: options.services,
          faults: options.faults,
          changes: options.changes,
          onError: options.onError,
        },
        {
          contentType: req.headers['content-type'],
          prefer: req.headers.prefer,
          body,
          apiBase,
          operation: { caller, correlationId: newId(), requestId },
        },
      );
      if (answer.delayMs > 0) await new Promise((r) => setTimeout(r, answer.delayMs));
      if (answer.drop) {
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status, {
        ...answer.headers,
        REQ_ID: requestId,
        'x-ms-service-request-id': requestId,
      });
      res.end(answer.body);
      return;
    }
    const response = route(options.services, {
      method: (req.method ?? 'GET').toUpperCase(),
      segments: parsePath(resourcePath),
      params: parseQueryString(rawQuery),
      rawQuery,
      headers: req.headers,
      body,
      apiBase,
      preferences: readPreferences(req.headers.prefer),
      operation: {
        caller,
        correlationId: newId(),
        requestId,
      },
    });
    send(res, response, requestId);
  } catch (err) {
    if (err instanceof DataverseFault) {
      sendError(res, err, requestId);
      return;
    }
    options.onError?.(err);
    sendError(res, unexpected(), requestId);
  }
}

export function createDataverseServer(options: ServerOptions): http.Server {
  return http.createServer((req, res) => {
    handle(options, req, res).catch((err: unknown) => {
      if (err instanceof DataverseFault) sendError(res, err);
      else {
        options.onError?.(err);
        sendError(res, unexpected());
      }
    });
  });
}
