/**
 * The local host's HTTP edges under attack: the private rpc endpoint, DNS rebinding, bodies sent
 * before any check passed, malformed Host headers, deep JSON, and keys in logs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHost } from '../../host/host';
import { startPatternsHost } from '../support/durable';
import { rawRequest } from '../support/rawHttp';

const logs: { level: string; message: string }[] = [];
let host: RunningHost;
let key: string;
beforeAll(async () => {
  process.env.LIFECOCKPIT_DURABLE_MAX_BODY_BYTES = String(256 * 1024);
  host = await startPatternsHost({
    log: (level, message) => logs.push({ level, message }),
    debug: (message) => logs.push({ level: 'debug', message }),
  });
  delete process.env.LIFECOCKPIT_DURABLE_MAX_BODY_BYTES;
  key = String(host.keys.functionKeys.default);
});
afterAll(async () => host?.close());

const local = (): string => `127.0.0.1:${host.port}`;
const instanceExists = async (id: string): Promise<boolean> =>
  (
    await fetch(
      `${host.url}/runtime/webhooks/durabletask/instances/${id}?code=${encodeURIComponent(host.systemKey)}`,
    )
  ).status !== 404;

describe('the durable rpc endpoint', () => {
  it('is not on the public port: a cross-site simple request there starts nothing', async () => {
    const res = await fetch(`${host.url}/durabletask/orchestrators/chaining/xsite-1`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: 'https://evil.example' },
      body: '{"city":"x"}',
    });
    expect(res.status).toBe(404);
    expect(await instanceExists('xsite-1')).toBe(false);
  });

  it('listens on its own loopback port behind a per-process token', () => {
    const rpc = new URL(host.rpcBaseUrl);
    expect(rpc.hostname).toBe('127.0.0.1');
    expect(Number(rpc.port)).not.toBe(host.port);
    expect(rpc.pathname).toMatch(/^\/durabletask\/[A-Za-z0-9_-]{32}\/$/);
  });

  it('answers the app’s own DurableClient (JSON from inside the process)', async () => {
    const res = await fetch(`${host.rpcBaseUrl}orchestrators/chaining/rpc-ok`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { statusQueryGetUri: string };
    // Built on the host's own base URL, with the system key: never on a name a caller sent.
    expect(
      body.statusQueryGetUri.startsWith(`http://localhost:${host.port}/runtime/webhooks/durabletask/`),
    ).toBe(true);
  });

  it('refuses a wrong or missing token without saying why', async () => {
    const rpc = new URL(host.rpcBaseUrl);
    for (const path of [
      '/durabletask/orchestrators/chaining/t1',
      '/durabletask/AAAA/orchestrators/chaining/t1',
    ]) {
      const res = await fetch(`http://127.0.0.1:${rpc.port}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(res.status).toBe(404);
    }
    expect(await instanceExists('t1')).toBe(false);
  });

  it('refuses any Host but its loopback literal, so a rebinding DNS name cannot reach it', async () => {
    const rpc = new URL(host.rpcBaseUrl);
    for (const name of [`rebind.attacker.example:${rpc.port}`, `localhost:${rpc.port}`, `127.0.0.1`]) {
      const res = await rawRequest(Number(rpc.port), {
        method: 'GET',
        path: `${rpc.pathname}instances/`,
        headers: { Host: name },
      });
      expect(res.status, name).toBe(403);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'HOST_NOT_ALLOWED' });
    }
  });

  it('refuses browsers and non-JSON bodies (what a cross-site simple request sends)', async () => {
    const url = `${host.rpcBaseUrl}orchestrators/chaining/simple-1`;
    const fromPage = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://localhost:3000' },
      body: '{}',
    });
    expect(fromPage.status).toBe(403);
    const textPlain = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(textPlain.status).toBe(415);
    expect(await textPlain.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(await instanceExists('simple-1')).toBe(false);
  });
});

describe('DNS rebinding on the public port', () => {
  it('answers only to loopback names while it listens on loopback', async () => {
    const webhookPath = `/runtime/webhooks/durabletask/instances/?code=${encodeURIComponent(host.systemKey)}`;
    for (const path of ['/api/orders/1', webhookPath]) {
      const res = await rawRequest(host.port, {
        method: 'GET',
        path,
        headers: { Host: `rebind.attacker.example:${host.port}` },
      });
      expect(res.status, path).toBe(403);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'HOST_NOT_ALLOWED' });
    }
    const ok = await rawRequest(host.port, {
      method: 'GET',
      path: '/api/orders/1',
      headers: { Host: local() },
    });
    expect(ok.status).toBe(200);
  });

  it('builds the management URLs on its own base URL, never on the Host a caller sent', async () => {
    const res = await rawRequest(host.port, {
      method: 'POST',
      path: `/runtime/webhooks/durabletask/orchestrators/chaining/host-1?code=${encodeURIComponent(host.systemKey)}`,
      headers: { Host: `evil.localhost:${host.port}`, 'Content-Length': '0' },
    });
    expect(res.status).toBe(202);
    const body = JSON.parse(res.body) as Record<string, string>;
    expect(body.statusQueryGetUri.startsWith(`http://localhost:${host.port}/`)).toBe(true);
    expect(res.body).not.toContain('evil');
  });
});

describe('bodies are read only after route, method and key pass', () => {
  const huge = String(95 * 1024 * 1024);

  it('answers 405, 404 and 401 at once to a 95 MiB declaration it never reads', async () => {
    const cases: [string, string, Record<string, string>, number][] = [
      ['POST', '/api/orders/1', {}, 405],
      ['POST', '/api/no-such-route', {}, 404],
      ['POST', '/api/echo', {}, 401],
      ['POST', '/runtime/webhooks/durabletask/orchestrators/chaining', {}, 401],
    ];
    for (const [method, path, headers, status] of cases) {
      const res = await rawRequest(
        host.port,
        {
          method,
          path,
          headers: { Host: local(), 'Content-Length': huge, ...headers },
          body: 'x'.repeat(10),
        },
        3000,
      );
      expect(res.status, path).toBe(status);
      expect(res.headers.connection).toBe('close');
    }
  });

  it('refuses by Content-Length with 413 before reading, for a caller with a key', async () => {
    const res = await rawRequest(
      host.port,
      {
        method: 'POST',
        path: '/api/echo',
        headers: { Host: local(), 'x-functions-key': key, 'Content-Length': String(1024 * 1024 + 1) },
        body: '{',
      },
      3000,
    );
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it('stops reading a chunked body at the limit (1 MiB for app routes)', async () => {
    const res = await rawRequest(host.port, {
      method: 'POST',
      path: '/api/echo',
      headers: { Host: local(), 'x-functions-key': key, 'Transfer-Encoding': 'chunked' },
      streamUpTo: 40 * 1024 * 1024,
    });
    expect(res.status).toBe(413);
    expect(res.bytesSentBeforeAnswer).toBeLessThan(8 * 1024 * 1024);
  });

  it('has its own, documented limit for the durable webhooks', async () => {
    const code = `code=${encodeURIComponent(host.systemKey)}`;
    const over = await fetch(
      `${host.url}/runtime/webhooks/durabletask/orchestrators/chaining/big-1?${code}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify('x'.repeat(300 * 1024)),
      },
    );
    expect(over.status).toBe(413);
    const under = await fetch(
      `${host.url}/runtime/webhooks/durabletask/orchestrators/chaining/big-2?${code}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify('x'.repeat(200 * 1024)),
      },
    );
    expect(under.status).toBe(202);
  });

  it('sends 100 Continue only to a request that passed every check', async () => {
    const refused = await rawRequest(
      host.port,
      {
        method: 'POST',
        path: '/api/echo',
        headers: { Host: local(), Expect: '100-continue', 'Content-Length': '2' },
      },
      3000,
    );
    expect(refused.status).toBe(401);
    const accepted = await new Promise<number>((resolve, reject) => {
      import('node:http')
        .then(({ default: http }) => {
          const req = http.request(
            {
              port: host.port,
              host: '127.0.0.1',
              method: 'POST',
              path: '/api/echo',
              headers: { Expect: '100-continue', 'x-functions-key': key, 'content-type': 'application/json' },
            },
            (res) => resolve(res.statusCode ?? 0),
          );
          req.on('continue', () => req.end('{"a":1}'));
          req.on('error', reject);
        })
        .catch(reject);
    });
    expect(accepted).toBe(201);
  });
});

describe('malformed requests', () => {
  it('answers 400 to a malformed Host header, without an error log', async () => {
    const before = logs.filter((l) => l.level === 'error').length;
    for (const name of ['a b', '[', 'a:b:c', 'x:99999', '']) {
      const res = await rawRequest(host.port, {
        method: 'GET',
        path: '/api/orders/1',
        headers: { Host: name },
      });
      expect(res.status, `Host: '${name}'`).toBe(400);
    }
    expect(logs.filter((l) => l.level === 'error').length).toBe(before);
  });

  it('refuses JSON nested deeper than 64 levels on the durable API (400, nothing started)', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const res = await fetch(
      `${host.url}/runtime/webhooks/durabletask/orchestrators/chaining/deep-1?code=${encodeURIComponent(host.systemKey)}`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: deep },
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'JSON_TOO_DEEP' });
    expect(await instanceExists('deep-1')).toBe(false);
    const fine = `${'['.repeat(64)}${']'.repeat(64)}`;
    const ok = await fetch(`${host.rpcBaseUrl}orchestrators/chaining/deep-2`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: fine,
    });
    expect(ok.status).toBe(202);
  });
});

describe('keys in logs', () => {
  it('redacts what the app itself logs: a code= value, and any key by value', async () => {
    const start = logs.length;
    const res = await fetch(`${host.url}/api/log-url?code=${encodeURIComponent(key)}`, {
      headers: { 'x-functions-key': host.keys.masterKey },
    });
    expect(res.status).toBe(204);
    const lines = logs.slice(start).filter((l) => l.message.includes('called as'));
    expect(lines).toHaveLength(1);
    expect(lines[0].message).toContain('code=***');
    expect(lines[0].message).toContain('key header ***');
    expect(lines[0].message).not.toContain(key);
    expect(lines[0].message).not.toContain(host.keys.masterKey);
  });

  it('logs a client that hangs up mid-body as one short debug line, with the key redacted', async () => {
    const start = logs.length;
    for (let i = 0; i < 5; i++) {
      await rawRequest(
        host.port,
        {
          method: 'POST',
          path: `/api/echo?code=${encodeURIComponent(key)}`,
          headers: { Host: local(), 'Content-Length': '1000' },
          body: '{"a":',
        },
        300,
      ).catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 200));
    const lines = logs.slice(start);
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
    const debug = lines.filter((l) => l.level === 'debug');
    expect(debug.length).toBe(5);
    for (const line of debug) {
      expect(line.message.split('\n')).toHaveLength(1);
      expect(line.message).toContain('code=***');
    }
    for (const line of logs) {
      for (const secret of [
        key,
        host.keys.masterKey,
        host.systemKey,
        new URL(host.rpcBaseUrl).pathname.split('/')[2],
      ])
        expect(line.message).not.toContain(secret);
    }
  });
});
