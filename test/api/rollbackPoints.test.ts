import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppUnderTest } from '../support/appHost';
import { startAppWithDataverse } from '../support/appHost';
import { apiOf, type Api } from './client';

let app: AppUnderTest;
let api: Api;
beforeAll(async () => {
  app = await startAppWithDataverse();
  api = apiOf(app);
});
afterAll(async () => app?.close());

let count = 0;
async function newContact(): Promise<string> {
  count++;
  const created = await app.dataverse.create('contacts', {
    firstname: `Point${count}`,
    lastname: 'Api',
    emailaddress1: `point${count}@example.com`,
  });
  return String(created.id);
}

/** Runs a dataverseChange through the API and returns its rollback point id. */
async function change(id: string, data: Record<string, unknown>, description = 'a change'): Promise<string> {
  const res = await api.call('POST', 'orchestrators/dataverseChange', {
    body: { description, operations: [{ op: 'update', table: 'contacts', id, data }] },
  });
  expect(res.status).toBe(202);
  const done = await api.waitFor(String(res.json.id));
  expect(done.json.runtimeStatus).toBe('Completed');
  return String((done.json.output as { rollbackPointId: string }).rollbackPointId);
}

async function jobtitle(id: string): Promise<unknown> {
  return (await app.dataverse.retrieve('contacts', id)).jobtitle ?? null;
}

interface PointJson {
  id: string;
  status: string;
  origin: string;
  description: string;
  plan?: unknown[];
  resources: unknown[];
}

describe('listing and showing rollback points', () => {
  it('lists points filtered by status and resource, and shows one with its undo plan', async () => {
    const a = await newContact();
    const b = await newContact();
    const pa = await change(a, { jobtitle: 'A1' }, 'change of a');
    const pb = await change(b, { jobtitle: 'B1' }, 'change of b');

    const all = await api.call('GET', 'rollback-points');
    expect(all.status).toBe(200);
    const ids = (all.json.points as PointJson[]).map((p) => p.id);
    expect(ids).toEqual(expect.arrayContaining([pa, pb]));
    expect((all.json.points as PointJson[]).every((p) => p.plan === undefined)).toBe(true);

    const ofA = await api.call('GET', `rollback-points?resource=dataverse:contacts:${a.toUpperCase()}`);
    expect((ofA.json.points as PointJson[]).map((p) => p.id)).toEqual([pa]);
    const active = await api.call('GET', 'rollback-points?status=active');
    expect((active.json.points as PointJson[]).every((p) => p.status === 'active')).toBe(true);
    const expired = await api.call('GET', 'rollback-points?status=expired,rolled-back');
    expect((expired.json.points as PointJson[]).map((p) => p.id)).not.toContain(pa);

    const one = await api.call('GET', `rollback-points/${pa}`);
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({
      id: pa,
      origin: 'saga',
      status: 'active',
      description: 'change of a',
      plan: [{ kind: 'dataverse-restore-fields', id: a, fields: { jobtitle: null } }],
    });
  });

  it('answers 404 for an unknown point and 400 for bad filters', async () => {
    const missing = await api.call('GET', 'rollback-points/rp-nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ code: 'NOT_FOUND' });
    expect(typeof missing.json.message).toBe('string');
    for (const [query, field] of [
      ['status=done', 'status'],
      ['resource=contacts', 'resource'],
      ['resource=dataverse:contacts', 'resource'],
    ]) {
      const res = await api.call('GET', `rollback-points?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.json).toMatchObject({ code: 'INVALID_INPUT', details: [{ field }] });
    }
  });
});

describe('planning and executing a rollback', () => {
  it('plans without changing anything, executes, and refuses a second execution', async () => {
    const id = await newContact();
    const pointId = await change(id, { jobtitle: 'To undo' });

    const plan = await api.call('POST', `rollback-points/${pointId}/plan`);
    expect(plan.status).toBe(200);
    expect(plan.json).not.toHaveProperty('instanceId');
    expect(plan.json).toMatchObject({
      pointId,
      dryRun: true,
      steps: [{ pointId, plan: [{ kind: 'dataverse-restore-fields', id, fields: { jobtitle: null } }] }],
      conflicts: [],
    });
    expect(await jobtitle(id)).toBe('To undo');
    expect((await api.call('GET', `rollback-points/${pointId}`)).json.status).toBe('active');

    const run = await api.call('POST', `rollback-points/${pointId}/execute`, { body: {} });
    expect(run.status).toBe(202);
    expect(run.headers.get('location')).toBe(api.url(`instances/${String(run.json.id)}`));
    const done = await api.waitFor(String(run.json.id));
    expect(done.json).toMatchObject({
      name: 'rollback',
      runtimeStatus: 'Completed',
      output: { rolledBack: [pointId] },
    });
    expect(await jobtitle(id)).toBeNull();
    expect((await api.call('GET', `rollback-points/${pointId}`)).json.status).toBe('rolled-back');

    const again = await api.call('POST', `rollback-points/${pointId}/execute`);
    expect(again.status).toBe(409);
    expect(again.json.code).toBe('ROLLBACK_POINT_NOT_ACTIVE');
  });

  it('plans a refusal as 409 with the code, and executes with cascade', async () => {
    const id = await newContact();
    const first = await change(id, { jobtitle: 'First' }, 'first');
    const second = await change(id, { jobtitle: 'Second' }, 'second');
    const refused = await api.call('POST', `rollback-points/${first}/plan`);
    expect(refused.status).toBe(409);
    expect(refused.json.code).toBe('ROLLBACK_DEPENDENCY');
    expect(refused.json.message).toContain(second);

    const plan = await api.call('POST', `rollback-points/${first}/plan`, { body: { cascade: true } });
    expect(plan.status).toBe(200);
    expect((plan.json.steps as { pointId: string }[]).map((s) => s.pointId)).toEqual([second, first]);

    const run = await api.call('POST', `rollback-points/${first}/execute`, {
      body: { cascade: true },
      headers: { 'Idempotency-Key': `cascade-${first}` },
    });
    expect(run.status).toBe(202);
    const replay = await api.call('POST', `rollback-points/${first}/execute`, {
      body: { cascade: true },
      headers: { 'Idempotency-Key': `cascade-${first}` },
    });
    expect(replay.json.id).toBe(run.json.id);
    const done = await api.waitFor(String(run.json.id));
    expect(done.json.output).toMatchObject({ rolledBack: [second, first] });
    expect(await jobtitle(id)).toBeNull();
  });

  it('checks the action, the options and the point', async () => {
    const id = await newContact();
    const pointId = await change(id, { jobtitle: 'Checked' });
    const cases: [string, { body?: unknown; raw?: string }, number, string, string?][] = [
      ['plan', { body: { cascade: 'yes' } }, 400, 'INVALID_INPUT', 'cascade'],
      ['execute', { body: { force: 1 } }, 400, 'INVALID_INPUT', 'force'],
      ['execute', { body: { dryRun: true } }, 400, 'INVALID_INPUT', 'dryRun'],
      ['execute', { body: [true] }, 400, 'INVALID_INPUT', '(body)'],
      ['execute', { raw: '{"cascade": tru' }, 400, 'INVALID_JSON'],
      ['undo', { body: {} }, 404, 'NOT_FOUND'],
    ];
    for (const [action, options, status, code, field] of cases) {
      const res = await api.call('POST', `rollback-points/${pointId}/${action}`, options);
      expect(res.status, `${action} ${JSON.stringify(options)}`).toBe(status);
      expect(res.json.code).toBe(code);
      if (field) expect((res.json.details as { field: string }[]).map((d) => d.field)).toEqual([field]);
    }
    for (const action of ['plan', 'execute']) {
      const res = await api.call('POST', `rollback-points/rp-unknown/${action}`);
      expect(res.status).toBe(404);
      expect(res.json.code).toBe('NOT_FOUND');
    }
    expect((await api.call('GET', `rollback-points/${pointId}`)).json.status).toBe('active');
    expect(await jobtitle(id)).toBe('Checked');
  });
});

/** Ids of the `rollback` instances the app has (of any status). */
async function rollbackInstances(): Promise<string[]> {
  const res = await api.call('GET', 'instances?name=rollback&top=1000');
  expect(res.status).toBe(200);
  return (res.json.instances as { instanceId: string }[]).map((i) => i.instanceId);
}

describe('a rollback plan is a read', () => {
  it('starts no instance, and a refused plan leaves no Failed instance behind', async () => {
    const id = await newContact();
    const first = await change(id, { jobtitle: 'Planned 1' }, 'first');
    await change(id, { jobtitle: 'Planned 2' }, 'second');
    const before = await rollbackInstances();

    const refused = await api.call('POST', `rollback-points/${first}/plan`);
    expect(refused.status).toBe(409);
    expect(refused.json.code).toBe('ROLLBACK_DEPENDENCY');
    const planned = await api.call('POST', `rollback-points/${first}/plan`, { body: { cascade: true } });
    expect(planned.status).toBe(200);
    expect(planned.json).not.toHaveProperty('instanceId');

    expect(await rollbackInstances()).toEqual(before);
    const failed = await api.call('GET', 'instances?status=Failed&name=rollback&top=1000');
    expect(failed.json.instances).toEqual([]);
  });

  it('refuses an execution the same way, before starting anything', async () => {
    const id = await newContact();
    const first = await change(id, { jobtitle: 'Kept 1' }, 'first');
    await change(id, { jobtitle: 'Kept 2' }, 'second');
    const before = await rollbackInstances();
    const refused = await api.call('POST', `rollback-points/${first}/execute`);
    expect(refused.status).toBe(409);
    expect(refused.json.code).toBe('ROLLBACK_DEPENDENCY');
    expect(await rollbackInstances()).toEqual(before);
    expect(await jobtitle(id)).toBe('Kept 2');
  });
});

describe('the rollback point an instance left', () => {
  it('is part of the instance, with whether, when and by which instance it was rolled back', async () => {
    const id = await newContact();
    const res = await api.call('POST', 'orchestrators/dataverseChange', {
      body: { operations: [{ op: 'update', table: 'contacts', id, data: { jobtitle: 'Linked' } }] },
    });
    const sagaId = String(res.json.id);
    const done = await api.waitFor(sagaId);
    const pointId = `rp-${sagaId}`;
    expect(done.json.rollbackPoint).toEqual({ id: pointId, status: 'active' });

    const run = await api.call('POST', `rollback-points/${pointId}/execute`);
    const runId = String(run.json.id);
    await api.waitFor(runId);
    const after = await api.call('GET', `instances/${sagaId}`);
    expect(after.json.rollbackPoint).toMatchObject({
      id: pointId,
      status: 'rolled-back',
      rollback: { instanceId: runId, finishedAt: expect.any(String) },
    });
    // The rollback itself, a dry run and a failed change left none.
    expect((await api.call('GET', `instances/${runId}`)).json).not.toHaveProperty('rollbackPoint');
  });
});

describe('a rollback that failed', () => {
  it('can be run again once the cause is fixed, and finishes what the first run left', async () => {
    const a = await newContact();
    const b = await newContact();
    const res = await api.call('POST', 'orchestrators/dataverseChange', {
      body: {
        description: 'two job titles',
        operations: [
          { op: 'update', table: 'contacts', id: a, data: { jobtitle: 'Retry A' } },
          { op: 'update', table: 'contacts', id: b, data: { jobtitle: 'Retry B' } },
        ],
      },
    });
    const done = await api.waitFor(String(res.json.id));
    const pointId = String((done.json.output as { rollbackPointId: string }).rollbackPointId);
    // Undo runs newest first: b is put back, then every write to a is refused (a cause to fix).
    const fault = app.sim.faults.add({
      method: 'PATCH',
      path: `contacts\\(${a}\\)`,
      kind: 'status',
      status: 400,
      count: 1000,
    });
    const first = await api.call('POST', `rollback-points/${pointId}/execute`);
    expect((await api.waitFor(String(first.json.id))).json.runtimeStatus).toBe('Failed');
    const failed = await api.call('GET', `rollback-points/${pointId}`);
    expect(failed.json).toMatchObject({ status: 'rollback-failed', rollback: { instanceId: first.json.id } });
    expect(await jobtitle(b)).toBeNull();
    expect(await jobtitle(a)).toBe('Retry A');

    // b, already put back, is no conflict: the plan of the retry is the whole point again.
    const plan = await api.call('POST', `rollback-points/${pointId}/plan`);
    expect(plan.status, plan.text).toBe(200);
    expect(plan.json.conflicts).toEqual([]);

    app.sim.faults.clear();
    expect(app.sim.faults.list().map((f) => f.id)).not.toContain(fault.id);
    const retry = await api.call('POST', `rollback-points/${pointId}/execute`);
    expect(retry.status).toBe(202);
    expect((await api.waitFor(String(retry.json.id))).json.runtimeStatus).toBe('Completed');
    expect(await jobtitle(a)).toBeNull();
    expect(await jobtitle(b)).toBeNull();
    expect((await api.call('GET', `rollback-points/${pointId}`)).json).toMatchObject({
      status: 'rolled-back',
      rollback: { instanceId: retry.json.id },
    });
    const again = await api.call('POST', `rollback-points/${pointId}/execute`);
    expect(again.status).toBe(409);
    expect(again.json.code).toBe('ROLLBACK_POINT_NOT_ACTIVE');
  });

  it('is refused while another rollback of the point runs', async () => {
    const id = await newContact();
    const pointId = await change(id, { jobtitle: 'Slow undo' });
    app.sim.faults.add({ method: 'PATCH', path: `contacts\\(${id}\\)`, kind: 'latency', latencyMs: 3000 });
    const run = await api.call('POST', `rollback-points/${pointId}/execute`);
    for (let i = 0; i < 200; i++) {
      if ((await api.call('GET', `rollback-points/${pointId}`)).json.status === 'rolling-back') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const action of ['plan', 'execute']) {
      const busy = await api.call('POST', `rollback-points/${pointId}/${action}`);
      expect(busy.status, action).toBe(409);
      expect(busy.json.code).toBe('ROLLBACK_IN_PROGRESS');
      expect(busy.json.message).toContain(String(run.json.id));
    }
    expect((await api.waitFor(String(run.json.id))).json.runtimeStatus).toBe('Completed');
  });
});

describe('POST /api/rollback-points', () => {
  it('takes a point of given records by hand, which can restore them later', async () => {
    const id = await newContact();
    const res = await api.call('POST', 'rollback-points', {
      body: { description: 'before the import', records: [{ table: 'contacts', id }] },
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(api.url(`instances/${String(res.json.id)}`));
    const done = await api.waitFor(String(res.json.id));
    expect(done.json.runtimeStatus).toBe('Completed');
    const point = done.json.output as PointJson;
    expect(point).toMatchObject({ origin: 'manual', status: 'active', description: 'before the import' });
    const listed = await api.call('GET', `rollback-points?resource=dataverse:contacts:${id}`);
    expect((listed.json.points as PointJson[]).map((p) => p.id)).toEqual([point.id]);

    await app.dataverse.update('contacts', id, { jobtitle: 'Imported' });
    const run = await api.call('POST', `rollback-points/${point.id}/execute`, { body: { force: true } });
    expect((await api.waitFor(String(run.json.id))).json.runtimeStatus).toBe('Completed');
    expect(await jobtitle(id)).toBeNull();
  });

  it('validates the request before starting anything', async () => {
    const cases: [{ body?: unknown; raw?: string }, number, string][] = [
      [{ body: { records: [{ table: 'contacts' }] } }, 400, 'INVALID_INPUT'],
      [{ body: { records: 'all' } }, 400, 'INVALID_INPUT'],
      [{ body: { includeConfig: 'yes' } }, 400, 'INVALID_INPUT'],
      [{}, 400, 'INVALID_INPUT'],
      [{ raw: '{records:' }, 400, 'INVALID_JSON'],
      [{ raw: JSON.stringify({ description: 'x'.repeat(1024 * 1024) }) }, 413, 'PAYLOAD_TOO_LARGE'],
    ];
    for (const [options, status, code] of cases) {
      const res = await api.call('POST', 'rollback-points', options);
      expect(res.status, JSON.stringify(options).slice(0, 80)).toBe(status);
      expect(res.json.code).toBe(code);
      expect(typeof res.json.message).toBe('string');
    }
  });

  it('needs a function key on every rollback point route', async () => {
    const routes: [string, string][] = [
      ['GET', 'rollback-points'],
      ['POST', 'rollback-points'],
      ['GET', 'rollback-points/rp-x'],
      ['POST', 'rollback-points/rp-x/plan'],
      ['POST', 'rollback-points/rp-x/execute'],
    ];
    for (const [method, path] of routes)
      for (const key of [null, 'wrong-key']) {
        const res = await api.call(method, path, { key });
        expect(res.status, `${method} ${path}`).toBe(401);
      }
  });
});
