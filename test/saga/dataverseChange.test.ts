import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SagaStatus } from '../../lib/saga';
import { startAppWithDataverse, type AppUnderTest } from '../support/appHost';
import { startOrchestration, waitFor } from '../support/durable';

let app: AppUnderTest;
beforeAll(async () => {
  app = await startAppWithDataverse();
});
afterAll(async () => app?.close());

/**
 * Every attribute of every record of a table, keyed by id, for before/after comparisons. Only what
 * Dataverse itself bumps on any write (etag, version number, modified on/by) is left out: a
 * compensation is a write, so those cannot come back.
 */
const BUMPED_ON_WRITE = ['@odata.etag', 'versionnumber', 'modifiedon', '_modifiedby_value'];
async function table(name: string): Promise<Record<string, Record<string, unknown>>> {
  const rows: Record<string, Record<string, unknown>> = {};
  for await (const r of app.dataverse.query(name)) {
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) if (!BUMPED_ON_WRITE.includes(k)) copy[k] = v;
    rows[String(r.contactid ?? r.accountid ?? r.activityid)] = copy;
  }
  return rows;
}

async function newContact(firstname: string, lastname: string, email: string): Promise<string> {
  const res = await app.dataverse.create('contacts', { firstname, lastname, emailaddress1: email });
  return String(res.id);
}

async function run(input: unknown, id?: string) {
  const instanceId = await startOrchestration(app.host, 'dataverseChange', input, id);
  const status = await waitFor(app.host, instanceId, undefined, 30_000);
  return { instanceId, status, saga: status.customStatus as SagaStatus | null };
}

describe('the Dataverse change saga', () => {
  it('returns the plan of a dry run, field by field, and writes nothing', async () => {
    const id = await newContact('Dry', 'Run', 'dry@example.com');
    const before = await table('contacts');
    const { status } = await run({
      dryRun: true,
      operations: [
        { op: 'update', table: 'contacts', id, data: { lastname: 'Walk', firstname: 'Dry' } },
        { op: 'create', table: 'contacts', data: { firstname: 'New', lastname: 'Person' } },
      ],
    });
    expect(status.runtimeStatus).toBe('Completed');
    const output = status.output as {
      dryRun: boolean;
      plan: { changes: Record<string, unknown>; inDesiredState: boolean; exists: boolean }[];
    };
    expect(output.dryRun).toBe(true);
    expect(output.plan[0].changes).toEqual({ lastname: { before: 'Run', after: 'Walk' } });
    expect(output.plan[1]).toMatchObject({ exists: false, inDesiredState: false });
    expect(await table('contacts')).toEqual(before);
  });

  it('applies creates, updates and deletes, writing only changed fields, and records a rollback point', async () => {
    const keep = await newContact('Keep', 'Me', 'keep@example.com');
    const gone = await newContact('Delete', 'Me', 'gone@example.com');
    const { status, saga } = await run({
      description: 'tidy clients',
      operations: [
        {
          op: 'create',
          table: 'contacts',
          data: { firstname: 'Grace', lastname: 'Hopper', emailaddress1: 'grace@example.com' },
        },
        { op: 'update', table: 'contacts', id: keep, data: { firstname: 'Keep', jobtitle: 'Client' } },
        { op: 'delete', table: 'contacts', id: gone },
      ],
    });
    expect(status.runtimeStatus).toBe('Completed');
    const output = status.output as {
      results: { action: string; changed: Record<string, unknown> }[];
      rollbackPointId: string;
    };
    expect(output.results.map((r) => r.action)).toEqual(['created', 'updated', 'deleted']);
    expect(output.results[1].changed).toEqual({ jobtitle: { before: null, after: 'Client' } });
    expect(output.rollbackPointId).toMatch(/^rp-/);
    expect(saga?.phase).toBe('completed');
    expect(await app.dataverse.tryRetrieve('contacts', gone)).toBeUndefined();
    expect((await app.dataverse.retrieve('contacts', keep)).jobtitle).toBe('Client');
    const grace = await app.dataverse.retrieve('contacts', { emailaddress1: 'grace@example.com' });
    expect(grace.firstname).toBe('Grace');
  });

  it('leaves Dataverse exactly as before when the third operation fails', async () => {
    const a = await newContact('Ann', 'One', 'ann@example.com');
    const b = await newContact('Bob', 'Two', 'bob@example.com');
    const before = await table('contacts');
    // The third operation's write fails on the server.
    app.sim.faults.add({
      method: 'PATCH',
      path: `contacts\\(${b}\\)`,
      kind: 'status',
      status: 500,
      count: 1,
    });
    const { status, saga } = await run({
      operations: [
        {
          op: 'create',
          table: 'contacts',
          data: { firstname: 'Temp', lastname: 'Record', emailaddress1: 'temp@example.com' },
        },
        { op: 'update', table: 'contacts', id: a, data: { lastname: 'Changed', telephone1: '555-0100' } },
        { op: 'update', table: 'contacts', id: b, data: { lastname: 'Boom' } },
      ],
    });
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain('SAGA_COMPENSATED');
    expect(saga?.phase).toBe('compensated');
    expect(await table('contacts')).toEqual(before);
  });

  it('turns an edit made between snapshot and apply into a conflict, and compensates', async () => {
    const a = await newContact('First', 'Step', 'first@example.com');
    const target = await newContact('Busy', 'Record', 'busy@example.com');
    // Slow down reads of the target so the test can edit it after its snapshot, before the write.
    app.sim.faults.add({
      method: 'GET',
      path: `contacts\\(${target}\\)`,
      kind: 'latency',
      latencyMs: 600,
      count: 3,
    });
    const instanceId = await startOrchestration(app.host, 'dataverseChange', {
      // The per-operation path: a snapshot step per operation, then its write.
      atomic: false,
      operations: [
        { op: 'update', table: 'contacts', id: a, data: { jobtitle: 'Changed' } },
        { op: 'update', table: 'contacts', id: target, data: { jobtitle: 'Saga value' } },
      ],
    });
    const deadline = Date.now() + 15_000;
    let edited = false;
    while (!edited && Date.now() < deadline) {
      const s = (await fetch(
        `${app.host.url}/runtime/webhooks/durabletask/instances/${instanceId}?code=${app.host.systemKey}`,
      ).then((r) => r.json())) as { customStatus?: SagaStatus };
      const snap = s.customStatus?.steps?.find((x) => x.name === 'snapshot contacts #2');
      if (snap?.state === 'completed') {
        await app.dataverse.update('contacts', target, { jobtitle: 'Edited by a person' });
        edited = true;
      } else await new Promise((r) => setTimeout(r, 20));
    }
    expect(edited).toBe(true);
    const status = await waitFor(app.host, instanceId, undefined, 30_000);
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain('[CONFLICT]');
    expect((await app.dataverse.retrieve('contacts', target)).jobtitle).toBe('Edited by a person');
    expect((await app.dataverse.retrieve('contacts', a)).jobtitle ?? null).toBeNull();
  });

  it('creates no duplicate when the same instance runs again', async () => {
    const input = {
      operations: [
        {
          op: 'create',
          table: 'contacts',
          data: { firstname: 'Once', lastname: 'Only', emailaddress1: 'once@example.com' },
        },
      ],
    };
    const first = await run(input, 'rerun-1');
    expect(first.status.runtimeStatus).toBe('Completed');
    const second = await run(input, 'rerun-1');
    expect(second.status.runtimeStatus).toBe('Completed');
    const matches = [];
    for await (const r of app.dataverse.query('contacts', { filter: "emailaddress1 eq 'once@example.com'" }))
      matches.push(r);
    expect(matches).toHaveLength(1);
    const plan = (second.status.output as { plan: { inDesiredState: boolean }[] }).plan;
    expect(plan[0].inDesiredState).toBe(true);
  });

  it('rejects bad input before anything runs, naming the fields and the unknown table', async () => {
    const bad = await run({ operations: [{ op: 'update', table: 'contacts', data: {} }] });
    expect(bad.status.runtimeStatus).toBe('Failed');
    expect(String(bad.status.output)).toContain('operations[0]: update needs an id or an alternate key');
    const unknown = await run({ operations: [{ op: 'create', table: 'spaceships', data: { name: 'x' } }] });
    expect(String(unknown.status.output)).toContain(
      "[UNKNOWN_TABLE] operations[0]: there is no table with entity set name 'spaceships'",
    );
    const missing = await run({
      operations: [
        {
          op: 'update',
          table: 'contacts',
          id: '00000000-0000-0000-0000-00000000abcd',
          data: { lastname: 'x' },
        },
      ],
    });
    expect(String(missing.status.output)).toContain('[RECORD_NOT_FOUND]');
  });
});
