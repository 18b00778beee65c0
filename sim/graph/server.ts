/**
 * The Graph simulator's HTTPS server. Each request gets Graph's request-id / client-request-id,
 * then passes, in order: admin routes, injected faults, routing, the bearer-token check, the
 * route. Every failure leaves as Graph's status and error body. Must never let an exception or a
 * malformed request take the process down, and never serve Graph routes over plain HTTP (the
 * Graph client would not send its token there, so tests over HTTP would prove nothing).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { FaultInjector } from '../common/faults';
import { handleAdmin } from './admin';
import type { SimCertificate } from './certificate';
import { GraphFault, graphErrorBody, graphErrors } from './errors';
import { idsFor, withRequestIds, type RequestIds } from './requestContext';
import { GRAPH_VERSION, resolveRoute } from './router';
import type { GraphReply } from './routes/call';
import type { GraphStore } from './store';

export interface GraphServerParts {
  store: GraphStore;
  faults: FaultInjector;
  certificate: SimCertificate;
}

// Graph caps a JSON request at 4 MB; larger bodies are refused rather than buffered without end.
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const ODATA_JSON =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

export function createGraphServer(parts: GraphServerParts): Server {
  return createServer({ key: parts.certificate.keyPem, cert: parts.certificate.certPem }, (req, res) => {
    const ids = idsFor(req);
    // Set before anything answers, so injected faults carry the ids too (writeHead merges these).
    res.setHeader('request-id', ids.requestId);
    res.setHeader('client-request-id', ids.clientRequestId);
    withRequestIds(ids, () => serve(req, res, parts, ids)).catch((err: unknown) => lastResort(res, ids, err));
  });
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  parts: GraphServerParts,
  ids: RequestIds,
): Promise<void> {
  const body = await readBody(req);
  if (body === 'too large') return sendError(res, ids, graphErrors.payloadTooLarge(MAX_BODY_BYTES));
  if (await handleAdmin(req, res, body, parts)) return;
  if ((await parts.faults.apply(req, res)).handled) return;
  if (res.writableEnded || res.destroyed) return; // The caller went away during injected latency.
  try {
    const method = (req.method ?? 'GET').toUpperCase();
    const [pathname, search = ''] = splitOnce(req.url ?? '/', '?');
    const route = resolveRoute(method, pathname);
    authenticate(req);
    const reply = route.handle({
      method,
      segments: route.segments,
      query: new URLSearchParams(search),
      body,
      serviceRoot: serviceRoot(req),
      store: parts.store,
    });
    sendReply(res, reply);
  } catch (err) {
    if (!(err instanceof GraphFault)) throw err;
    sendError(res, ids, err);
  }
}

function authenticate(req: IncomingMessage): void {
  // Any non-empty bearer token is accepted: the simulator stands in for Graph, not for Entra ID.
  const match = /^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? '');
  if (!match) throw graphErrors.missingToken();
}

function sendReply(res: ServerResponse, reply: GraphReply): void {
  if (reply.body === undefined) {
    res.writeHead(reply.status, { 'Content-Length': '0' });
    res.end();
    return;
  }
  res.writeHead(reply.status, { 'Content-Type': ODATA_JSON });
  res.end(JSON.stringify(reply.body));
}

function sendError(res: ServerResponse, ids: RequestIds, err: GraphFault): void {
  res.writeHead(err.status, { ...err.headers, 'Content-Type': 'application/json' });
  res.end(JSON.stringify(graphErrorBody(err.code, err.message, ids)));
}

// A bug in the simulator still answers like Graph's own internal error, and is reported loudly.
function lastResort(res: ServerResponse, ids: RequestIds, err: unknown): void {
  process.stderr.write(
    `graph-sim: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendError(res, ids, graphErrors.internal());
}

async function readBody(req: IncomingMessage): Promise<Buffer | 'too large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const piece = chunk as Buffer;
    size += piece.length;
    // Keep draining so the response can still be written on the same connection.
    if (size <= MAX_BODY_BYTES) chunks.push(piece);
  }
  return size > MAX_BODY_BYTES ? 'too large' : Buffer.concat(chunks);
}

// Links point back the way the caller came in; a Host header that is not a plain host:port is not
// reflected into them.
function serviceRoot(req: IncomingMessage): string {
  const host = req.headers.host;
  const safe = host && /^[A-Za-z0-9.\-[\]:]+$/.test(host) ? host : `localhost:${req.socket.localPort ?? 443}`;
  return `https://${safe}/${GRAPH_VERSION}`;
}

function splitOnce(text: string, separator: string): [string, string?] {
  const at = text.indexOf(separator);
  return at === -1 ? [text] : [text.slice(0, at), text.slice(at + 1)];
}
