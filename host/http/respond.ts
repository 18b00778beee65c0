/**
 * Writing the host's own answers: JSON bodies, and errors as `{ code, message }`. An answer sent
 * while the request body is still unread closes the connection, so the rest of that body is never
 * taken as the next request and the client stops sending it; the close lingers briefly (below) so
 * that the client gets to read the answer.
 */
import type http from 'node:http';
import type net from 'node:net';
import { hasBody } from './body';

/** How long a refused client may go on sending (every byte dropped) before the connection is cut. */
export const LINGER_MS = 2000;

/**
 * Closing a socket while the client is still sending makes the kernel answer with a reset, and a
 * client busy writing then loses the answer that had already arrived. So once the answer is out,
 * the host half-closes and lets the connection drain (nothing is kept) until the client closes
 * its side or LINGER_MS pass. Node closes a `Connection: close` socket through `destroySoon`.
 */
function lingerOnClose(socket: net.Socket | null): void {
  if (!socket) return;
  const closable = socket as net.Socket & { destroySoon?: () => void };
  closable.destroySoon = () => {
    socket.end();
    const cut = setTimeout(() => socket.destroy(), LINGER_MS);
    cut.unref();
    socket.once('end', () => socket.destroy());
    socket.once('close', () => clearTimeout(cut));
  };
}

export function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(text ? { 'Content-Type': 'application/json; charset=utf-8' } : {}),
    ...headers,
  });
  res.end(text);
}

export function sendError(
  res: http.ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  const req = res.req as http.IncomingMessage | undefined;
  const unread = req !== undefined && hasBody(req) && !req.complete;
  if (unread) lingerOnClose(res.socket);
  sendJson(res, status, { code, message }, unread ? { ...headers, Connection: 'close' } : headers);
}
