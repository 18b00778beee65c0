/**
 * The undo of an atomic Dataverse change (a later step failed) when someone deleted one of the
 * records it updated in between: that record's fields cannot be restored, and the rest must still be
 * undone, as on the per-operation path. Against the app on the local host and the Dataverse simulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { UndoChangesetInput } from '../../activities/undoChangeset';
import { buildServices } from '../../lib/config/services';
import { readSettings } from '../../lib/config/settings';
import type { SagaStatus } from '../../lib/saga';
import { startAppWithDataverse, type AppUnderTest } from '../support/appHost';
import { getStatus, startOrchestration, waitFor } from '../support/durable';

let app: AppUnderTest;
beforeAll(async () => {
  app = await startAppWithDataverse();
});
afterAll(async () => app?.close());

/** What a write always bumps, and the creation time of a record deleted and re-created. */
const BUMPED = ['@odata.etag', 'versionnumber', 'modifiedon', '_modifiedby_value', 'createdon'];

/** Every record of the tables the change touches, without what any write bumps. */
async function everything(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const table of ['contacts', 'accounts'])
    for await (const r of app.dataverse.query(table))
      out[`${table}:${String(r.contactid ?? r.accountid)}`] = Object.fromEntries(
        Object.entries(r).filter(([f]) => !BUMPED.includes(f)),
      );
  return out;
}

async function newContact(firstname: string, lastname: string): Promise<string> {
  return String((await app.dataverse.create('contacts', { firstname, lastname })).id);
}

interface Event {
  EventType: number;
  Name?: string;
  Input?: string;
}
const TASK_SCHEDULED = 4;
function scheduled(instanceId: string, name: string): Event[] {
  return (app.host.engine.store.history(instanceId) as Event[]).filter(
    (e) => e.EventType === TASK_SCHEDULED && e.Name === name,
  );
}

/** Makes recording this instance's rollback point fail: its point document cannot be read. */
async function breakRollbackPoint(instanceId: string): Promise<void> {
  const points = buildServices(readSettings()).rollbackPoints as unknown as {
    blobs: {
      container: {
        createIfNotExists(): Promise<unknown>;
        getBlockBlobClient(n: string): { upload(b: string, l: number): Promise<unknown> };
      };
    };
  };
  await points.blobs.container.createIfNotExists();
  await points.blobs.container.getBlockBlobClient(`points/rp-${instanceId}.json`).upload('{not json', 9);
}

describe('the undo of an atomic change, a record of it deleted before the undo', () => {
  it('undoes every other record, and fails the compensation naming the record that is gone', async () => {
    const [a, b, c] = [
      await newContact('Ada', 'Gone Lovelace'),
      await newContact('Bob', 'Kept Babbage'),
      await newContact('Cy', 'Kept Deleted'),
    ];
    const operations = [
      { op: 'create', table: 'contacts', data: { firstname: 'Grace', lastname: 'Kept Hopper' } },
      { op: 'update', table: 'contacts', id: b, data: { jobtitle: 'Engineer' } },
      { op: 'update', table: 'contacts', id: a, data: { jobtitle: 'Analyst' } },
      { op: 'delete', table: 'contacts', id: c },
      { op: 'create', table: 'accounts', data: { name: 'Kept Analytical Engines' } },
    ];
    const before = await everything();
    const instanceId = 'undo-gone-1';
    await breakRollbackPoint(instanceId);
    // The plan's and the apply's $batch go through; the undo's read of the records waits, so that the
    // person's delete below lands after the apply and before the undo reads.
    app.sim.faults.add({ method: 'POST', path: '\\$batch$', kind: 'latency', latencyMs: 1500, skip: 2 });
    await startOrchestration(app.host, 'dataverseChange', { operations }, instanceId);
    let deleted = false;
    const deadline = Date.now() + 10_000;
    while (!deleted && Date.now() < deadline) {
      const s = await getStatus(app.host, instanceId).catch(() => undefined);
      if ((s?.customStatus as SagaStatus | null | undefined)?.phase === 'compensating') {
        await app.dataverse.delete('contacts', a);
        deleted = true;
      } else await new Promise((r) => setTimeout(r, 5));
    }
    expect(deleted).toBe(true);
    const status = await waitFor(app.host, instanceId, undefined, 30_000);
    const saga = status.customStatus as SagaStatus;

    expect(status.runtimeStatus).toBe('Failed');
    // Every other record exactly as before the change: the creates gone, the update and the delete undone.
    const expected = { ...before };
    delete expected[`contacts:${a}`];
    expect(await everything()).toEqual(expected);
    const gone = `[RECORD_GONE] contact "Ada Gone Lovelace" (${a.slice(0, 8)}…) was deleted since the change, so its fields could not be restored; everything else of the change is undone.`;
    expect(String(status.output)).toContain("failed at step 'record rollback point'");
    expect(String(status.output)).toContain(
      `Compensation failed for: apply 5 operations (one changeset) (${gone})`,
    );
    expect(saga.phase).toBe('compensation-failed');
    expect(saga.steps.map((s) => [s.name, s.state])).toEqual([
      ['plan 5 operations', 'completed'],
      ['apply 5 operations (one changeset)', 'compensation-failed'],
      ['record rollback point', 'failed'],
    ]);
    expect(saga.steps[1].compensation?.error?.message).toBe(gone);

    // The compensation's retries ran it again after the first attempt undid the rest, and the records
    // above are as that attempt left them. Run once more by hand: it only reads, writes nothing, and
    // names the same record.
    const undos = scheduled(instanceId, 'dataverseChange_undoChangeset');
    expect(undos.length).toBeGreaterThan(1);
    const [undo] = undos;
    const input = JSON.parse(String(undo.Input)) as UndoChangesetInput;
    // The module the host loaded (a second copy would register the app's functions twice).
    const { undoActions } = createRequire(path.resolve('package.json'))(
      path.resolve('dist/activities/undoChangeset.js'),
    ) as { undoActions: (i: UndoChangesetInput) => Promise<{ undone: number }> };
    const requestsBefore = app.sim.requestCount();
    await expect(undoActions(input)).rejects.toMatchObject({
      code: 'RECORD_GONE',
      statusCode: 404,
      message: gone,
    });
    expect(app.sim.requestCount() - requestsBefore).toBe(1);
    expect(await everything()).toEqual(expected);
  });
});

describe('the undo of an atomic change that binds a lookup to a record deleted since', () => {
  // The module the host loaded, once it has (loaded earlier, a copy would register the app twice).
  const undoActions = (input: UndoChangesetInput): Promise<{ undone: number }> =>
    (
      createRequire(path.resolve('package.json'))(path.resolve('dist/activities/undoChangeset.js')) as {
        undoActions: (i: UndoChangesetInput) => Promise<{ undone: number }>;
      }
    ).undoActions(input);

  it('undoes everything else, and names the record left out, its lookup and its target', async () => {
    const firm = String((await app.dataverse.create('accounts', { name: 'Dissolved BV' })).id);
    const [p, q] = [await newContact('Pat', 'Bound Again'), await newContact('Quin', 'Also Undone')];
    await app.dataverse.update('contacts', q, { jobtitle: 'After' });
    await app.dataverse.delete('accounts', firm);
    const input: UndoChangesetInput = {
      instanceId: 'undo-binds-gone',
      actions: [
        { kind: 'dataverse-restore-fields', table: 'contacts', id: q, fields: { jobtitle: 'Before' } },
        {
          kind: 'dataverse-restore-fields',
          table: 'contacts',
          entity: 'contact',
          name: 'Pat Bound Again',
          id: p,
          fields: { jobtitle: 'Partner', 'parentcustomerid_account@odata.bind': `/accounts(${firm})` },
          lookupNames: { [`/accounts(${firm})`]: { entity: 'account', name: 'Dissolved BV' } },
        },
      ],
    };
    const refusal = {
      code: 'LOOKUP_TARGET_GONE',
      statusCode: 404,
      message: `[LOOKUP_TARGET_GONE] contact "Pat Bound Again" (${p.slice(0, 8)}…) would refer again to account "Dissolved BV" (${firm.slice(0, 8)}…) through 'parentcustomerid_account', and that record no longer exists. This record was not restored; everything else of the change is undone. Bring it back first (for example by rolling back the change that deleted it), then run the undo again.`,
    };
    const requests = app.sim.requestCount();
    await expect(undoActions(input)).rejects.toMatchObject(refusal);
    // One $batch of reads (the records and the lookup's target), one changeset: no request more.
    expect(app.sim.requestCount() - requests).toBe(2);
    expect(await app.dataverse.retrieve('contacts', q)).toMatchObject({ jobtitle: 'Before' });
    expect(await app.dataverse.retrieve('contacts', p)).toMatchObject({
      jobtitle: null,
      _parentcustomerid_value: null,
    });
    // Again: the rest is found undone, nothing is written (one $batch of reads), the same record named.
    const again = app.sim.requestCount();
    await expect(undoActions(input)).rejects.toMatchObject(refusal);
    expect(app.sim.requestCount() - again).toBe(1);
  });

  it('binds a lookup to a record the same undo creates again before it', async () => {
    const firm = String((await app.dataverse.create('accounts', { name: 'Returning BV' })).id);
    const p = await newContact('Rita', 'Rebound');
    await app.dataverse.delete('accounts', firm);
    await expect(
      undoActions({
        instanceId: 'undo-binds-recreated',
        // As a change that moved the contact away, then deleted the account, is undone: newest first.
        actions: [
          {
            kind: 'dataverse-recreate',
            table: 'accounts',
            id: firm,
            record: { accountid: firm, name: 'Returning BV' },
          },
          {
            kind: 'dataverse-restore-fields',
            table: 'contacts',
            id: p,
            fields: { 'parentcustomerid_account@odata.bind': `/accounts(${firm})` },
          },
        ],
      }),
    ).resolves.toEqual({ undone: 2 });
    expect(await app.dataverse.retrieve('contacts', p)).toMatchObject({ _parentcustomerid_value: firm });
  });
});
