/**
 * The Dataverse change plan checks each write against the table's metadata before anything is
 * written: a dry run reports the problems per operation and field with a code, a real run with
 * problems is refused (PLAN_INVALID) with nothing written, and `skipPlanChecks` lets Dataverse refuse
 * the write itself so the saga compensates. Plans, results and rollback points name the records they
 * touch. All against the app on the local host and the Dataverse simulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServices } from '../../lib/config/services';
import { readSettings } from '../../lib/config/settings';
import type { LookupNames, PlanProblem, RollbackPoint } from '../../lib/contracts/responses';
import { deterministicId } from '../../lib/dataverse/changes';
import type { SagaStatus } from '../../lib/saga';
import { startAppWithDataverse, type AppUnderTest } from '../support/appHost';
import { startOrchestration, waitFor } from '../support/durable';

let app: AppUnderTest;
beforeAll(async () => {
  app = await startAppWithDataverse();
});
afterAll(async () => app?.close());

interface Planned {
  index: number;
  entity?: string;
  name?: string;
  problems?: PlanProblem[];
  lookupNames?: LookupNames;
}
interface Output {
  dryRun: boolean;
  plan: Planned[];
  problems?: PlanProblem[];
  wouldFail?: boolean;
  results?: { action: string; table: string; entity?: string; name?: string; id: string }[];
  rollbackPointId?: string;
}

async function run(input: unknown, id?: string) {
  const instanceId = await startOrchestration(app.host, 'dataverseChange', input, id);
  const status = await waitFor(app.host, instanceId, undefined, 30_000);
  return {
    instanceId,
    status,
    output: status.output as Output,
    saga: status.customStatus as SagaStatus | null,
  };
}

async function newAccount(name: string, accountnumber: string): Promise<string> {
  return String((await app.dataverse.create('accounts', { name, accountnumber })).id);
}

async function newContact(firstname: string, lastname: string, emailaddress1: string): Promise<string> {
  return String((await app.dataverse.create('contacts', { firstname, lastname, emailaddress1 })).id);
}

const MISSING = '00000000-0000-4000-8000-0000000000aa';

describe('a dry run', () => {
  it('finds, per operation and field, what each write would be refused for, and writes nothing', async () => {
    const account = await newAccount('Checked BV', 'CHK-1');
    const contact = await newContact('Ada', 'Checked', 'ada.checked@example.com');
    const before = await app.dataverse.retrieve('accounts', account);
    const { status, output } = await run({
      dryRun: true,
      operations: [
        {
          op: 'update',
          table: 'accounts',
          id: account,
          data: {
            telephone: '+31 33 555 1003',
            createdon: '2020-01-01T00:00:00Z',
            numberofemployees: 'many',
            accountnumber: 'X'.repeat(21),
          },
        },
        {
          op: 'create',
          table: 'contacts',
          data: {
            firstname: 'No last name',
            preferredcontactmethodcode: 9,
            'parentcustomerid_account@odata.bind': `/accounts(${MISSING})`,
          },
        },
        {
          op: 'update',
          table: 'accounts',
          id: account,
          data: { numberofemployees: -1, 'primarycontactid@odata.bind': `/accounts(${account})` },
        },
        {
          op: 'upsert',
          table: 'accounts',
          key: { accountnumber: 'CHK-2' },
          data: { name: 'Fine BV', 'primarycontactid@odata.bind': `/contacts(${contact})` },
        },
      ],
    });
    expect(status.runtimeStatus).toBe('Completed');
    expect(output.dryRun).toBe(true);
    expect(output.wouldFail).toBe(true);
    const found = (output.problems ?? []).map((p) => [p.operation, p.field, p.code]);
    expect(found).toEqual([
      [0, 'telephone', 'UNKNOWN_COLUMN'],
      [0, 'createdon', 'READ_ONLY'],
      [0, 'numberofemployees', 'WRONG_TYPE'],
      [0, 'accountnumber', 'TOO_LONG'],
      [1, 'preferredcontactmethodcode', 'NOT_IN_OPTION_SET'],
      [1, 'lastname', 'REQUIRED_MISSING'],
      [1, 'parentcustomerid_account@odata.bind', 'LOOKUP_TARGET_NOT_FOUND'],
      [2, 'numberofemployees', 'OUT_OF_RANGE'],
      [2, 'primarycontactid@odata.bind', 'LOOKUP_TARGET_NOT_FOUND'],
    ]);
    const message = (operation: number, field: string): string | undefined =>
      output.problems?.find((p) => p.operation === operation && p.field === field)?.message;
    expect(message(0, 'telephone')).toBe("accounts has no column 'telephone' (did you mean 'telephone1'?)");
    expect(message(0, 'accountnumber')).toBe("'accountnumber' is 21 characters long; at most 20 fit");
    expect(message(1, 'preferredcontactmethodcode')).toContain('has no option 9 (options: 1 Any, 2 Email');
    expect(message(1, 'parentcustomerid_account@odata.bind')).toBe(
      `'parentcustomerid_account@odata.bind' points at accounts(${MISSING}), which does not exist`,
    );
    expect(message(2, 'numberofemployees')).toBe(
      "'numberofemployees' must be between 0 and 1000000000, not -1",
    );
    expect(message(2, 'primarycontactid@odata.bind')).toContain('it can only refer to contact');
    // Each operation carries its own problems; the fine one has none.
    expect(output.plan.map((p) => p.problems?.length)).toEqual([4, 3, 2, 0]);
    expect(await app.dataverse.retrieve('accounts', account)).toEqual(before);
    expect(await app.dataverse.tryRetrieve('accounts', { accountnumber: 'CHK-2' })).toBeUndefined();
  });

  it('of a sound change finds nothing, and a lookup to a record an earlier operation creates is sound', async () => {
    const { output } = await run({
      dryRun: true,
      operations: [
        { op: 'create', table: 'contacts', data: { firstname: 'Grace', lastname: 'Sound' } },
        { op: 'upsert', table: 'accounts', key: { accountnumber: 'SND-1' }, data: { name: 'Sound BV' } },
      ],
    });
    expect(output).toMatchObject({ dryRun: true, problems: [], wouldFail: false });
    expect(output.plan.map((p) => [p.entity, p.name])).toEqual([
      ['contact', undefined],
      ['account', 'Sound BV'],
    ]);
  });

  it("of the README's failing change finds the unknown column of its third operation", async () => {
    await newContact('Daan', 'Jansen', 'daan.jansen@mail.example');
    await newAccount('Northwind Logistics', 'ACC-1003');
    const change = JSON.parse(
      (await import('node:fs')).readFileSync('docs/examples/failing-change.json', 'utf8'),
    ) as Record<string, unknown>;
    const { output } = await run({ ...change, dryRun: true });
    expect(output.wouldFail).toBe(true);
    expect(output.problems).toEqual([
      {
        operation: 2,
        field: 'telephone',
        code: 'UNKNOWN_COLUMN',
        message: "accounts has no column 'telephone' (did you mean 'telephone1'?)",
      },
    ]);
    expect(output.plan[2]).toMatchObject({ entity: 'account', name: 'Northwind Logistics' });
  });
});

describe('a real run', () => {
  const change = (extra: Record<string, unknown> = {}) => ({
    ...extra,
    operations: [
      { op: 'upsert', table: 'accounts', key: { accountnumber: 'PLN-1' }, data: { name: 'Planned BV' } },
      { op: 'update', table: 'accounts', key: { accountnumber: 'PLN-0' }, data: { telephone: '555' } },
    ],
  });

  it('whose plan has problems is refused with PLAN_INVALID before anything is written', async () => {
    await newAccount('Existing BV', 'PLN-0');
    const { status, saga } = await run(change());
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toMatch(
      /^.*\[PLAN_INVALID\] This change would fail, so nothing was written\. Problem: #2 accounts\.telephone: accounts has no column 'telephone' \(did you mean 'telephone1'\?\)\. .*"skipPlanChecks": true/,
    );
    // The plan ran; nothing after it did.
    expect(saga?.steps.map((s) => [s.name, s.state])).toEqual([['plan 2 operations', 'completed']]);
    expect(saga?.failure?.error.message).toContain('[PLAN_INVALID]');
    expect(await app.dataverse.tryRetrieve('accounts', { accountnumber: 'PLN-1' })).toBeUndefined();
  });

  it('with skipPlanChecks goes ahead: Dataverse refuses the write and the saga compensates', async () => {
    // Per operation, so the first write is applied and then compensated.
    const { status, saga } = await run(change({ skipPlanChecks: true, atomic: false }));
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain('SAGA_COMPENSATED');
    expect(String(status.output)).toContain(
      "The property 'telephone' does not exist on type 'Microsoft.Dynamics.CRM.account'",
    );
    expect(saga?.phase).toBe('compensated');
    expect(saga?.steps.find((s) => s.name === 'upsert accounts #1')?.state).toBe('compensated');
    expect(await app.dataverse.tryRetrieve('accounts', { accountnumber: 'PLN-1' })).toBeUndefined();
  });
});

describe('records are named', () => {
  it('in the plan, the results and the rollback point: entity and primary name, a deleted one by its before-image', async () => {
    const doomed = await newAccount('Doomed BV', 'NAM-0');
    const contact = await newContact('Linus', 'Named', 'linus.named@example.com');
    const { status, output } = await run({
      operations: [
        { op: 'upsert', table: 'accounts', key: { accountnumber: 'NAM-1' }, data: { name: 'Named BV' } },
        { op: 'update', table: 'contacts', id: contact, data: { jobtitle: 'Engineer' } },
        { op: 'create', table: 'contacts', data: { firstname: 'Ada', lastname: 'Lovelace' } },
        { op: 'delete', table: 'accounts', id: doomed },
      ],
    });
    expect(status.runtimeStatus).toBe('Completed');
    expect(output.plan.map((p) => [p.entity, p.name])).toEqual([
      ['account', 'Named BV'],
      ['contact', 'Linus Named'],
      ['contact', undefined],
      ['account', 'Doomed BV'],
    ]);
    expect(output.results?.map((r) => [r.action, r.entity, r.name])).toEqual([
      ['created', 'account', 'Named BV'],
      ['updated', 'contact', 'Linus Named'],
      ['created', 'contact', 'Ada Lovelace'],
      ['deleted', 'account', 'Doomed BV'],
    ]);
    const point = (await buildServices(readSettings()).rollbackPoints.require(
      String(output.rollbackPointId),
    )) as RollbackPoint;
    expect(point.resources.map((r) => (r.kind === 'dataverse' ? [r.entity, r.name] : []))).toEqual([
      ['account', 'Named BV'],
      ['contact', 'Linus Named'],
      ['contact', 'Ada Lovelace'],
      ['account', 'Doomed BV'],
    ]);
    expect(point.plan.map((u) => ('entity' in u ? [u.kind, u.entity, u.name] : []))).toEqual([
      ['dataverse-recreate', 'account', 'Doomed BV'],
      ['dataverse-delete', 'contact', 'Ada Lovelace'],
      ['dataverse-restore-fields', 'contact', 'Linus Named'],
      ['dataverse-delete', 'account', 'Named BV'],
    ]);
  });
});

describe('lookups are named', () => {
  it('by the records they point at, before and after, in the plan of both paths and in the undo', async () => {
    const oldFirm = await newAccount('Old Firm BV', 'LKN-0');
    const newFirm = await newAccount('New Firm BV', 'LKN-1');
    const contact = String(
      (
        await app.dataverse.create('contacts', {
          firstname: 'Lena',
          lastname: 'Looked Up',
          'parentcustomerid_account@odata.bind': `/accounts(${oldFirm})`,
        })
      ).id,
    );
    const change = (instanceId: string, extra: Record<string, unknown>) => ({
      ...extra,
      operations: [
        { op: 'create', table: 'accounts', data: { name: 'Fresh Firm BV' } },
        {
          op: 'update',
          table: 'contacts',
          id: contact,
          data: { 'parentcustomerid_account@odata.bind': `/accounts(${newFirm.toUpperCase()})` },
        },
        {
          op: 'create',
          table: 'contacts',
          data: {
            lastname: 'Joiner',
            'parentcustomerid_account@odata.bind': `/accounts(${deterministicId(instanceId, 0)})`,
          },
        },
      ],
    });
    const named = (instanceId: string) => [
      undefined,
      {
        [`/accounts(${oldFirm})`]: { entity: 'account', name: 'Old Firm BV' },
        [`/accounts(${newFirm})`]: { entity: 'account', name: 'New Firm BV' },
      },
      { [`/accounts(${deterministicId(instanceId, 0)})`]: { entity: 'account', name: 'Fresh Firm BV' } },
    ];
    for (const atomic of [true, false]) {
      const id = `lookups-named-dry-${atomic}`;
      const { output } = await run(change(id, { dryRun: true, atomic }), id);
      expect(output.problems).toEqual([]);
      expect(output.plan.map((p) => p.lookupNames)).toEqual(named(id));
    }
    const id = 'lookups-named-real';
    const { status, output } = await run(change(id, {}), id);
    expect(status.runtimeStatus).toBe('Completed');
    const point = await buildServices(readSettings()).rollbackPoints.require(String(output.rollbackPointId));
    expect(point.plan.find((u) => u.kind === 'dataverse-restore-fields')).toMatchObject({
      id: contact,
      fields: { 'parentcustomerid_account@odata.bind': `/accounts(${oldFirm})` },
      lookupNames: named(id)[1],
    });
  });
});

describe('a create whose key already exists', () => {
  it('is ALREADY_EXISTS naming the key, not a conflict', async () => {
    await newAccount('Taken BV', 'DUP-1');
    const { status } = await run({
      operations: [{ op: 'create', table: 'accounts', data: { name: 'Second BV', accountnumber: 'DUP-1' } }],
    });
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain(
      '[ALREADY_EXISTS] accounts with accountnumber=DUP-1 already exists',
    );
    expect(String(status.output)).not.toContain('[CONFLICT]');
  });

  it('is ALREADY_EXISTS when an upsert meant to create finds the record made meanwhile (412 from Dataverse)', async () => {
    // Hold the upsert's write back, so the record appears between its snapshot and its write.
    app.sim.faults.add({
      method: 'PATCH',
      path: "accounts\\(accountnumber='DUP-2'\\)",
      kind: 'latency',
      latencyMs: 800,
      count: 1,
    });
    const instanceId = await startOrchestration(app.host, 'dataverseChange', {
      // Per operation: the record appears between the upsert's snapshot step and its write.
      atomic: false,
      operations: [
        { op: 'upsert', table: 'accounts', key: { accountnumber: 'DUP-2' }, data: { name: 'Late BV' } },
      ],
    });
    const deadline = Date.now() + 15_000;
    let made = false;
    while (!made && Date.now() < deadline) {
      const s = (await fetch(
        `${app.host.url}/runtime/webhooks/durabletask/instances/${instanceId}?code=${app.host.systemKey}`,
      ).then((r) => r.json())) as { customStatus?: SagaStatus };
      if (s.customStatus?.steps?.find((x) => x.name === 'snapshot accounts #1')?.state === 'completed') {
        await newAccount('Early BV', 'DUP-2');
        made = true;
      } else await new Promise((r) => setTimeout(r, 20));
    }
    expect(made).toBe(true);
    const status = await waitFor(app.host, instanceId, undefined, 30_000);
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain(
      '[ALREADY_EXISTS] accounts with accountnumber=DUP-2 already exists (operation #1)',
    );
    expect((await app.dataverse.retrieve('accounts', { accountnumber: 'DUP-2' })).name).toBe('Early BV');
  });
});
