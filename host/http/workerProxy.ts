/**
 * The streamed path of an HTTP call, for an app whose programming model announced an `HttpUri` (its
 * own HTTP server, started by `app.setup({ enableHttpStream: true })`): as the Functions host does
 * for such a worker, the request is forwarded to that server while it arrives, tagged with the
 * invocation id, and the server's answer goes back to the client as it is written.
 *
 * Must never: start before the caller has passed the Host, route, method, key and declared-length
 * checks (server.ts runs them first); let more than `limit` body bytes through (over it, reading
 * stops and the client gets 413, or a cut connection once an answer has begun); send the app's
 * server the client's own headers (keys travel in them; the app gets headers as trigger metadata).
 */
import http from 'node:http';
import { BodyTooLarge, hasBody } from './body';
import { sendError } from './respond';

/** Headers that describe one connection, not the message: never passed from the app's server on. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
]);

export const INVOCATION_ID_HEADER = 'x-ms-invocation-id';

/** Refused at start: an announced `HttpUri` this host will not send requests to. */
export class WorkerUriRefused extends Error {
  readonly code = 'WORKER_HTTP_URI_INVALID';
}

/**
 * The app's stream server from its capabilities, or undefined when it announced none (a buffered
 * app). Only a plain-HTTP loopback address is accepted: requests, bodies and all, go nowhere else.
 */
export function workerStreamUri(capabilities: Readonly<Record<string, string>>): URL | undefined {
  const raw = capabilities.HttpUri;
  if (raw === undefined || raw === '') return undefined;
  let uri: URL;
  try {
    uri = new URL(raw);
  } catch {
    throw new WorkerUriRefused(`The app announced HttpUri ${JSON.stringify(raw)}, which is not a URL.`);
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(uri.hostname);
  if (uri.protocol !== 'http:' || !loopback || uri.username || uri.password) {
    throw new WorkerUriRefused(
      `The app announced HttpUri ${JSON.stringify(raw)}; the host forwards HTTP streams only to http:// on this machine's loopback.`,
    );
  }
  return uri;
}

export interface WorkerForward {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  /** The app's own HTTP server, as its programming model announced it. */
  workerUri: URL;
  agent: http.Agent;
  /** Path and query of the request line (already checked to be an origin-form path). */
  target: string;
  invocationId: string;
  functionName: string;
  /** The Host the request came to, after the host-name check: the app builds `request.url` on it. */
  forwardedHost: string;
  /** Most body bytes the function may receive. */
  limit: number;
  /** Runs the invocation; `responded` says whether the app gave the library a response to write. */
  invoke(): Promise<{ responded: boolean }>;
  /** The invocation failed; the client is told 500 unless an answer has begun. */
  failed(err: unknown): void;
  /** The app's server could not be reached. */
  unreachable(err: unknown): void;
}

export function forwardToWorker(f: WorkerForward): Promise<void> {
  const { req, res } = f;
  return new Promise<void>((resolve) => {
    /** Whether the client's status line is decided (the app's, or one of ours). */
    let answered = false;
    let upstreamDone = false;
    let abandoned = false;

    const upstream = http.request({
      hostname: f.workerUri.hostname,
      port: f.workerUri.port,
      method: req.method,
      path: f.target,
      agent: f.agent,
      headers: {
        [INVOCATION_ID_HEADER]: f.invocationId,
        'x-forwarded-host': f.forwardedHost,
        'x-forwarded-proto': 'http',
      },
    });
    const abandon = (): void => {
      if (abandoned || upstreamDone) return;
      abandoned = true;
      upstream.destroy();
    };
    /** One of the host's own answers, or a cut connection when the app's answer has begun. */
    const answerInstead = (status: number, code: string, message: string): void => {
      abandon();
      if (answered) {
        // Mid-answer, or after it while the body still comes: the connection itself goes.
        req.socket.destroy();
        return;
      }
      answered = true;
      sendError(res, status, code, message);
    };

    res.once('close', () => {
      // The client went away (or the answer is complete): nothing more to fetch for it.
      abandon();
      resolve();
    });

    upstream.on('response', (up) => {
      if (answered) {
        up.destroy();
        return;
      }
      answered = true;
      res.statusCode = up.statusCode ?? 502;
      for (const [name, value] of Object.entries(up.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) res.setHeader(name, value);
      }
      up.on('data', (chunk: Buffer) => {
        if (!res.write(chunk)) up.pause();
      });
      res.on('drain', () => up.resume());
      up.on('end', () => {
        upstreamDone = true;
        if (up.complete) res.end();
        else res.destroy();
      });
      up.on('error', () => res.destroy());
    });
    upstream.on('error', (err) => {
      if (abandoned || upstreamDone) return;
      abandoned = true;
      f.unreachable(err);
      answerInstead(502, 'WORKER_UNREACHABLE', "The app's HTTP stream server did not answer.");
    });

    if (!hasBody(req)) upstream.end();
    else {
      let seen = 0;
      const onData = (chunk: Buffer): void => {
        seen += chunk.length;
        if (seen > f.limit) {
          // Nothing more goes to the app; what still arrives before the close is dropped.
          req.off('data', onData);
          req.resume();
          answerInstead(413, 'PAYLOAD_TOO_LARGE', new BodyTooLarge(f.limit).message);
          return;
        }
        if (!upstream.write(chunk)) req.pause();
      };
      upstream.on('drain', () => req.resume());
      req.on('data', onData);
      req.on('end', () => {
        if (seen <= f.limit) upstream.end();
      });
      // A client that hangs up mid-body: the function's body stream fails instead of waiting forever.
      req.on('close', () => {
        if (!req.complete) abandon();
      });
    }

    f.invoke().then(
      ({ responded }) => {
        // The app returned no response: the library writes nothing, so answer as the buffered path does.
        if (!responded && !answered) {
          abandon();
          answered = true;
          res.statusCode = 204;
          res.end();
        }
      },
      (err: unknown) => {
        f.failed(err);
        answerInstead(500, 'FUNCTION_FAILED', `The function '${f.functionName}' failed.`);
      },
    );
  });
}
