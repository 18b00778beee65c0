/**
 * Writing the host's own answers: JSON bodies, and errors as `{ code, message }`. An answer sent
 * while the request body is still unread closes the connection, so the rest of that body is never
 * taken as the next request and the client stops sending it.
 */
import type http from 'node:http';
import { hasBody } from './body';

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
  sendJson(res, status, { code, message }, unread ? { ...headers, Connection: 'close' } : headers);
}
