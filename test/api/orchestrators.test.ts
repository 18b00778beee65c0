import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServices } from '../../lib/config/services';
import { readSettings } from '../../lib/config/settings';
import type { AppUnderTest } from '../support/appHost';
import { startAppWithDataverse } from '../support/appHost';
import { JsonBlobs } from '../../lib/storage/jsonBlobs';
import { startOrchestration } from '../support/durable';
import { apiOf, secretsOf, type Api } from './client';

const MAX_BODY = 64 * 1024;
let app: AppUnderTest;
let api: Api;
beforeAll(async () => {
  process.env.API_MAX_BODY_BYTES = String(MAX_BODY);
  app = await startAppWithDataverse();
  api = apiOf(app);
});
afterAll(async () => app?.close());

async function newContact(firstname: string): Promise<string> {
  const created = await app.dataverse.create('contacts', {
    firstname,
    lastname: 'Api',
    emailaddress1: `${firstname.toLowerCase()}@example.com`,
  });
  return String(created.id);
}

/** Where the API keeps its start claims (beside the snapshots). */
function claimBlobs(): JsonBlobs {
  return new JsonBlobs(buildServices(readSettings()).snapshots.container);
}

async function configVersions(): Promise<number> {
  return (await buildServices(readSettings()).config.versions()).length;
}

describe('POST /api/orchestrators/{name}', () => {
  it('starts a dataverseChange that completes, and its status shows the saga steps', async () => {
    const id = await newContact('Started');
    const res = await api.call('POST', 'orchestrators/dataverseChange', {
      body: {
        description: 'job title via the API',
        operations: [{ op: 'update', table: 'contacts', id, data: { jobtitle: 'Started by the API' } }],
      },
    });
    expect(res.status).toBe(202);
    const instanceId = String(res.json.id);
    expect(Object.keys(res.json).sort()).toEqual(
      [
        'id',
        'purgeHistoryDeleteUri',
        'resumePostUri',
        'sendEventPostUri',
        'statusQueryGetUri',
        'suspendPostUri',
        'terminatePostUri',
      ].sort(),
    );
    const statusUrl = api.url(`instances/${instanceId}`);
    expect(res.json.statusQueryGetUri).toBe(statusUrl);
    expect(res.headers.get('location')).toBe(statusUrl);
    expect(res.headers.get('retry-after')).toBe('10');
    expect(res.json.sendEventPostUri).toBe(`${statusUrl}/events/{eventName}`);

    const done = await api.waitFor(instanceId);
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({
      instanceId,
      name: 'dataverseChange',
      runtimeStatus: 'Completed',
      phase: 'completed',
      input: { description: 'job title via the API' },
      output: { dryRun: false, rollbackPointId: `rp-${instanceId}` },
    });
    const steps = done.json.steps as { name: string; state: string }[];
    expect(steps.map((s) => s.name)).toEqual([
      'plan 1 operation',
      'apply 1 operation (one changeset)',
      'record rollback point',
    ]);
    expect(steps.every((s) => s.state === 'completed')).toBe(true);
    expect((await app.dataverse.retrieve('contacts', id)).jobtitle).toBe('Started by the API');
  });

  it('answers 202 while an instance runs and points at the keyed API, never at the webhooks', async () => {
    const res = await api.call('POST', 'orchestrators/configChange', { body: { patch: { theme: 'dark' } } });
    expect(res.status).toBe(202);
    for (const secret of secretsOf(app)) {
      expect(res.text).not.toContain(secret);
      expect(JSON.stringify([...res.headers])).not.toContain(secret);
    }
    expect(res.text).not.toContain('runtime/webhooks');
    expect(res.text).not.toContain('code=');
    await api.waitFor(String(res.json.id));
  });

  it('starts with a chosen instance id, and the same id again returns the existing instance', async () => {
    const before = await configVersions();
    const first = await api.call('POST', 'orchestrators/configChange/cfg-chosen-1', {
      body: { patch: { chosen: 1 } },
    });
    expect(first.status).toBe(202);
    expect(first.json.id).toBe('cfg-chosen-1');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const done = await api.waitFor('cfg-chosen-1');
    expect(done.json.runtimeStatus).toBe('Completed');

    const again = await api.call('POST', 'orchestrators/configChange/cfg-chosen-1', {
      body: { patch: { chosen: 2 } },
    });
    expect(again.status).toBe(202);
    expect(again.json.id).toBe('cfg-chosen-1');
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    // Still the first, finished run: a second run would be Pending or Running with the new input.
    const still = await api.call('GET', 'instances/cfg-chosen-1');
    expect(still.json).toMatchObject({ runtimeStatus: 'Completed', input: { patch: { chosen: 1 } } });
    expect((await configVersions()) - before).toBe(1);
  });

  it('refuses a chosen instance id that belongs to another orchestration', async () => {
    await api.call('POST', 'orchestrators/configChange/cfg-other-name', { body: { patch: { a: 1 } } });
    const res = await api.call('POST', 'orchestrators/createRollbackPoint/cfg-other-name', {
      body: { includeConfig: true },
    });
    expect(res.status).toBe(409);
    expect(res.json.code).toBe('CONFLICT');
    await api.waitFor('cfg-other-name');
  });

  it('runs once for an Idempotency-Key sent twice, and for two racing requests with one key', async () => {
    const before = await configVersions();
    const headers = { 'Idempotency-Key': 'order-2026-11-26-0001' };
    const body = { patch: { idempotent: true } };
    const first = await api.call('POST', 'orchestrators/configChange', { body, headers });
    expect(first.status).toBe(202);
    const id = String(first.json.id);
    expect(id).toMatch(/^idem-[0-9a-f]{40}$/);
    await api.waitFor(id);
    const second = await api.call('POST', 'orchestrators/configChange', { body, headers });
    expect(second.status).toBe(202);
    expect(second.json.id).toBe(id);
    expect(second.headers.get('idempotent-replayed')).toBe('true');

    const raceHeaders = { 'Idempotency-Key': 'race-key-1' };
    const raced = await Promise.all(
      [1, 2, 3].map(() => api.call('POST', 'orchestrators/configChange', { body, headers: raceHeaders })),
    );
    expect(raced.map((r) => r.status)).toEqual([202, 202, 202]);
    expect(new Set(raced.map((r) => r.json.id)).size).toBe(1);
    await api.waitFor(String(raced[0].json.id));
    expect((await configVersions()) - before).toBe(2);
  });

  it('waits for an instance another request has claimed, and answers with it instead of starting', async () => {
    const before = await configVersions();
    await claimBlobs().put('_api/starts/claimed-1.json', {
      instanceId: 'claimed-1',
      name: 'configChange',
      claimedAt: new Date().toISOString(),
    });
    const pending = api.call('POST', 'orchestrators/configChange/claimed-1', {
      body: { patch: { mine: 1 } },
    });
    await new Promise((r) => setTimeout(r, 300));
    await startOrchestration(app.host, 'configChange', { patch: { theirs: 1 } }, 'claimed-1');
    const res = await pending;
    expect(res.status).toBe(202);
    expect(res.json.id).toBe('claimed-1');
    expect(res.headers.get('idempotent-replayed')).toBe('true');
    const done = await api.waitFor('claimed-1');
    expect(done.json.input).toEqual({ patch: { theirs: 1 } });
    expect((await configVersions()) - before).toBe(1);
  });

  it('takes over a stale claim whose instance never started', async () => {
    await claimBlobs().put('_api/starts/stale-1.json', {
      instanceId: 'stale-1',
      name: 'configChange',
      claimedAt: new Date(Date.now() - 60_000).toISOString(),
    });
    const res = await api.call('POST', 'orchestrators/configChange/stale-1', { body: { patch: { s: 1 } } });
    expect(res.status).toBe(202);
    expect(res.headers.get('idempotent-replayed')).toBeNull();
    expect((await api.waitFor('stale-1')).json).toMatchObject({
      runtimeStatus: 'Completed',
      input: { patch: { s: 1 } },
    });
  });

  it('refuses an Idempotency-Key reused for a different request, and a malformed key', async () => {
    const headers = { 'Idempotency-Key': 'reused-key' };
    const first = await api.call('POST', 'orchestrators/configChange', {
      body: { patch: { a: 1 } },
      headers,
    });
    await api.waitFor(String(first.json.id));
    const other = await api.call('POST', 'orchestrators/configChange', {
      body: { patch: { a: 2 } },
      headers,
    });
    expect(other.status).toBe(409);
    expect(other.json.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const long = await api.call('POST', 'orchestrators/configChange', {
      body: { patch: { a: 1 } },
      headers: { 'Idempotency-Key': 'k'.repeat(201) },
    });
    expect(long.status).toBe(400);
    expect(long.json).toMatchObject({ code: 'INVALID_INPUT', details: [{ field: 'Idempotency-Key' }] });
  });

  it('answers 404 NOT_FOUND for names that are not public orchestrations', async () => {
    for (const name of ['nope', 'rollbackExpiry', 'health']) {
      const res = await api.call('POST', `orchestrators/${name}`, { body: {} });
      expect(res.status).toBe(404);
      expect(res.json.code).toBe('NOT_FOUND');
      expect(res.json.message).toContain('dataverseChange');
    }
  });

  it('validates input before anything starts, naming each bad field', async () => {
    const cases: [string, unknown, string[]][] = [
      [
        'dataverseChange',
        { operations: [{ op: 'merge', table: 'contacts', data: { a: 1 } }] },
        ['operations[0].op'],
      ],
      ['dataverseChange', { operations: [] }, ['operations']],
      ['dataverseChange', [1, 2], ['(body)']],
      [
        'dataverseChange',
        { operations: [{ op: 'delete', table: 'contacts', id: 'x' }], dryRun: 'yes' },
        ['operations[0].id', 'dryRun'],
      ],
      ['configChange', { value: { a: 1 }, patch: { b: 2 } }, ['value']],
      ['configChange', { patch: 'text', retentionDays: 1.5 }, ['retentionDays', 'patch']],
      ['rollback', { pointId: 42, force: 'yes' }, ['pointId', 'force']],
      ['rollback', { pointId: 'rp-1', extra: true }, ['extra']],
      ['createRollbackPoint', { records: [{ table: 'contacts', id: 'not-a-guid' }] }, ['records[0].id']],
      ['createRollbackPoint', {}, ['records']],
    ];
    const before = await api.call('GET', 'instances?top=1000');
    for (const [name, body, fields] of cases) {
      const res = await api.call('POST', `orchestrators/${name}`, { body });
      expect(res.status, `${name} ${JSON.stringify(body)}`).toBe(400);
      expect(res.json.code).toBe('INVALID_INPUT');
      expect(typeof res.json.message).toBe('string');
      const details = res.json.details as { field: string; message: string }[];
      expect(details.map((d) => d.field).sort()).toEqual([...fields].sort());
      expect(details.every((d) => typeof d.message === 'string' && d.message !== '')).toBe(true);
    }
    const empty = await api.call('POST', 'orchestrators/dataverseChange');
    expect(empty.status).toBe(400);
    expect(empty.json.code).toBe('INVALID_INPUT');
    const after = await api.call('GET', 'instances?top=1000');
    expect((after.json.instances as unknown[]).length).toBe((before.json.instances as unknown[]).length);
  });

  it('answers 400 INVALID_JSON for a malformed body', async () => {
    const res = await api.call('POST', 'orchestrators/dataverseChange', {
      raw: '{"operations": [',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: 'INVALID_JSON' });
    expect(typeof res.json.message).toBe('string');
  });

  it('answers 400 JSON_TOO_DEEP for a valid input nested too deep to start (instead of a 500)', async () => {
    const depth = 20_000;
    const raw = `{"value":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
    expect(raw.length).toBeLessThan(MAX_BODY);
    const before = await configVersions();
    const res = await api.call('POST', 'orchestrators/configChange/too-deep-1', { raw });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: 'JSON_TOO_DEEP' });
    expect((await api.call('GET', 'instances/too-deep-1')).status).toBe(404);
    expect(await configVersions()).toBe(before);
  });

  it('answers 413 PAYLOAD_TOO_LARGE above the body limit, and accepts a body just under it', async () => {
    const body = (filler: number): string => JSON.stringify({ value: { notes: 'x'.repeat(filler) } });
    const over = await api.call('POST', 'orchestrators/configChange', { raw: body(MAX_BODY) });
    expect(over.status).toBe(413);
    expect(over.json).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(typeof over.json.message).toBe('string');
    const under = await api.call('POST', 'orchestrators/configChange', { raw: body(MAX_BODY - 100) });
    expect(under.status).toBe(202);
    expect((await api.waitFor(String(under.json.id))).json.runtimeStatus).toBe('Completed');
  });

  it('answers 400 for an instance id it cannot use', async () => {
    const res = await api.call('POST', `orchestrators/configChange/${encodeURIComponent('has space')}`, {
      body: { patch: { a: 1 } },
    });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: 'INVALID_ID', details: [{ field: 'instanceId' }] });
  });

  it('needs a function key', async () => {
    const none = await api.call('POST', 'orchestrators/configChange', {
      body: { patch: { a: 1 } },
      key: null,
    });
    expect(none.status).toBe(401);
    expect(none.json.code).toBeDefined();
    const wrong = await api.call('POST', 'orchestrators/configChange', {
      body: { patch: { a: 1 } },
      key: 'not-the-key',
    });
    expect(wrong.status).toBe(401);
  });
});
