import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppUnderTest } from '../support/appHost';
import { startAppWithDataverse } from '../support/appHost';
import { newInstance } from '../../host/durable/instanceRecords';
import { apiOf, type Api } from './client';

let app: AppUnderTest;
let api: Api;
beforeAll(async () => {
  app = await startAppWithDataverse();
  api = apiOf(app);
});
afterAll(async () => app?.close());

let contactCount = 0;
async function newContact(): Promise<string> {
  contactCount++;
  const created = await app.dataverse.create('contacts', {
    firstname: `Steer${contactCount}`,
    lastname: 'Api',
    emailaddress1: `steer${contactCount}@example.com`,
  });
  return String(created.id);
}

/** Starts a dataverseChange whose Dataverse reads are slow, so it runs for a few seconds. */
async function startSlowChange(instanceId: string): Promise<string> {
  const id = await newContact();
  app.sim.faults.add({
    method: 'GET',
    path: `contacts\\(${id}\\)`,
    kind: 'latency',
    latencyMs: 700,
    count: 10,
  });
  const res = await api.call('POST', `orchestrators/dataverseChange/${instanceId}`, {
    body: { operations: [{ op: 'update', table: 'contacts', id, data: { jobtitle: 'Slow' } }] },
  });
  expect(res.status).toBe(202);
  await api.waitFor(instanceId, ['Running']);
  return instanceId;
}

describe('GET /api/instances/{id}', () => {
  it('answers 202 while running and 200 when finished, with input, output and history on request', async () => {
    const id = await startSlowChange('show-1');
    const running = await api.call('GET', 'instances/show-1');
    expect(running.status).toBe(202);
    expect(running.headers.get('location')).toBe(api.url('instances/show-1'));
    expect(running.json).toMatchObject({ instanceId: id, name: 'dataverseChange', runtimeStatus: 'Running' });
    const done = await api.waitFor(id);
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({
      runtimeStatus: 'Completed',
      phase: 'completed',
      output: { dryRun: false },
    });
    expect(done.json.history).toBeUndefined();
    const withHistory = await api.call('GET', 'instances/show-1?history=true');
    const history = withHistory.json.history as { EventType: string; FunctionName?: string }[];
    expect(history[0]).toMatchObject({ EventType: 'ExecutionStarted', FunctionName: 'dataverseChange' });
    expect(
      history.some(
        (e) => e.EventType === 'TaskCompleted' && e.FunctionName === 'dataverseChange_planBatched',
      ),
    ).toBe(true);
    expect(history[history.length - 1].EventType).toBe('ExecutionCompleted');
  });

  it('shows a failed instance with its error code', async () => {
    const res = await api.call('POST', 'orchestrators/rollback/fail-1', {
      body: { pointId: 'rp-does-not-exist' },
    });
    expect(res.status).toBe(202);
    const done = await api.waitFor('fail-1');
    expect(done.json.runtimeStatus).toBe('Failed');
    expect(done.json.failure).toMatchObject({ code: 'ROLLBACK_POINT_NOT_FOUND' });
  });

  it('answers 404 NOT_FOUND for an unknown id and 400 for a bad history flag or id', async () => {
    const missing = await api.call('GET', 'instances/no-such-instance');
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ code: 'NOT_FOUND' });
    expect(typeof missing.json.message).toBe('string');
    const flag = await api.call('GET', 'instances/show-1?history=maybe');
    expect(flag.status).toBe(400);
    expect(flag.json).toMatchObject({ code: 'INVALID_INPUT', details: [{ field: 'history' }] });
    for (const id of ['a b', 'a%2Fb']) {
      const bad = await api.call('GET', `instances/${encodeURIComponent(id)}`);
      expect(bad.status, id).toBe(400);
    }
  });
});

describe('steering instances', () => {
  it('suspends and resumes a running instance, which then completes', async () => {
    const id = await startSlowChange('steer-suspend');
    const suspend = await api.call('POST', `instances/${id}/suspend`, { body: { reason: 'checking' } });
    expect(suspend.status).toBe(202);
    expect(suspend.json).toMatchObject({ instanceId: id, operation: 'suspend' });
    await api.waitFor(id, ['Suspended']);
    const twice = await api.call('POST', `instances/${id}/suspend`);
    expect(twice.status).toBe(409);
    expect(twice.json.code).toBe('CONFLICT');
    const resume = await api.call('POST', `instances/${id}/resume?reason=checked`);
    expect(resume.status).toBe(202);
    expect((await api.waitFor(id)).json.runtimeStatus).toBe('Completed');
    const late = await api.call('POST', `instances/${id}/resume`);
    expect(late.status).toBe(409);
    expect(late.json.code).toBe('INSTANCE_NOT_RUNNING');
  });

  it('refuses to resume an instance that is not suspended', async () => {
    const id = await startSlowChange('steer-not-suspended');
    const res = await api.call('POST', `instances/${id}/resume`);
    expect(res.status).toBe(409);
    expect(res.json.code).toBe('INSTANCE_NOT_SUSPENDED');
    await api.waitFor(id);
  });

  it('terminates a running instance, then purges it', async () => {
    const id = await startSlowChange('steer-terminate');
    const running = await api.call('DELETE', `instances/${id}`);
    expect(running.status).toBe(409);
    expect(running.json.code).toBe('INSTANCE_RUNNING');
    const res = await api.call('POST', `instances/${id}/terminate`, {
      body: { reason: 'not needed & done #1' },
    });
    expect(res.status).toBe(202);
    const done = await api.waitFor(id);
    expect(done.json).toMatchObject({ runtimeStatus: 'Terminated', output: 'not needed & done #1' });
    const again = await api.call('POST', `instances/${id}/terminate`);
    expect(again.status).toBe(409);
    expect(again.json.code).toBe('INSTANCE_NOT_RUNNING');
    const event = await api.call('POST', `instances/${id}/events/Approval`, { body: { ok: true } });
    expect(event.status).toBe(409);
    expect(event.json.code).toBe('INSTANCE_NOT_RUNNING');
    const purged = await api.call('DELETE', `instances/${id}`);
    expect(purged.status).toBe(200);
    expect(purged.json).toMatchObject({ instanceId: id, instancesDeleted: 1 });
    expect((await api.call('GET', `instances/${id}`)).status).toBe(404);
    const gone = await api.call('DELETE', `instances/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.json.code).toBe('NOT_FOUND');
  });

  it('checks the operation, the reason and the instance', async () => {
    const unknownOp = await api.call('POST', 'instances/show-1/restart');
    expect(unknownOp.status).toBe(404);
    expect(unknownOp.json.code).toBe('NOT_FOUND');
    const badReason = await api.call('POST', 'instances/show-1/terminate', { body: { reason: 42 } });
    expect(badReason.status).toBe(400);
    expect(badReason.json).toMatchObject({ code: 'INVALID_INPUT', details: [{ field: 'reason' }] });
    const badJson = await api.call('POST', 'instances/show-1/terminate', { raw: '{reason' });
    expect(badJson.status).toBe(400);
    expect(badJson.json.code).toBe('INVALID_JSON');
    for (const op of ['terminate', 'suspend', 'resume']) {
      const res = await api.call('POST', `instances/nobody/${op}`);
      expect(res.status).toBe(404);
      expect(res.json.code).toBe('NOT_FOUND');
    }
  });
});

describe('POST /api/instances/{id}/events/{eventName}', () => {
  it('delivers an event with its data to a running instance', async () => {
    const id = await startSlowChange('event-1');
    const res = await api.call('POST', `instances/${id}/events/Approval`, { body: { approvedBy: 'Ada' } });
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ instanceId: id, eventName: 'Approval' });
    await api.waitFor(id);
    const history = (await api.call('GET', `instances/${id}?history=true`)).json.history as {
      EventType: string;
      Name?: string;
      Input?: unknown;
    }[];
    expect(history.find((e) => e.EventType === 'EventRaised')).toMatchObject({
      Name: 'Approval',
      Input: { approvedBy: 'Ada' },
    });
  });

  it('checks the event name, the body and the instance', async () => {
    const badName = await api.call('POST', `instances/show-1/events/${encodeURIComponent('no good!')}`);
    expect(badName.status).toBe(400);
    expect(badName.json).toMatchObject({ code: 'INVALID_INPUT', details: [{ field: 'eventName' }] });
    const badJson = await api.call('POST', 'instances/show-1/events/Approval', { raw: '{"a":' });
    expect(badJson.status).toBe(400);
    expect(badJson.json.code).toBe('INVALID_JSON');
    const big = await api.call('POST', 'instances/show-1/events/Approval', {
      raw: JSON.stringify({ blob: 'x'.repeat(1024 * 1024) }),
    });
    expect(big.status).toBe(413);
    expect(big.json.code).toBe('PAYLOAD_TOO_LARGE');
    const missing = await api.call('POST', 'instances/nobody/events/Approval', { body: {} });
    expect(missing.status).toBe(404);
    expect(missing.json.code).toBe('NOT_FOUND');
  });
});

describe('GET /api/instances', () => {
  it('filters by name, status and created time, and pages with a continuation token', async () => {
    for (const id of ['list-a', 'list-b', 'list-c']) {
      const res = await api.call('POST', `orchestrators/configChange/${id}`, {
        body: { patch: { [id]: true } },
      });
      expect(res.status).toBe(202);
      await api.waitFor(id);
    }
    const all = await api.call('GET', 'instances?name=configChange&top=1000');
    const expected = (all.json.instances as { instanceId: string; name: string }[]).map((i) => i.instanceId);
    expect(expected).toEqual(expect.arrayContaining(['list-a', 'list-b', 'list-c']));
    expect((all.json.instances as { name: string }[]).every((i) => i.name === 'configChange')).toBe(true);
    expect(all.json.continuationToken).toBeUndefined();

    const paged: string[] = [];
    let token: string | undefined;
    do {
      const page = await api.call(
        'GET',
        `instances?name=configChange&top=1${token ? `&continuationToken=${encodeURIComponent(token)}` : ''}`,
      );
      expect(page.status).toBe(200);
      const items = page.json.instances as { instanceId: string }[];
      expect(items.length).toBeLessThanOrEqual(1);
      paged.push(...items.map((i) => i.instanceId));
      token = page.json.continuationToken as string | undefined;
    } while (token);
    expect(paged).toEqual(expected);

    const completed = await api.call('GET', 'instances?status=Completed,Failed&name=configChange,rollback');
    const items = completed.json.instances as { runtimeStatus: string; name: string }[];
    expect(items.length).toBeGreaterThanOrEqual(4);
    expect(items.every((i) => ['Completed', 'Failed'].includes(i.runtimeStatus))).toBe(true);
    expect(new Set(items.map((i) => i.name))).toEqual(new Set(['configChange', 'rollback']));

    const future = new Date(Date.now() + 3600_000).toISOString();
    const none = await api.call('GET', `instances?createdFrom=${future}`);
    expect(none.json.instances).toEqual([]);
    const old = await api.call('GET', 'instances?createdTo=2000-01-01T00:00:00Z');
    expect(old.json.instances).toEqual([]);
  });

  it('answers 400 naming the bad query value', async () => {
    const cases: [string, string][] = [
      ['status=Sleeping', 'status'],
      ['createdFrom=yesterday', 'createdFrom'],
      ['createdFrom=2026-02-01T00:00:00Z&createdTo=2026-01-01T00:00:00Z', 'createdFrom'],
      ['top=0', 'top'],
      ['top=ten', 'top'],
      ['continuationToken=garbage', 'continuationToken'],
    ];
    for (const [query, field] of cases) {
      const res = await api.call('GET', `instances?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.json).toMatchObject({ code: 'INVALID_INPUT', details: [{ field }] });
    }
  });

  it('needs a function key on every instance route', async () => {
    const routes: [string, string][] = [
      ['GET', 'instances'],
      ['GET', 'instances/show-1'],
      ['DELETE', 'instances/show-1'],
      ['POST', 'instances/show-1/terminate'],
      ['POST', 'instances/show-1/suspend'],
      ['POST', 'instances/show-1/resume'],
      ['POST', 'instances/show-1/events/Approval'],
    ];
    for (const [method, path] of routes) {
      for (const key of [null, 'wrong-key']) {
        const res = await api.call(method, path, { key });
        expect(res.status, `${method} ${path}`).toBe(401);
      }
    }
    expect((await api.call('GET', 'instances/show-1')).status).toBe(200);
  });
});

describe('GET /api/instances on a store with many instances', () => {
  it('reads one page from the store per page, newest first, with no gaps or repeats while instances start', async () => {
    const store = app.host.engine.store;
    const base = Date.parse('2020-03-01T00:00:00Z');
    const bulk = (i: number, at: number) =>
      newInstance({
        instanceId: `bulk-${String(i).padStart(3, '0')}`,
        name: 'bulkListed',
        input: null,
        version: null,
        now: at,
      });
    // Three instances per second of created time: the id orders those.
    for (let i = 0; i < 400; i++) store.createInstance(bulk(i, base + Math.floor(i / 3) * 1000));
    // Older instances of another orchestration, which the name filter below has to read past.
    for (let i = 0; i < 60; i++)
      store.createInstance(
        newInstance({
          instanceId: `other-${i}`,
          name: 'otherListed',
          input: null,
          version: null,
          now: base - 1000 * (i + 1),
        }),
      );
    const expected = Array.from({ length: 400 }, (_, i) => `bulk-${String(399 - i).padStart(3, '0')}`);

    const seen: string[] = [];
    let token: string | undefined;
    let added = 400;
    do {
      const before = store.stats.instanceRowsRead;
      const page = await api.call(
        'GET',
        `instances?createdFrom=2020-03-01T00:00:00Z&createdTo=2020-06-01T00:00:00Z&top=25${token ? `&continuationToken=${encodeURIComponent(token)}` : ''}`,
      );
      expect(page.status).toBe(200);
      expect(store.stats.instanceRowsRead - before).toBeLessThanOrEqual(26);
      seen.push(...(page.json.instances as { instanceId: string }[]).map((i) => i.instanceId));
      token = page.json.continuationToken as string | undefined;
      // A newer instance between pages must not shift the pages still to come.
      store.createInstance(bulk(added++, base + 86_400_000));
    } while (token);
    expect(seen).toEqual(expected);

    // The name filter reads past the other orchestration's instances, still without gaps.
    const named: string[] = [];
    token = undefined;
    do {
      const page = await api.call(
        'GET',
        `instances?name=bulkListed&createdTo=2020-06-01T00:00:00Z&top=150${token ? `&continuationToken=${encodeURIComponent(token)}` : ''}`,
      );
      named.push(...(page.json.instances as { instanceId: string }[]).map((i) => i.instanceId));
      token = page.json.continuationToken as string | undefined;
    } while (token);
    const late = Array.from({ length: added - 400 }, (_, i) => `bulk-${added - 1 - i}`);
    expect(named).toEqual([...late, ...expected]);
  });
});
