/**
 * What blc says to a person, on outputs shaped as the app answers them: records named, not GUIDs; a
 * change summed up in a sentence; a dry run's plan with its problems; steps that wait for a service or
 * keep their compensation in a rollback point; bad JSON placed by line and column. (The same texts
 * against the running app are in commands.test.ts and walkthrough.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { BlcError } from '../../cli/apiClient';
import { asChangeOutput, changeSummary, dryRunText, wouldFailMessage } from '../../cli/format/change';
import {
  appliedText,
  outcomeLines,
  phaseText,
  rollbackPointText,
  stepState,
} from '../../cli/format/instance';
import { actionText, recordName } from '../../cli/format/records';
import { planLines } from '../../cli/format/rollback';
import { jsonErrorOffset, lineAndColumn, parseJson } from '../../cli/jsonText';
import { changes, type InstanceView } from '../../cli/watch';
import { closestName } from '../../lib/api/closestName';
import type { StepStatus } from '../../lib/contracts/responses';

const ACCOUNT = '3eedb109-5b1c-4c3e-9b0e-2f4a1c6d7e80';
const ZEIST = '9a1b2c3d-0000-4000-8000-000000000002';
const EMMA = '7c0ffee0-1111-4222-8333-444455556666';

describe('records are named as people know them', () => {
  it('shows the logical name, the quoted primary name and the start of the GUID', () => {
    expect(recordName({ table: 'accounts', id: ACCOUNT, entity: 'account', name: 'Lindqvist Physio' })).toBe(
      'account "Lindqvist Physio" (3eedb109…)',
    );
  });

  it('falls back to the whole GUID, and to the entity set, for a record recorded without names', () => {
    expect(recordName({ table: 'accounts', id: ACCOUNT, entity: 'account' })).toBe(`account ${ACCOUNT}`);
    expect(recordName({ table: 'accounts', id: ACCOUNT })).toBe(`accounts ${ACCOUNT}`);
  });

  it('says what an undo action does to which record', () => {
    expect(
      actionText({
        kind: 'dataverse-restore-fields',
        table: 'contacts',
        id: EMMA,
        entity: 'contact',
        name: 'Emma Visser',
        fields: { jobtitle: null },
      }),
    ).toBe('restore contact "Emma Visser" (7c0ffee0…): jobtitle → (empty)');
    expect(actionText({ kind: 'dataverse-delete', table: 'accounts', id: ACCOUNT })).toBe(
      `delete accounts ${ACCOUNT}`,
    );
  });
});

/** The output of the README's new-organisation change, as the app answers it. */
const completedChange = {
  dryRun: false,
  rollbackPointId: 'rp-try-new-organisation',
  plan: [
    { index: 0, op: 'upsert', table: 'accounts', entity: 'account', name: 'Lindqvist Physio', exists: false },
    {
      index: 1,
      op: 'upsert',
      table: 'accounts',
      entity: 'account',
      name: 'Lindqvist Physio – Zeist',
      exists: false,
    },
    { index: 2, op: 'update', table: 'contacts', entity: 'contact', name: 'Emma Visser', exists: true },
  ],
  results: [
    { index: 0, table: 'accounts', id: ACCOUNT, action: 'created', changed: {} },
    { index: 1, table: 'accounts', id: ZEIST, action: 'created', changed: {} },
    {
      index: 2,
      table: 'contacts',
      id: EMMA,
      action: 'updated',
      changed: { jobtitle: { before: 'Physiotherapist', after: 'Practice manager' } },
    },
  ],
};

function instance(extra: Partial<InstanceView>): InstanceView {
  return {
    instanceId: 'try-new-organisation',
    name: 'dataverseChange',
    runtimeStatus: 'Completed',
    createdTime: '2026-11-26T10:00:00.000Z',
    lastUpdatedTime: '2026-11-26T10:00:01.000Z',
    input: null,
    output: null,
    customStatus: null,
    ...extra,
  };
}

describe('what a completed change did', () => {
  it('says it in a sentence, names the rollback point and how to plan its rollback', () => {
    const lines = outcomeLines(
      instance({
        output: completedChange,
        rollbackPoint: { id: 'rp-try-new-organisation', status: 'active' },
      }),
    );
    expect(lines).toEqual([
      'Created account "Lindqvist Physio" (3eedb109…), account "Lindqvist Physio – Zeist" (9a1b2c3d…); ' +
        'updated contact "Emma Visser" (7c0ffee0…): jobtitle → Practice manager.',
      'Rollback point rp-try-new-organisation (active): blc rollback plan rp-try-new-organisation',
    ]);
  });

  it('still reads an output from before names were recorded', () => {
    const old = asChangeOutput({
      dryRun: false,
      plan: [{ index: 0, op: 'update', table: 'contacts' }],
      results: [
        { index: 0, table: 'contacts', id: EMMA, action: 'updated', changed: { jobtitle: { after: 'X' } } },
      ],
    });
    expect(old && changeSummary(old)).toBe(`Updated contacts ${EMMA}: jobtitle → X.`);
  });
});

describe('a lookup', () => {
  const OLD = '11111111-2222-4333-8444-555555555555';
  const lookupNames = {
    [`/accounts(${ACCOUNT})`]: { entity: 'account', name: 'Lindqvist Physio' },
    [`/accounts(${OLD})`]: { entity: 'account', name: 'Harbour Health' },
  };
  const field = 'parentcustomerid_account@odata.bind';

  it('is shown by the name of the record it points at, before and after, however the binding is spelled', () => {
    const output = asChangeOutput({
      dryRun: true,
      plan: [
        {
          index: 0,
          op: 'update',
          table: 'contacts',
          id: EMMA,
          entity: 'contact',
          name: 'Emma Visser',
          exists: true,
          changes: { [field]: { before: `/accounts(${OLD})`, after: `accounts(${ACCOUNT.toUpperCase()})` } },
          lookupNames,
        },
      ],
    });
    expect(output && dryRunText(output)).toContain(
      '       parentcustomerid_account: account "Harbour Health" (11111111…) → account "Lindqvist Physio" (3eedb109…)',
    );
  });

  it('is named in what a change did and in the undo that restores it; an unnamed one stays a binding', () => {
    const output = asChangeOutput({
      dryRun: false,
      plan: [
        { index: 0, op: 'update', table: 'contacts', entity: 'contact', name: 'Emma Visser', lookupNames },
      ],
      results: [
        {
          index: 0,
          table: 'contacts',
          id: EMMA,
          action: 'updated',
          changed: { [field]: { before: `/accounts(${OLD})`, after: `/accounts(${ACCOUNT})` } },
        },
      ],
    });
    expect(output && changeSummary(output)).toBe(
      'Updated contact "Emma Visser" (7c0ffee0…): parentcustomerid_account → account "Lindqvist Physio" (3eedb109…).',
    );
    const restore = {
      kind: 'dataverse-restore-fields' as const,
      table: 'contacts',
      id: EMMA,
      entity: 'contact',
      name: 'Emma Visser',
      fields: { [field]: `/accounts(${OLD})` },
    };
    expect(actionText({ ...restore, lookupNames })).toBe(
      'restore contact "Emma Visser" (7c0ffee0…): parentcustomerid_account → account "Harbour Health" (11111111…)',
    );
    expect(actionText(restore)).toBe(
      `restore contact "Emma Visser" (7c0ffee0…): parentcustomerid_account → /accounts(${OLD})`,
    );
  });
});

describe('a dry run of a change', () => {
  const dryRun = {
    dryRun: true,
    wouldFail: true,
    plan: [
      {
        index: 0,
        op: 'update',
        table: 'contacts',
        id: EMMA,
        entity: 'contact',
        name: 'Daan Jansen',
        exists: true,
        inDesiredState: false,
        changes: { jobtitle: { before: 'Driver', after: 'Logistics planner' } },
      },
      {
        index: 1,
        op: 'upsert',
        table: 'accounts',
        key: { accountnumber: 'ACC-2003' },
        entity: 'account',
        name: 'Jansen Transport',
        exists: false,
        inDesiredState: false,
        changes: { name: { before: null, after: 'Jansen Transport' } },
      },
      {
        index: 2,
        op: 'update',
        table: 'accounts',
        id: ACCOUNT,
        entity: 'account',
        name: 'Northwind Logistics',
        exists: true,
        inDesiredState: false,
        changes: { telephone: { before: null, after: '+31 33 555 1003' } },
      },
    ],
    problems: [
      {
        operation: 2,
        field: 'telephone',
        code: 'UNKNOWN_COLUMN',
        message: "Table 'account' has no column 'telephone'.",
      },
    ],
  };

  it('shows each operation with field: before → after, its problems, and the verdict', () => {
    const output = asChangeOutput(dryRun);
    expect(output).toBeDefined();
    const lines = dryRunText(output as NonNullable<typeof output>);
    expect(lines).toEqual([
      'Plan (dry run, nothing was written): 3 operation(s)',
      '  #1 update contact "Daan Jansen" (7c0ffee0…): would update',
      '       jobtitle: Driver → Logistics planner',
      '  #2 upsert account "Jansen Transport" accountnumber=ACC-2003: would create',
      '       name: (empty) → Jansen Transport',
      '  #3 update account "Northwind Logistics" (3eedb109…): would update',
      '       telephone: (empty) → +31 33 555 1003',
      "       problem: telephone: UNKNOWN_COLUMN: Table 'account' has no column 'telephone'.",
      'Problems: 1; this change would fail. Fix the input before running it.',
    ]);
    expect(wouldFailMessage(output as NonNullable<typeof output>)).toBe(
      'this change would fail: 1 problem(s) (operation #3 telephone UNKNOWN_COLUMN)',
    );
  });

  it('says a plan without problems can run', () => {
    const output = asChangeOutput({ ...dryRun, wouldFail: false, problems: [] });
    expect(dryRunText(output as NonNullable<typeof output>).at(-1)).toBe(
      'No problems found: the change can run.',
    );
  });
});

function step(extra: Partial<StepStatus>): StepStatus {
  return {
    name: 'update contacts #3',
    activity: 'dataverseChange_apply',
    state: 'completed',
    pivot: false,
    compensable: true,
    startedAt: '2026-11-26T10:00:00.000Z',
    ...extra,
  };
}

describe('steps in words', () => {
  it("says a completed saga's compensation is available through its rollback point", () => {
    const kept = step({ compensation: { activity: 'undo_action', state: 'available' } });
    expect(stepState(kept, { pointId: 'rp-1' })).toBe(
      'completed (compensation available through rollback point rp-1)',
    );
  });

  it('shows a step waiting out an outage with its retry and the local time of the next attempt', () => {
    const next = new Date(2026, 10, 26, 10, 42, 10);
    const waiting = step({
      state: 'running',
      waiting: { service: 'dataverse', attempt: 3, nextAttemptAt: next.toISOString(), error: '503' },
    });
    expect(stepState(waiting)).toBe('running, waiting for Dataverse (retry 3, next at 10:42:10)');
    // --wait prints it as it happens, and not again when only the compensation's bookkeeping changes.
    const before = instance({ runtimeStatus: 'Running', steps: [step({ state: 'running' })] });
    const now = instance({ runtimeStatus: 'Running', steps: [waiting] });
    expect(changes(before, now)).toEqual([
      'step update contacts #3: running, waiting for Dataverse (retry 3, next at 10:42:10)',
    ]);
    const pending = instance({ steps: [step({ compensation: { activity: 'u', state: 'pending' } })] });
    const available = instance({ steps: [step({ compensation: { activity: 'u', state: 'available' } })] });
    expect(changes(pending, available)).toEqual([]);
  });

  it('says how a Dataverse change applied its writes: as one changeset, or one by one and why', () => {
    const applied = (details: Record<string, unknown> | undefined) =>
      appliedText(instance({ customStatus: { kind: 'saga', details } }));
    expect(applied({ atomic: true })).toBe('as one changeset (all or nothing)');
    expect(applied({ atomic: false })).toBe('operation by operation (atomic: false)');
    expect(applied({ atomic: false, atomicFallback: 'operations #1 and #2 write the same record' })).toBe(
      'operation by operation: operations #1 and #2 write the same record',
    );
    // A change from before the atomic path, and other orchestrations: nothing to say.
    expect(applied({ operations: 3 })).toBeUndefined();
    expect(appliedText(instance({ name: 'configChange', customStatus: { details: { atomic: true } } }))).toBe(
      undefined,
    );
  });

  it('says a compensated saga had nothing to undo when no step was undone', () => {
    const refused = instance({
      runtimeStatus: 'Failed',
      phase: 'compensated',
      steps: [step({ name: 'plan 3 operations', state: 'completed', compensable: false })],
    });
    expect(phaseText(refused)).toBe('compensated (nothing needed undoing)');
    // --wait says it the same way as it happens.
    expect(changes(instance({ runtimeStatus: 'Running', phase: 'running' }), refused)).toEqual([
      'status Failed',
      'phase compensated (nothing needed undoing)',
      'step plan 3 operations: completed',
    ]);
    const undone = instance({
      runtimeStatus: 'Failed',
      phase: 'compensated',
      steps: [step({ state: 'compensated' })],
    });
    expect(phaseText(undone)).toBe('compensated');
    expect(phaseText(instance({ phase: 'completed' }))).toBe('completed');
  });

  it('says whether, when and by whom the rollback point was rolled back', () => {
    expect(rollbackPointText({ id: 'rp-1', status: 'active' })).toBe('rp-1 (active)');
    expect(
      rollbackPointText({
        id: 'rp-1',
        status: 'rolled-back',
        rollback: {
          instanceId: 'rb-9',
          startedAt: '2026-11-26T10:00:00Z',
          finishedAt: '2026-11-26T10:01:00Z',
        },
      }),
    ).toBe('rp-1 rolled back at 2026-11-26T10:01:00Z by instance rb-9');
  });
});

describe('a rollback plan', () => {
  it('lists the undo actions by name, the conflicts, and the command that would run it', () => {
    const lines = planLines({
      pointId: 'rp-1',
      dryRun: true,
      steps: [
        {
          pointId: 'rp-1',
          description: 'new organisation',
          plan: [
            {
              kind: 'dataverse-delete',
              table: 'accounts',
              id: ACCOUNT,
              entity: 'account',
              name: 'Lindqvist Physio',
            },
          ],
        },
      ],
      conflicts: [
        {
          table: 'contacts',
          id: EMMA,
          entity: 'contact',
          name: 'Emma Visser',
          fields: { jobtitle: { expected: 'Practice manager', actual: 'Owner' } },
        },
      ],
    });
    expect(lines).toEqual([
      'Rolling back rp-1 would undo 1 point(s), in this order:',
      '',
      'rp-1  new organisation',
      '  1. delete account "Lindqvist Physio" (3eedb109…)',
      '',
      'Edited since the change (a rollback with --force overwrites these):',
      '  contact "Emma Visser" (7c0ffee0…): jobtitle is now Owner (the change set Practice manager)',
      '',
      'Nothing was changed. To roll back: blc rollback execute rp-1 --force --wait',
    ]);
  });
});

describe('bad JSON is placed by line and column', () => {
  const cases: [string, number, number][] = [
    ['{\n  "a": tru\n}', 2, 11],
    ['{"a": 1,}', 1, 9],
    ['{"a": [1, 2}', 1, 12],
    ['{"a": "x\ny"}', 1, 9],
    ['{"a": 1} x', 1, 10],
    ['{"a": ', 1, 7],
    ['', 1, 1],
  ];
  it.each(cases)('%j: line %i, column %i', (text, line, column) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(lineAndColumn(text, jsonErrorOffset(text))).toEqual({ line, column });
  });

  it('answers a usage error naming the source', () => {
    let thrown: unknown;
    try {
      parseJson('{\n  "operations": [,]\n}', '--input file change.json');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(BlcError);
    expect(thrown).toMatchObject({
      exitCode: 2,
      message: '--input file change.json is not valid JSON: line 2, column 18: unexpected ","',
    });
    expect(parseJson('{"ok": [1, "two", null, true, -1.5e3]}', 'x')).toEqual({
      ok: [1, 'two', null, true, -1500],
    });
  });
});

describe('did you mean', () => {
  it('suggests the known name a typo was meant to be, and nothing for another word', () => {
    const known = ['dataverseChange', 'configChange', 'rollback', 'createRollbackPoint'];
    expect(closestName('dataverseChnage', known)).toBe('dataverseChange');
    expect(closestName('DataverseChange', known)).toBe('dataverseChange');
    expect(closestName('rollbak', known)).toBe('rollback');
    expect(closestName('noSuchThing', known)).toBeUndefined();
  });
});
