/**
 * HTTP streams (`app.setup({ enableHttpStream: true })`) on the local host: the app's programming
 * model runs its own HTTP server, the host forwards each call to it as the request arrives, and the
 * answer reaches the client as the app writes it, all within the host's checks and body limit.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHost, type RunningHost } from '../../host/host';
import { rawRequest } from '../support/rawHttp';

const MiB = 1024 * 1024;
/** The app's body limit in this file: room for the 8 MiB echo, and a limit to run into. */
const LIMIT = 12 * MiB;

const logs: { level: string; message: string }[] = [];
let host: RunningHost;
let key: string;
beforeAll(async () => {
  process.env.API_MAX_BODY_BYTES = String(LIMIT);
  host = await startHost({
    appDir: 'test/apps/streams',
    port: 0,
    memory: true,
    log: (level, message) => logs.push({ level, message }),
  });
  delete process.env.API_MAX_BODY_BYTES;
  key = String(host.keys.functionKeys.default);
});
afterAll(async () => host?.close());

interface Seen {
  invocations: Record<string, number>;
  echo?: { chunks: number; bytes: number; complete: boolean; error?: string };
  count?: { chunks: number; bytes: number; complete: boolean; error?: string };
}
const seen = async (): Promise<Seen> => (await (await fetch(`${host.url}/api/seen`)).json()) as Seen;
const local = (): string => `127.0.0.1:${host.port}`;

/** Resolves when `emitter` emits `event`, or rejects after `ms` (a buffering host would never answer). */
function within<T>(ms: number, what: string, wait: Promise<T>): Promise<T> {
  return Promise.race([
    wait,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: nothing in ${ms} ms`)), ms),
    ),
  ]);
}

describe('an app with HTTP streams', () => {
  it('announces its own HTTP server, and ordinary requests and responses work through it', async () => {
    expect(host.core.capabilities.HttpUri).toMatch(/^http:\/\/localhost:\d+\/$/);
    const res = await fetch(`${host.url}/api/greet/ada?q=1`, { headers: { 'x-custom': 'yes' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-greeted')).toBe('ada');
    expect(res.headers.get('set-cookie')).toMatch(/^seen=1; Path=\/; HttpOnly/);
    expect(await res.json()).toEqual({
      name: 'ada',
      q: '1',
      header: 'yes',
      url: `http://localhost:${host.port}/api/greet/ada?q=1`,
    });
  });

  it('echoes an 8 MiB body while it arrives: the answer starts before the request ends', async () => {
    const body = Buffer.alloc(8 * MiB);
    for (let i = 0; i < body.length; i += 4) body.writeUInt32LE(i, i);
    const firstPart = 1 * MiB;
    const received: Buffer[] = [];
    const req = http.request(`${host.url}/api/echo`, {
      method: 'POST',
      headers: { 'x-functions-key': key, 'content-type': 'application/octet-stream' },
    });
    const response = new Promise<http.IncomingMessage>((resolve, reject) => {
      req.on('response', resolve);
      req.on('error', reject);
    });
    req.write(body.subarray(0, firstPart));
    const res = await within(10_000, 'response head', response);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    const ended = new Promise<void>((resolve) => res.on('end', resolve));
    await within(
      10_000,
      'first echoed bytes',
      new Promise<void>((resolve) =>
        res.on('data', (chunk: Buffer) => {
          received.push(chunk);
          resolve();
        }),
      ),
    );
    // The function has already written part of its answer, and 7 MiB of the request are unsent.
    const midway = await seen();
    expect(midway.echo?.complete).toBe(false);
    req.end(body.subarray(firstPart));
    await within(20_000, 'end of echo', ended);

    const echoed = Buffer.concat(received);
    expect(echoed.length).toBe(body.length);
    const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    expect(digest(echoed)).toBe(digest(body));
    const after = await seen();
    expect(after.echo).toMatchObject({ bytes: body.length, complete: true });
    expect(after.echo?.chunks).toBeGreaterThan(4);
  });

  it('passes timed chunks on as they are made: the first arrives before the last exists', async () => {
    const started = Date.now();
    const res = await fetch(`${host.url}/api/ticks?count=5&ms=250`);
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const arrivals: { at: number; text: string }[] = [];
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      arrivals.push({ at: Date.now(), text: decoder.decode(value, { stream: true }) });
    }
    const lines = arrivals
      .map((a) => a.text)
      .join('')
      .trim()
      .split('\n');
    expect(lines).toHaveLength(5);
    const lastMadeAt = Number(lines[4]?.split(' ')[2]);
    expect(arrivals.length).toBeGreaterThan(1);
    expect(arrivals[0]?.at).toBeLessThan(lastMadeAt);
    expect(lastMadeAt - started).toBeGreaterThanOrEqual(900);
  });

  it('refuses a streamed body over API_MAX_BODY_BYTES with 413, without reading it all', async () => {
    const res = await rawRequest(
      host.port,
      {
        method: 'POST',
        path: '/api/count',
        headers: { Host: local(), 'x-functions-key': key, 'Transfer-Encoding': 'chunked' },
        streamUpTo: 256 * MiB,
      },
      20_000,
    );
    expect(res.status, res.body).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(res.headers.connection).toBe('close');
    // Loopback buffers hold a few MiB; the host stopped reading at the limit, far below the 256.
    expect(res.bytesSentBeforeAnswer).toBeLessThan(LIMIT + 16 * MiB);
    await expect.poll(async () => (await seen()).count?.error).toBeDefined();
    const { count } = await seen();
    expect(count?.complete).toBe(false);
    expect(count?.bytes).toBeLessThanOrEqual(LIMIT);
  });

  it('refuses a declared length over the limit before forwarding anything', async () => {
    const before = (await seen()).invocations.count ?? 0;
    const res = await rawRequest(
      host.port,
      {
        method: 'POST',
        path: '/api/count',
        headers: { Host: local(), 'x-functions-key': key, 'Content-Length': String(LIMIT + 1) },
        body: 'x'.repeat(1000),
      },
      5000,
    );
    expect(res.status).toBe(413);
    expect((await seen()).invocations.count ?? 0).toBe(before);
  });

  it('answers an unauthenticated streamed request 401 before any body is forwarded', async () => {
    const before = (await seen()).invocations.count ?? 0;
    const res = await rawRequest(
      host.port,
      {
        method: 'POST',
        path: '/api/count',
        headers: { Host: local(), 'Transfer-Encoding': 'chunked' },
        streamUpTo: 64 * MiB,
      },
      10_000,
    );
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(res.bytesSentBeforeAnswer).toBeLessThan(16 * MiB);
    // The function never ran: nothing reached the app's server.
    expect((await seen()).invocations.count ?? 0).toBe(before);
  });

  it('tells the function when the client hangs up mid-body, and goes on serving', async () => {
    const req = http.request(`${host.url}/api/count`, {
      method: 'POST',
      headers: { 'x-functions-key': key },
    });
    req.on('error', () => undefined);
    req.write(Buffer.alloc(1 * MiB));
    // This call's record (an earlier test left one over 1 MiB): some of the body, none of the end.
    await expect
      .poll(async () => {
        const count = (await seen()).count;
        return count !== undefined && count.bytes > 0 && count.bytes <= MiB && count.error === undefined;
      })
      .toBe(true);
    req.destroy();
    await expect.poll(async () => (await seen()).count?.error).toBeDefined();
    expect((await seen()).count?.complete).toBe(false);
    const next = await fetch(`${host.url}/api/count`, {
      method: 'POST',
      headers: { 'x-functions-key': key },
      body: 'still here',
    });
    expect(await next.json()).toMatchObject({ bytes: 10, complete: true });
  });

  it('answers 204 when the function returns nothing, and 500 with a code when it throws', async () => {
    const silent = await fetch(`${host.url}/api/silent`);
    expect(silent.status).toBe(204);
    const broken = await fetch(`${host.url}/api/broken`, { method: 'POST', body: 'x' });
    expect(broken.status).toBe(500);
    expect(await broken.json()).toMatchObject({ code: 'FUNCTION_FAILED' });
    expect(logs.some((l) => l.level === 'error' && l.message.includes('handler exploded'))).toBe(true);
  });

  it('keeps keys out of its log', () => {
    const secrets = [key, host.keys.masterKey, host.systemKey];
    for (const { message } of logs) for (const s of secrets) expect(message).not.toContain(s);
  });
});
