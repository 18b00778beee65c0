/**
 * HTTP at the socket level, for tests that must send what fetch will not: any Host header, a
 * Content-Length the body never reaches, a body cut off midway, or a body streamed until the server
 * answers.
 */
import net from 'node:net';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Body bytes the client had written when the status line arrived. */
  bytesSentBeforeAnswer: number;
}

export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Sent right after the head; the request may declare more than this. */
  body?: string | Buffer;
  /** After `body`, keep writing 64 KiB chunks (chunked encoding) until answered or this many bytes. */
  streamUpTo?: number;
}

function parse(text: string, bytesSentBeforeAnswer: number): RawAnswer {
  const headEnd = text.indexOf('\r\n\r\n');
  const head = text.slice(0, headEnd < 0 ? text.length : headEnd).split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = headEnd < 0 ? '' : text.slice(headEnd + 4);
  if (headers['transfer-encoding'] === 'chunked')
    body = body.replace(/^[0-9a-f]+\r\n|\r\n[0-9a-f]+\r\n|\r\n0\r\n\r\n$/gi, '');
  return { status, headers, body, bytesSentBeforeAnswer };
}

/** Sends the request and resolves with the first complete-looking answer (or what came before close). */
export function rawRequest(port: number, request: RawRequest, timeoutMs = 10_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    let sent = 0;
    let answeredAt: number | undefined;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parse(received, answeredAt ?? sent));
    };
    const timer = setTimeout(() => {
      if (received) finish();
      else {
        done = true;
        socket.destroy();
        reject(new Error(`no answer within ${timeoutMs} ms`));
      }
    }, timeoutMs);
    socket.on('data', (chunk) => {
      answeredAt ??= sent;
      received += chunk.toString('latin1');
      const headEnd = received.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      if (/^HTTP\/1\.1 100 /.test(received)) {
        received = received.slice(headEnd + 4);
        answeredAt = undefined;
        return;
      }
      const length = /\r\ncontent-length: *(\d+)/i.exec(received.slice(0, headEnd))?.[1];
      if (length !== undefined && received.length >= headEnd + 4 + Number(length)) finish();
      if (/\r\n0\r\n\r\n$/.test(received)) finish();
    });
    socket.on('error', () => finish());
    socket.on('close', () => finish());
    socket.on('connect', () => {
      const lines = [`${request.method} ${request.path} HTTP/1.1`];
      for (const [k, v] of Object.entries(request.headers)) lines.push(`${k}: ${v}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (request.body !== undefined) {
        socket.write(request.body);
        sent += Buffer.byteLength(request.body);
      }
      if (request.streamUpTo === undefined) return;
      const limit = request.streamUpTo;
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const pump = (): void => {
        while (!done && answeredAt === undefined && sent < limit) {
          sent += chunk.length;
          // All three parts, always: a short-circuit here would cut a chunk in half on backpressure.
          socket.write(`${chunk.length.toString(16)}\r\n`);
          socket.write(chunk);
          if (!socket.write('\r\n')) {
            socket.once('drain', pump);
            return;
          }
        }
        if (!done && answeredAt === undefined) socket.write('0\r\n\r\n');
      };
      pump();
    });
  });
}
