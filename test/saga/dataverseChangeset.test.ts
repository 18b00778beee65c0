/**
 * The atomic Dataverse change: a change whose writes fit one changeset is planned with one $batch of
 * reads and applied as one all-or-nothing changeset. Against the app on the local host and the
 * Dataverse simulator, counting the simulator's requests and the orchestration's activity dispatches.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ApplyResult } from '../../activities/dataverseChange';
import type { ChangesetInput } from '../../activities/dataverseChangeset';
import { buildServices } from '../../lib/config/services';
import { deterministicId } from '../../lib/dataverse/changes';
import { readSettings } from '../../lib/config/settings';
import type { RollbackPoint } from '../../lib/contracts/responses';
import type { SagaStatus } from '../../lib/saga';
import { startAppWithDataverse, type AppUnderTest } from '../support/appHost';
import { getStatus, startOrchestration, waitFor } from '../support/durable';

let app: AppUnderTest;
beforeAll(async () => {
  app = await startAppWithDataverse();
});
afterAll(async () => app?.close());

/** Every record of the tables a change touches, every attribute, etags included: nothing may move. */
async function everything(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const table of ['contacts', 'accounts'])
    for await (const r of app.dataverse.query(table))
      out[`${table}:${String(r.contactid ?? r.accountid)}`] = r;
  return out;
}

/**
 * Without what a write always bumps, and the creation time of a record deleted and re-created (as
 * with the per-operation path): what an undo must put back exactly.
 */
const BUMPED = ['@odata.etag', 'versionnumber', 'modifiedon', '_modifiedby_value', 'createdon'];
function comparable(all: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(all).map(([k, r]) => [
      k,
      Object.fromEntries(Object.entries(r as Record<string, unknown>).filter(([f]) => !BUMPED.includes(f))),
    ]),
  );
}

async function newContact(firstname: string, lastname: string): Promise<string> {
  return String((await app.dataverse.create('contacts', { firstname, lastname })).id);
}

async function run(input: unknown, id?: string) {
  const instanceId = await startOrchestration(app.host, 'dataverseChange', input, id);
  const status = await waitFor(app.host, instanceId, undefined, 30_000);
  return { instanceId, status, saga: status.customStatus as SagaStatus | null };
}

interface Event {
  EventType: number;
  Name?: string;
  Input?: string;
}
const TASK_SCHEDULED = 4;
function scheduled(instanceId: string): Event[] {
  return (app.host.engine.store.history(instanceId) as Event[]).filter((e) => e.EventType === TASK_SCHEDULED);
}

/** Five operations: two creates, two updates and a delete of records made for it. */
async function fiveOperations(tag: string, third?: Record<string, unknown>) {
  const [a, b, c] = [
    await newContact('Ada', `${tag} Lovelace`),
    await newContact('Bob', `${tag} Babbage`),
    await newContact('Cy', `${tag} Gone`),
  ];
  return {
    ids: { a, b, c },
    operations: [
      { op: 'create', table: 'contacts', data: { firstname: 'Grace', lastname: `${tag} Hopper` } },
      { op: 'update', table: 'contacts', id: b, data: { jobtitle: 'Engineer' } },
      { op: 'update', table: 'contacts', id: a, data: third ?? { jobtitle: 'Analyst' } },
      { op: 'delete', table: 'contacts', id: c },
      { op: 'create', table: 'accounts', data: { name: `${tag} Analytical Engines` } },
    ],
  };
}

describe('an atomic Dataverse change', () => {
  it('refused at its third operation leaves Dataverse exactly as it was, with no compensation scheduled', async () => {
    // The plan would catch the unknown column: skipped, so Dataverse itself refuses the write.
    const { operations, ids } = await fiveOperations('Refused', { nosuchcolumn: 'x' });
    const before = await everything();
    const { instanceId, status, saga } = await run({ skipPlanChecks: true, operations });
    expect(status.runtimeStatus).toBe('Failed');
    const message = String(status.output);
    expect(message).toContain(
      `[CHANGESET_REFUSED] operation #3 (update contact "Ada Refused Lovelace" (${ids.a.slice(0, 8)}…)): `,
    );
    expect(message).toContain("'nosuchcolumn'");
    expect(message).toContain('Nothing needed compensating');
    expect(await everything()).toEqual(before);
    expect(scheduled(instanceId).map((e) => e.Name)).toEqual([
      'dataverseChange_planBatched',
      'dataverseChange_applyChangeset',
    ]);
    expect(saga?.steps.map((s) => [s.name, s.state])).toEqual([
      ['plan 5 operations', 'completed'],
      ['apply 5 operations (one changeset)', 'failed'],
    ]);
  });

  it('takes two Dataverse requests and three activities, records a rollback point, and its undo restores everything', async () => {
    await run((await fiveOperations('Warm')).operations); // metadata of both tables now cached
    const { operations } = await fiveOperations('Counted');
    const before = await everything();
    const requestsBefore = app.sim.requestCount();
    const { instanceId, status, saga } = await run({ description: 'five at once', operations });
    expect(status.runtimeStatus).toBe('Completed');
    expect(app.sim.requestCount() - requestsBefore).toBeLessThanOrEqual(3);
    expect(app.sim.requestCount() - requestsBefore).toBe(2);
    expect(scheduled(instanceId).map((e) => e.Name)).toEqual([
      'dataverseChange_planBatched',
      'dataverseChange_applyChangeset',
      'rollback_record',
    ]);
    expect(saga?.details).toMatchObject({ atomic: true });
    const output = status.output as { results: { action: string }[]; rollbackPointId: string };
    expect(output.results.map((r) => r.action)).toEqual([
      'created',
      'updated',
      'updated',
      'deleted',
      'created',
    ]);

    const point = (await buildServices(readSettings()).rollbackPoints.require(
      output.rollbackPointId,
    )) as RollbackPoint;
    expect(point.plan.map((a) => a.kind)).toEqual([
      'dataverse-delete',
      'dataverse-recreate',
      'dataverse-restore-fields',
      'dataverse-restore-fields',
      'dataverse-delete',
    ]);
    expect(point.snapshots).toHaveLength(5);
    expect(point.resources.find((r) => r.kind === 'dataverse' && r.entity === 'account')).toMatchObject({
      name: 'Counted Analytical Engines',
    });

    const undo = await startOrchestration(app.host, 'rollback', { pointId: output.rollbackPointId });
    expect((await waitFor(app.host, undo, undefined, 30_000)).runtimeStatus).toBe('Completed');
    expect(comparable(await everything())).toEqual(comparable(before));
  });

  it('run again after its changeset committed (a crash before the answer) writes nothing and succeeds', async () => {
    const { operations } = await fiveOperations('Rerun');
    // A sixth: a lookup to the account the fifth creates (its id is the change's deterministic one).
    const d = await newContact('Dee', 'Rerun Linked');
    const instanceId = 'changeset-rerun-1';
    const account = deterministicId(instanceId, 4);
    operations.push({
      op: 'update',
      table: 'contacts',
      id: d,
      data: { 'parentcustomerid_account@odata.bind': `/accounts(${account})` } as never,
    });
    const { status } = await run({ operations }, instanceId);
    expect(status.runtimeStatus).toBe('Completed');
    expect((await app.dataverse.retrieve('contacts', d))._parentcustomerid_value).toBe(account);
    const apply = scheduled(instanceId).find((e) => e.Name === 'dataverseChange_applyChangeset');
    const input = JSON.parse(String(apply?.Input)) as ChangesetInput;
    const after = await everything();
    const requestsBefore = app.sim.requestCount();
    // The module the host loaded (a second copy would register the app's functions twice).
    const { applyWrites } = createRequire(path.resolve('package.json'))(
      path.resolve('dist/activities/dataverseChangeset.js'),
    ) as { applyWrites: (i: ChangesetInput) => Promise<ApplyResult[]> };
    const again = await applyWrites(input);
    // The refused changeset, then one $batch reading the records back.
    expect(app.sim.requestCount() - requestsBefore).toBe(2);
    expect(await everything()).toEqual(after);
    const first = (status.output as { results: unknown[] }).results;
    expect(again).toEqual(first);
  });

  /** The apply activity's input of a finished change, and the module the host loaded, to run it again. */
  function rerunOf(instanceId: string) {
    const apply = scheduled(instanceId).find((e) => e.Name === 'dataverseChange_applyChangeset');
    const input = JSON.parse(String(apply?.Input)) as ChangesetInput;
    const { applyWrites } = createRequire(path.resolve('package.json'))(
      path.resolve('dist/activities/dataverseChangeset.js'),
    ) as { applyWrites: (i: ChangesetInput) => Promise<ApplyResult[]> };
    return () => applyWrites(input);
  }

  it('run again after its changeset committed and a record was edited since: a record it created proves the commit', async () => {
    const { operations, ids } = await fiveOperations('Proven');
    const { instanceId, status } = await run({ operations }, 'changeset-proven-1');
    expect(status.runtimeStatus).toBe('Completed');
    await app.dataverse.update('contacts', ids.b, { jobtitle: 'Edited by a person since' });
    const after = await everything();
    const again = await rerunOf(instanceId)();
    expect(again.map((r) => r.action)).toEqual(['created', 'updated', 'updated', 'deleted', 'created']);
    expect(await everything()).toEqual(after);
  });

  it('run again after a changeset with no create committed and a record was edited since: says it cannot tell, and writes nothing', async () => {
    const a = await newContact('Ann', 'Unknown Outcome');
    const b = await newContact('Ben', 'Unknown Outcome');
    const operations = [
      { op: 'update', table: 'contacts', id: a, data: { jobtitle: 'Writer' } },
      { op: 'update', table: 'contacts', id: b, data: { jobtitle: 'Reader' } },
    ];
    const { instanceId, status } = await run({ operations }, 'changeset-unknown-1');
    expect(status.runtimeStatus).toBe('Completed');
    await app.dataverse.update('contacts', b, { jobtitle: 'Edited by a person since' });
    const after = await everything();
    await expect(rerunOf(instanceId)()).rejects.toThrow(
      /\[CHANGESET_OUTCOME_UNKNOWN\] operation #1 .*cannot be told/,
    );
    expect(await everything()).toEqual(after);
  });

  it('refused because a record changed after the plan is a conflict, and nothing is written', async () => {
    const { operations, ids } = await fiveOperations('Raced');
    // The plan's $batch goes through; the changeset waits long enough for a person's edit to land.
    app.sim.faults.add({ method: 'POST', path: '\\$batch$', kind: 'latency', latencyMs: 400, skip: 1 });
    const instanceId = await startOrchestration(app.host, 'dataverseChange', { operations });
    let edited = false;
    const deadline = Date.now() + 5000;
    while (!edited && Date.now() < deadline) {
      const s = await getStatus(app.host, instanceId).catch(() => undefined);
      const steps = (s?.customStatus as SagaStatus | null | undefined)?.steps ?? [];
      if (steps.some((x) => x.name.startsWith('apply'))) {
        await app.dataverse.update('contacts', ids.b, { jobtitle: 'Edited by a person' });
        edited = true;
      } else await new Promise((r) => setTimeout(r, 5));
    }
    expect(edited).toBe(true);
    const before = await everything();
    const status = await waitFor(app.host, instanceId, undefined, 30_000);
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain('[CONFLICT] operation #2 (update contact "Bob Raced Babbage"');
    expect(await everything()).toEqual(before);
  });

  it('is undone as one changeset when a later step fails (here: storing the rollback point)', async () => {
    const { operations } = await fiveOperations('Undone');
    const before = await everything();
    // A point document that cannot be read makes recording this instance's point fail.
    const instanceId = 'changeset-undone-1';
    const points = buildServices(readSettings()).rollbackPoints as unknown as {
      blobs: {
        container: { getBlockBlobClient(n: string): { upload(b: string, l: number): Promise<unknown> } };
      };
    };
    await points.blobs.container.getBlockBlobClient(`points/rp-${instanceId}.json`).upload('{not json', 9);
    const { status, saga } = await run({ operations }, instanceId);
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain("failed at step 'record rollback point'");
    expect(saga?.phase).toBe('compensated');
    expect(saga?.steps.map((s) => [s.name, s.state])).toEqual([
      ['plan 5 operations', 'completed'],
      ['apply 5 operations (one changeset)', 'compensated'],
      ['record rollback point', 'failed'],
    ]);
    expect(scheduled(instanceId).map((e) => e.Name)).toEqual([
      'dataverseChange_planBatched',
      'dataverseChange_applyChangeset',
      'rollback_record',
      'dataverseChange_undoChangeset',
    ]);
    expect(comparable(await everything())).toEqual(comparable(before));
  });

  it('falls back to one step per operation when a record is written twice, and says why', async () => {
    const a = await newContact('Twice', 'Written');
    const { status, saga } = await run({
      operations: [
        { op: 'update', table: 'contacts', id: a, data: { jobtitle: 'One' } },
        { op: 'update', table: 'contacts', id: a, data: { telephone1: '555-0101' } },
      ],
    });
    expect(status.runtimeStatus).toBe('Completed');
    expect(saga?.details).toMatchObject({ atomic: false });
    expect(String(saga?.details?.atomicFallback)).toContain('operations #1 and #2 write the same record');
    expect(saga?.steps.map((s) => s.name)).toEqual([
      'plan 2 operations',
      'snapshot contacts #1',
      'update contacts #1',
      'snapshot contacts #2',
      'update contacts #2',
      'record rollback point',
    ]);
    expect(await app.dataverse.retrieve('contacts', a)).toMatchObject({
      jobtitle: 'One',
      telephone1: '555-0101',
    });
  });

  it('with atomic: false takes one snapshot and one apply step per operation, as before', async () => {
    const { operations } = await fiveOperations('PerOp');
    const requestsBefore = app.sim.requestCount();
    const { instanceId, status, saga } = await run({ atomic: false, operations });
    expect(status.runtimeStatus).toBe('Completed');
    expect(saga?.details).toMatchObject({ atomic: false });
    expect(saga?.details?.atomicFallback).toBeUndefined();
    expect(scheduled(instanceId)).toHaveLength(12);
    expect(app.sim.requestCount() - requestsBefore).toBeGreaterThan(10);
  });
});
