/**
 * Request bodies under a limit. The declared Content-Length is judged before a byte is read, and
 * reading stops at the limit, so no unauthenticated or oversized request can make the host buffer
 * more than the limit. A body is read only after route, method and key have been checked.
 */
import type http from 'node:http';

export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`The request body is larger than the ${limit} bytes this endpoint accepts.`);
  }
}

/** The client went away before the body was complete: nobody is left to answer. */
export class ClientAborted extends Error {}

/** Whether the request carries a body at all (a length above zero, or chunked). */
export function hasBody(req: http.IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}

/** Throws BodyTooLarge when Content-Length already says the body is over `limit`. */
export function checkDeclaredLength(req: http.IncomingMessage, limit: number): void {
  const length = Number(req.headers['content-length'] ?? 0);
  if (length > limit) throw new BodyTooLarge(limit);
}

export async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  checkDeclaredLength(req, limit);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > limit) throw new BodyTooLarge(limit);
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof BodyTooLarge) throw err;
    if (req.destroyed || isAbort(err)) throw new ClientAborted('The client closed the connection.');
    throw err;
  }
  // A peer that half-closes mid-body ends the stream early without an error.
  if (!req.complete) throw new ClientAborted('The client closed the connection.');
  return Buffer.concat(chunks);
}

function isAbort(err: unknown): boolean {
  const code = (err as { code?: string } | undefined)?.code;
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE';
}
