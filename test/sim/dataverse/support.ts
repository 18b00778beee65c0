/**
 * Test support for the Dataverse simulator: start one per test file, talk to it with the ecosystem's
 * client (dynamics-web-api, configured exactly as for a real environment: a server URL and a token
 * callback) or with plain fetch for wire-level checks, and run a local webhook receiver.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamicsWebApi } from 'dynamics-web-api';
import { startDataverseSim, type DataverseSim, type DataverseSimOptions } from '../../../sim/dataverse';

export const TOKEN = 'fake-token-for-the-simulator';

/** Unexpected simulator failures (answered with 500) fail the test run instead of scrolling by. */
function failLoudly(err: unknown): void {
  queueMicrotask(() => {
    throw err;
  });
}

export function startSim(options: DataverseSimOptions = {}): Promise<DataverseSim> {
  return startDataverseSim({
    webhookRetryDelayMs: 20,
    webhookTimeoutMs: 2_000,
    onError: failLoudly,
    ...options,
  });
}

/** The client the app ecosystem uses, pointed at the simulator like at any environment. */
export function webApi(sim: DataverseSim): DynamicsWebApi {
  return new DynamicsWebApi({
    serverUrl: sim.url,
    onTokenRefresh: async () => TOKEN,
    propagateErrors: true,
  });
}

export interface WireResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body, or undefined when it is empty or not JSON. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test assertions read arbitrary response shapes
}

export interface WireRequest {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** false: send no Authorization header. */
  auth?: boolean;
  /** Send this text as the body verbatim (for malformed JSON). */
  rawBody?: string;
}

/** One HTTP call to the Web API (`path` relative to /api/data/v9.2/, or absolute). */
export async function call(
  sim: DataverseSim,
  path: string,
  request: WireRequest = {},
): Promise<WireResponse> {
  const url = /^https?:/.test(path) ? path : `${sim.apiUrl}/${path.replace(/^\//, '')}`;
  const headers: Record<string, string> = {
    Accept: 'application/json',
    'OData-MaxVersion': '4.0',
    'OData-Version': '4.0',
    ...(request.auth === false ? {} : { Authorization: `Bearer ${TOKEN}` }),
    ...request.headers,
  };
  let body: string | undefined = request.rawBody;
  if (request.body !== undefined) body = JSON.stringify(request.body);
  if (body !== undefined) headers['Content-Type'] = 'application/json; charset=utf-8';
  const response = await fetch(url, { method: request.method ?? 'GET', headers, body });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

export function idFromEntityId(header: string | null): string {
  const match = /\(([0-9a-f-]{36})\)$/i.exec(header ?? '');
  if (!match) throw new Error(`no record id in OData-EntityId '${String(header)}'`);
  return match[1];
}

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- the RemoteExecutionContext is read field by field
}

export interface Receiver {
  url: string;
  received: ReceivedRequest[];
  /** Status codes to answer with, in order; afterwards 200. */
  respondWith(...statuses: number[]): void;
  /** Wait this long before answering each request. */
  delayAnswers(ms: number): void;
  /** Resolves once `count` requests have arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

/** A local HTTP server standing in for a webhook endpoint. */
export async function startReceiver(): Promise<Receiver> {
  const received: ReceivedRequest[] = [];
  const queue: number[] = [];
  const waiters: (() => void)[] = [];
  let delay = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, json });
      for (const wake of waiters.splice(0)) wake();
      const status = queue.shift() ?? 200;
      setTimeout(() => {
        if (!res.destroyed) res.writeHead(status).end();
      }, delay);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    respondWith: (...statuses) => queue.push(...statuses),
    delayAnswers: (ms) => {
      delay = ms;
    },
    waitFor: async (count, timeoutMs = 5_000) => {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`expected ${count} webhook request(s), got ${received.length}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return received.slice(0, count);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
