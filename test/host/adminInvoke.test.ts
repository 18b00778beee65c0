/**
 * `POST /admin/functions/{name}` with the master key runs a non-HTTP function now, as `func start`
 * and Azure do: a timer trigger as its schedule would, any other trigger with `input` as its data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHost } from '../../host/host';
import { startPatternsHost, webhook } from '../support/durable';

let host: RunningHost;
beforeAll(async () => {
  host = await startPatternsHost();
});
afterAll(async () => host?.close());

function invoke(name: string, body: unknown, key: string | null = host.keys.masterKey): Promise<Response> {
  return fetch(`${host.url}/admin/functions/${name}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(key ? { 'x-functions-key': key } : {}) },
    body: JSON.stringify(body),
  });
}

async function counter(key: string, expected: number): Promise<unknown> {
  let value: unknown;
  for (let i = 0; i < 300 && value !== expected; i++) {
    const res = await fetch(webhook(host, `entities/counter/${key}`));
    if (res.status === 200) value = await res.json();
    if (value !== expected) await new Promise((r) => setTimeout(r, 10));
  }
  return value;
}

describe('POST /admin/functions/{name}', () => {
  it('runs a timer-triggered function now, each call once', async () => {
    expect((await invoke('yearlyTally', { input: '' })).status).toBe(202);
    expect(await counter('admin-timer', 1)).toBe(1);
    expect((await invoke('yearlyTally', {})).status).toBe(202);
    expect(await counter('admin-timer', 2)).toBe(2);
  });

  it('hands any other trigger its input as a string', async () => {
    expect((await invoke('manualTally', { input: '5' })).status).toBe(202);
    expect(await counter('admin-generic', 5)).toBe(5);
  });

  it('asks for the master key, not a function key, before anything else', async () => {
    const none = await invoke('yearlyTally', { input: '' }, null);
    expect(none.status).toBe(401);
    const functionKey = await invoke('yearlyTally', {}, String(host.keys.functionKeys.default));
    expect(functionKey.status).toBe(401);
    expect(((await functionKey.json()) as { code: string }).code).toBe('UNAUTHORIZED');
    const get = await fetch(`${host.url}/admin/functions/yearlyTally`, {
      headers: { 'x-functions-key': host.keys.masterKey },
    });
    expect(get.status).toBe(405);
  });

  it('names what it cannot run', async () => {
    const missing = await invoke('noSuchFunction', {});
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'FUNCTION_NOT_FOUND' });
    const httpFunction = await invoke('startOrchestration', {});
    expect(httpFunction.status).toBe(400);
    expect(await httpFunction.json()).toMatchObject({ code: 'NOT_INVOCABLE', message: /its own URL/ });
    const activity = await invoke('sayHello', { input: 'x' });
    expect(activity.status).toBe(400);
    const badBody = await fetch(`${host.url}/admin/functions/manualTally`, {
      method: 'POST',
      headers: { 'x-functions-key': host.keys.masterKey },
      body: '{not json',
    });
    expect(badBody.status).toBe(400);
    expect(await badBody.json()).toMatchObject({ code: 'INVALID_BODY' });
    // Deep enough to overflow the stack when the input is turned back into text: refused first.
    const deep = await fetch(`${host.url}/admin/functions/manualTally`, {
      method: 'POST',
      headers: { 'x-functions-key': host.keys.masterKey },
      body: `{"input":${'['.repeat(20_000)}${']'.repeat(20_000)}}`,
    });
    expect(deep.status).toBe(400);
    expect(await deep.json()).toMatchObject({ code: 'JSON_TOO_DEEP' });
  });
});
