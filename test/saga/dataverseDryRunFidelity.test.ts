/**
 * A dry run of a Dataverse change fails exactly when the real run would, atomic or operation by
 * operation: a lookup to a table the app may not read, and an earlier delete whose cascade reaches a
 * record a later operation writes. Each case is run four times on fresh records (dry and real, with
 * atomic true and false) against the app on the local host and the Dataverse simulator.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PlanProblem } from '../../lib/contracts/responses';
import type { SagaStatus } from '../../lib/saga';
import type { TableInput } from '../../sim/dataverse';
import { startAppWithDataverse, type AppUnderTest } from '../support/appHost';
import { startOrchestration, waitFor } from '../support/durable';

/**
 * A matter refers to its contact first (deleting the contact clears the lookup), then to its office and
 * its account (deleting either deletes the matter too): the plan must not stop at the first lookup,
 * and must go by the order of the deletes, not of the lookups.
 */
const matterTable: TableInput = {
  logicalName: 'lc_matter',
  entitySetName: 'lc_matters',
  primaryIdAttribute: 'lc_matterid',
  primaryNameAttribute: 'lc_name',
  isCustomEntity: true,
  attributes: [
    { logicalName: 'lc_name', type: 'String', maxLength: 200 },
    { logicalName: 'lc_stage', type: 'String', maxLength: 50 },
    {
      logicalName: 'lc_contactid',
      type: 'Lookup',
      targets: [{ entity: 'contact', navigationProperty: 'lc_ContactId', cascadeDelete: 'RemoveLink' }],
    },
    {
      logicalName: 'lc_officeid',
      type: 'Lookup',
      targets: [{ entity: 'account', navigationProperty: 'lc_OfficeId', cascadeDelete: 'Cascade' }],
    },
    {
      logicalName: 'lc_accountid',
      type: 'Lookup',
      targets: [{ entity: 'account', navigationProperty: 'lc_AccountId', cascadeDelete: 'Cascade' }],
    },
  ],
};

let app: AppUnderTest;
beforeAll(async () => {
  app = await startAppWithDataverse({ tables: [matterTable] });
});
afterEach(() => app.sim.faults.clear());
afterAll(async () => app?.close());

interface Output {
  problems?: PlanProblem[];
  wouldFail?: boolean;
  atomicFallback?: string;
}

async function run(input: unknown) {
  const instanceId = await startOrchestration(app.host, 'dataverseChange', input);
  const status = await waitFor(app.host, instanceId, undefined, 30_000);
  return { status, output: status.output as Output, saga: status.customStatus as SagaStatus | null };
}

/**
 * The verdict on a change with this one problem: a dry run completes and reports exactly it, and the
 * real run is refused before it writes anything (PLAN_INVALID), naming the field and the message.
 */
function expectOneProblem(
  dryRun: boolean,
  { status, output }: Awaited<ReturnType<typeof run>>,
  problem: PlanProblem,
) {
  if (dryRun) {
    expect(status.runtimeStatus).toBe('Completed');
    expect(output.wouldFail).toBe(true);
    expect(output.problems).toEqual([problem]);
  } else {
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain('[PLAN_INVALID]');
    expect(String(status.output)).toContain(`.${problem.field}: ${problem.message}`);
  }
}

/**
 * The problem of the update at index `operation` whose record an earlier delete of an account takes
 * with it; `by.number` is that delete's number as messages count operations (from 1).
 */
function deletedByCascade(
  operation: number,
  by: { number: number; name: string; id: string },
  field: string,
): PlanProblem {
  return {
    operation,
    field,
    code: 'DELETED_BY_CASCADE',
    message: `operation #${by.number} deletes account "${by.name}" (${by.id.slice(0, 8)}…), which '${field}' refers to, and Dataverse deletes this record with it (the relationship cascades deletes), so there would be nothing left to update`,
  };
}

async function created(table: string, data: Record<string, unknown>): Promise<string> {
  return String((await app.dataverse.create(table, data)).id);
}

const ATOMIC = [true, false];

describe('a lookup to a table the app may not read (403)', () => {
  /** Every read of `path` is refused as Dataverse refuses a read without the privilege. */
  const unreadable = (path: string) =>
    app.sim.faults.add({ method: 'GET', path, kind: 'status', status: 403, count: 1000 });

  async function verdicts(tag: string, bind: string) {
    const operations = [
      {
        op: 'create',
        table: 'contacts',
        data: { lastname: `${tag} Bound`, 'parentcustomerid_account@odata.bind': bind },
      },
    ];
    const dry = await Promise.all(ATOMIC.map((atomic) => run({ dryRun: true, atomic, operations })));
    const real = await Promise.all(ATOMIC.map((atomic) => run({ atomic, operations })));
    const written = [];
    for await (const c of app.dataverse.query('contacts', { filter: `lastname eq '${tag} Bound'` }))
      written.push(c);
    return { dry, real, written };
  }

  function expectSameVerdict(
    { dry, real, written }: Awaited<ReturnType<typeof verdicts>>,
    code: string,
    message: string,
  ) {
    for (const { status, output } of dry) {
      expect(status.runtimeStatus).toBe('Completed');
      expect(output.wouldFail).toBe(true);
      expect(output.problems).toEqual([
        { operation: 0, field: 'parentcustomerid_account@odata.bind', code, message },
      ]);
    }
    for (const { status, saga } of real) {
      expect(status.runtimeStatus).toBe('Failed');
      expect(String(status.output)).toContain(
        '[PLAN_INVALID] This change would fail, so nothing was written.',
      );
      expect(String(status.output)).toContain(message);
      // The plan ran; nothing after it did.
      expect(saga?.steps.map((s) => [s.name, s.state])).toEqual([['plan 1 operation', 'completed']]);
    }
    expect(written).toEqual([]);
  }

  it('on a table the lookup can refer to is LOOKUP_TARGET_UNREADABLE, dry or real, atomic or not', async () => {
    const account = await created('accounts', { name: 'Secret BV' });
    unreadable(`accounts\\(${account}\\)`);
    expectSameVerdict(
      await verdicts('Unreadable', `/accounts(${account})`),
      'LOOKUP_TARGET_UNREADABLE',
      `'parentcustomerid_account@odata.bind' points at accounts(${account}), which this app may not read (no read privilege on account)`,
    );
  });

  it('on a table the lookup cannot refer to is LOOKUP_TARGET_NOT_FOUND, dry or real, atomic or not', async () => {
    const user = app.sim.identity.userId;
    unreadable('systemusers\\(');
    expectSameVerdict(
      await verdicts('Misbound', `/systemusers(${user})`),
      'LOOKUP_TARGET_NOT_FOUND',
      `'parentcustomerid_account@odata.bind' points at systemusers(${user}), but it can only refer to account`,
    );
  });
});

describe('an earlier delete that Dataverse cascades onto a record a later operation writes', () => {
  it('clearing its lookup (RemoveLink): passes dry, and the real run goes operation by operation and says why', async () => {
    const scenario = async (tag: string) => {
      const person = await created('contacts', { lastname: `${tag} Primary` });
      const company = await created('accounts', {
        name: `${tag} Linked BV`,
        'primarycontactid@odata.bind': `/contacts(${person})`,
      });
      return {
        person,
        company,
        operations: [
          { op: 'delete', table: 'contacts', id: person },
          { op: 'update', table: 'accounts', id: company, data: { telephone1: '555-0199' } },
        ],
      };
    };
    for (const atomic of ATOMIC) {
      const dry = await run({
        dryRun: true,
        atomic,
        operations: (await scenario(`Dry${atomic}`)).operations,
      });
      expect(dry.status.runtimeStatus).toBe('Completed');
      expect(dry.output).toMatchObject({ wouldFail: false, problems: [] });
      // The dry run says it would not be one changeset, as the real run's status does.
      expect(dry.output.atomicFallback !== undefined).toBe(atomic);

      const { person, company, operations } = await scenario(`Real${atomic}`);
      const real = await run({ atomic, operations });
      expect(real.status.runtimeStatus).toBe('Completed');
      expect(real.saga?.details).toMatchObject({ atomic: false });
      if (atomic)
        expect(real.saga?.details?.atomicFallback).toBe(
          `operation #1 deletes the record that account "Real${atomic} Linked BV" (${company.slice(0, 8)}…) refers to through 'primarycontactid', and Dataverse then clears that lookup, so operation #2 would find the record changed inside one changeset`,
        );
      expect(await app.dataverse.tryRetrieve('contacts', person)).toBeUndefined();
      expect(await app.dataverse.retrieve('accounts', company)).toMatchObject({
        telephone1: '555-0199',
        _primarycontactid_value: null,
      });
    }
  });

  it('through its second lookup (Cascade) after its first (RemoveLink): DELETED_BY_CASCADE, dry or real', async () => {
    for (const atomic of ATOMIC)
      for (const dryRun of [true, false]) {
        const tag = `Both${atomic}${dryRun}`;
        const person = await created('contacts', { lastname: `${tag} Client` });
        const company = await created('accounts', { name: `${tag} Client BV` });
        const matter = await created('lc_matters', {
          lc_name: `${tag} Matter`,
          'lc_ContactId@odata.bind': `/contacts(${person})`,
          'lc_AccountId@odata.bind': `/accounts(${company})`,
        });
        const verdict = await run({
          dryRun,
          atomic,
          operations: [
            { op: 'delete', table: 'contacts', id: person },
            { op: 'delete', table: 'accounts', id: company },
            { op: 'update', table: 'lc_matters', id: matter, data: { lc_stage: 'Closed' } },
          ],
        });
        expectOneProblem(
          dryRun,
          verdict,
          deletedByCascade(2, { number: 2, name: `${tag} Client BV`, id: company }, 'lc_accountid'),
        );
        expect(await app.dataverse.retrieve('contacts', person)).toMatchObject({ lastname: `${tag} Client` });
        expect(await app.dataverse.retrieve('lc_matters', matter)).not.toHaveProperty('lc_stage', 'Closed');
      }
  });

  it('through two lookups (Cascade): the delete that runs first takes it, whatever the order of the lookups', async () => {
    for (const atomic of ATOMIC) {
      const tag = `Twice${atomic}`;
      const office = await created('accounts', { name: `${tag} Office BV` });
      const company = await created('accounts', { name: `${tag} Client BV` });
      const matter = await created('lc_matters', {
        lc_name: `${tag} Matter`,
        'lc_OfficeId@odata.bind': `/accounts(${office})`,
        'lc_AccountId@odata.bind': `/accounts(${company})`,
      });
      const verdict = await run({
        dryRun: true,
        atomic,
        operations: [
          { op: 'delete', table: 'accounts', id: company },
          { op: 'delete', table: 'accounts', id: office },
          { op: 'update', table: 'lc_matters', id: matter, data: { lc_stage: 'Closed' } },
        ],
      });
      expectOneProblem(
        true,
        verdict,
        deletedByCascade(2, { number: 1, name: `${tag} Client BV`, id: company }, 'lc_accountid'),
      );
    }
  });

  it('deleting it too (Cascade): DELETED_BY_CASCADE, dry or real, atomic or not, and nothing is written', async () => {
    for (const atomic of ATOMIC)
      for (const dryRun of [true, false]) {
        const tag = `Cascade${atomic}${dryRun}`;
        const company = await created('accounts', { name: `${tag} Parent BV` });
        const employee = await created('contacts', {
          lastname: `${tag} Child`,
          'parentcustomerid_account@odata.bind': `/accounts(${company})`,
        });
        const verdict = await run({
          dryRun,
          atomic,
          operations: [
            { op: 'delete', table: 'accounts', id: company },
            { op: 'update', table: 'contacts', id: employee, data: { jobtitle: 'Survivor' } },
          ],
        });
        expectOneProblem(
          dryRun,
          verdict,
          deletedByCascade(1, { number: 1, name: `${tag} Parent BV`, id: company }, 'parentcustomerid'),
        );
        expect(await app.dataverse.retrieve('accounts', company)).toMatchObject({ name: `${tag} Parent BV` });
        expect(await app.dataverse.retrieve('contacts', employee)).not.toHaveProperty('jobtitle', 'Survivor');
      }
  });
});

describe('a lookup to a record an earlier operation deletes', () => {
  it('is LOOKUP_TARGET_NOT_FOUND, dry or real, atomic or not, and nothing is written', async () => {
    for (const atomic of ATOMIC)
      for (const dryRun of [true, false]) {
        const tag = `Gone${atomic}${dryRun}`;
        const company = await created('accounts', { name: `${tag} Closing BV` });
        const verdict = await run({
          dryRun,
          atomic,
          operations: [
            { op: 'delete', table: 'accounts', id: company },
            {
              op: 'create',
              table: 'contacts',
              data: {
                lastname: `${tag} Late`,
                'parentcustomerid_account@odata.bind': `/accounts(${company})`,
              },
            },
          ],
        });
        const message = `'parentcustomerid_account@odata.bind' points at accounts(${company}), but operation #1 deletes account "${tag} Closing BV" (${company.slice(0, 8)}…) before this one`;
        expectOneProblem(dryRun, verdict, {
          operation: 1,
          field: 'parentcustomerid_account@odata.bind',
          code: 'LOOKUP_TARGET_NOT_FOUND',
          message,
        });
        expect(await app.dataverse.retrieve('accounts', company)).toMatchObject({
          name: `${tag} Closing BV`,
        });
        const late = [];
        for await (const c of app.dataverse.query('contacts', { filter: `lastname eq '${tag} Late'` }))
          late.push(c);
        expect(late).toEqual([]);
      }
  });
});
