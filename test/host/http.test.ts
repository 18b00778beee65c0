import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHost } from '../../host/host';
import { startPatternsHost } from '../support/durable';

let host: RunningHost;
let functionKey: string;
beforeAll(async () => {
  host = await startPatternsHost();
  functionKey = String(host.keys.functionKeys.default);
});
afterAll(async () => host?.close());

describe('HTTP triggers on the local host', () => {
  it('answers the admin status endpoint once the app is loaded', async () => {
    const res = await fetch(`${host.url}/admin/host/status`);
    expect(await res.json()).toEqual({ state: 'Running' });
  });

  it('matches route templates with constraints and prefers literal segments', async () => {
    const byId = await fetch(`${host.url}/api/orders/42?q=x`);
    expect(await byId.json()).toEqual({ id: 42, query: 'x' });
    const literal = await fetch(`${host.url}/api/orders/new`);
    expect(await literal.text()).toBe('new-order-form');
    const notInt = await fetch(`${host.url}/api/orders/abc`);
    expect(notInt.status).toBe(404);
    expect(await notInt.json()).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('answers 405 with the allowed methods for a known route', async () => {
    const res = await fetch(`${host.url}/api/orders/42`, { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET');
  });

  it('requires a function key for function-level functions, by header or code query', async () => {
    const body = JSON.stringify({ hello: 'world' });
    const none = await fetch(`${host.url}/api/echo`, { method: 'POST', body });
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ code: 'UNAUTHORIZED' });
    const wrong = await fetch(`${host.url}/api/echo`, {
      method: 'POST',
      body,
      headers: { 'x-functions-key': 'nope' },
    });
    expect(wrong.status).toBe(401);
    const header = await fetch(`${host.url}/api/echo`, {
      method: 'POST',
      body,
      headers: { 'x-functions-key': functionKey, 'content-type': 'application/json' },
    });
    expect(header.status).toBe(201);
    expect(header.headers.get('x-echo')).toBe('yes');
    expect(header.headers.get('set-cookie')).toMatch(/^session=abc; Path=\/; HttpOnly/);
    expect(await header.json()).toEqual({
      received: { hello: 'world' },
      method: 'POST',
      contentType: 'application/json',
    });
    const query = await fetch(`${host.url}/api/echo?code=${encodeURIComponent(host.keys.masterKey)}`, {
      method: 'PUT',
      body,
    });
    expect(query.status).toBe(201);
  });

  it('accepts only the master key for admin-level functions', async () => {
    const withFunctionKey = await fetch(`${host.url}/api/admin-thing`, {
      headers: { 'x-functions-key': functionKey },
    });
    expect(withFunctionKey.status).toBe(401);
    const withMaster = await fetch(`${host.url}/api/admin-thing`, {
      headers: { 'x-functions-key': host.keys.masterKey },
    });
    expect(await withMaster.text()).toBe('secret');
  });

  it('answers 500 with an error code when a handler throws', async () => {
    const res = await fetch(`${host.url}/api/broken`);
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ code: 'FUNCTION_FAILED' });
  });

  it('runs the app hooks around invocations', async () => {
    await fetch(`${host.url}/api/hookCount`);
    const res = await fetch(`${host.url}/api/hookCount`);
    expect(await res.json()).toEqual({ invocations: 2 });
  });

  it('protects the durable webhooks with the system key', async () => {
    const res = await fetch(`${host.url}/runtime/webhooks/durabletask/instances/`);
    expect(res.status).toBe(401);
  });

  it('returns the standard check-status payload from an HTTP starter', async () => {
    const res = await fetch(`${host.url}/api/orchestrators/chaining/check-1`, { method: 'POST' });
    expect(res.status).toBe(202);
    expect(res.headers.get('retry-after')).toBe('10');
    const body = (await res.json()) as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(
      [
        'id',
        'purgeHistoryDeleteUri',
        'restartPostUri',
        'resumePostUri',
        'rewindPostUri',
        'sendEventPostUri',
        'statusQueryGetUri',
        'suspendPostUri',
        'terminatePostUri',
      ].sort(),
    );
    expect(body.id).toBe('check-1');
    expect(res.headers.get('location')).toBe(body.statusQueryGetUri);
    expect(
      body.statusQueryGetUri.startsWith(`${host.url}/runtime/webhooks/durabletask/instances/check-1?`),
    ).toBe(true);
    expect(body.sendEventPostUri).toContain('/raiseEvent/{eventName}');
  });

  it('waits for completion when the starter asks to', async () => {
    const res = await fetch(`${host.url}/api/run/chaining`, {
      method: 'POST',
      headers: { 'x-functions-key': functionKey },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(['Hello Tokyo!', 'Hello Seattle!', 'Hello London!']);
  });

  it('rejects unknown orchestrations, malformed JSON and bad instance ids on the durable API', async () => {
    const base = `${host.url}/runtime/webhooks/durabletask/orchestrators`;
    const code = `code=${encodeURIComponent(host.systemKey)}`;
    expect((await fetch(`${base}/nope?${code}`, { method: 'POST' })).status).toBe(400);
    const badJson = await fetch(`${base}/chaining?${code}`, { method: 'POST', body: '{not json' });
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toMatchObject({ code: 'INVALID_JSON' });
    expect((await fetch(`${base}/chaining/@bad?${code}`, { method: 'POST' })).status).toBe(400);
  });
});
