/**
 * Lookups through undo: a change that rebinds, sets and deletes records with lookups
 * (`parentcustomerid_account@odata.bind`, read back as `_parentcustomerid_value`), undone by its
 * compensation (a later step fails) and by its rollback point, on the atomic and the per-operation
 * path, against the app on the local host and the Dataverse simulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServices } from '../../lib/config/services';
import { readSettings } from '../../lib/config/settings';
import { startAppWithDataverse, type AppUnderTest } from '../support/appHost';
import { startOrchestration, waitFor } from '../support/durable';

let app: AppUnderTest;
beforeAll(async () => {
  app = await startAppWithDataverse();
});
afterAll(async () => app?.close());

const PARENT = '_parentcustomerid_value';

async function account(name: string): Promise<string> {
  return String((await app.dataverse.create('accounts', { name })).id);
}

async function contact(lastname: string, parent?: string): Promise<string> {
  const data: Record<string, unknown> = { firstname: 'Lookup', lastname };
  if (parent) data['parentcustomerid_account@odata.bind'] = `/accounts(${parent})`;
  return String((await app.dataverse.create('contacts', data)).id);
}

async function parentOf(id: string): Promise<unknown> {
  return (await app.dataverse.tryRetrieve('contacts', id))?.[PARENT];
}

/**
 * Moves one contact from account A to B, gives a contact without a company A, and deletes a
 * contact of A: what each undo must put back.
 */
async function lookupChange(tag: string) {
  const a = await account(`${tag} A`);
  const b = await account(`${tag} B`);
  const moved = await contact(`${tag} Moved`, a);
  const empty = await contact(`${tag} Empty`);
  const deleted = await contact(`${tag} Deleted`, a);
  return {
    ids: { a, b, moved, empty, deleted },
    operations: [
      {
        op: 'update',
        table: 'contacts',
        id: moved,
        data: { 'parentcustomerid_account@odata.bind': `/accounts(${b})` },
      },
      {
        op: 'update',
        table: 'contacts',
        id: empty,
        data: { 'parentcustomerid_account@odata.bind': `accounts(${a.toUpperCase()})` },
      },
      { op: 'delete', table: 'contacts', id: deleted },
    ],
  };
}

async function expectUndone(ids: Awaited<ReturnType<typeof lookupChange>>['ids']): Promise<void> {
  expect(await parentOf(ids.moved)).toBe(ids.a);
  expect(await parentOf(ids.empty)).toBeNull();
  expect(await parentOf(ids.deleted)).toBe(ids.a);
}

describe.each([true, false])('a Dataverse change with lookups (atomic: %s)', (atomic) => {
  it('compensated after a later step fails: each lookup points where it did, an empty one is empty again', async () => {
    const { ids, operations } = await lookupChange(`Comp ${atomic}`);
    // A point document that cannot be read makes recording this instance's point fail.
    const instanceId = `lookup-undo-${atomic ? 'atomic' : 'each'}`;
    const points = buildServices(readSettings()).rollbackPoints as unknown as {
      blobs: {
        container: {
          createIfNotExists(): Promise<unknown>;
          getBlockBlobClient(n: string): {
            upload(b: string, l: number): Promise<unknown>;
            deleteIfExists(): Promise<unknown>;
          };
        };
      };
    };
    await points.blobs.container.createIfNotExists();
    const broken = points.blobs.container.getBlockBlobClient(`points/rp-${instanceId}.json`);
    await broken.upload('{not json', 9);
    const started = await startOrchestration(app.host, 'dataverseChange', { atomic, operations }, instanceId);
    const status = await waitFor(app.host, started, undefined, 30_000);
    await broken.deleteIfExists(); // a rollback reads every point
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain("failed at step 'record rollback point'");
    await expectUndone(ids);
  });

  it('rolled back through its rollback point: the same, and the rollback finds no conflict', async () => {
    const { ids, operations } = await lookupChange(`Point ${atomic}`);
    const change = await startOrchestration(app.host, 'dataverseChange', { atomic, operations });
    const done = await waitFor(app.host, change, undefined, 30_000);
    expect(done.runtimeStatus).toBe('Completed');
    expect(await parentOf(ids.moved)).toBe(ids.b);
    expect(await parentOf(ids.empty)).toBe(ids.a);
    expect(await app.dataverse.tryRetrieve('contacts', ids.deleted)).toBeUndefined();

    const pointId = (done.output as { rollbackPointId: string }).rollbackPointId;
    const rollback = await startOrchestration(app.host, 'rollback', { pointId });
    const rolled = await waitFor(app.host, rollback, undefined, 30_000);
    expect(rolled.runtimeStatus, JSON.stringify(rolled.output)).toBe('Completed');
    expect((rolled.output as { conflictsOverridden: unknown[] }).conflictsOverridden).toEqual([]);
    await expectUndone(ids);
  });

  it('sees a lookup already bound as the change binds it as in its desired state', async () => {
    const a = await account(`Desired ${atomic}`);
    const linked = await contact(`Desired ${atomic}`, a);
    const change = await startOrchestration(app.host, 'dataverseChange', {
      atomic,
      dryRun: true,
      operations: [
        {
          op: 'update',
          table: 'contacts',
          id: linked,
          data: { 'parentcustomerid_account@odata.bind': `/accounts(${a})` },
        },
      ],
    });
    const plan = await waitFor(app.host, change, undefined, 30_000);
    expect((plan.output as { plan: { inDesiredState: boolean }[] }).plan[0].inDesiredState).toBe(true);
  });
});
