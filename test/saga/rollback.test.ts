import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServices } from '../../lib/config/services';
import { readSettings } from '../../lib/config/settings';
import type { RollbackPoint } from '../../lib/rollback';
import { startAppWithDataverse, type AppUnderTest } from '../support/appHost';
import { startOrchestration, waitFor } from '../support/durable';

let app: AppUnderTest;
beforeAll(async () => {
  app = await startAppWithDataverse();
});
afterAll(async () => app?.close());

const BUMPED_ON_WRITE = ['@odata.etag', 'versionnumber', 'modifiedon', 'createdon'];
async function contacts(): Promise<Record<string, Record<string, unknown>>> {
  const rows: Record<string, Record<string, unknown>> = {};
  for await (const r of app.dataverse.query('contacts')) {
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) if (!BUMPED_ON_WRITE.includes(k)) copy[k] = v;
    rows[String(r.contactid)] = copy;
  }
  return rows;
}

async function orchestrate(name: string, input: unknown) {
  const id = await startOrchestration(app.host, name, input);
  return waitFor(app.host, id, undefined, 30_000);
}

async function change(operations: unknown[], description = 'a change'): Promise<string> {
  const status = await orchestrate('dataverseChange', { description, operations });
  expect(status.runtimeStatus).toBe('Completed');
  return (status.output as { rollbackPointId: string }).rollbackPointId;
}

async function point(id: string): Promise<RollbackPoint> {
  return (await buildServices(readSettings()).rollbackPoints.require(id)) as RollbackPoint;
}

async function newContact(firstname: string, email: string): Promise<string> {
  return String(
    (await app.dataverse.create('contacts', { firstname, lastname: 'Test', emailaddress1: email })).id,
  );
}

describe('rollback points', () => {
  it('restores the before-state of a completed change, and cannot be used twice', async () => {
    const keep = await newContact('Keep', 'rb-keep@example.com');
    const gone = await newContact('Gone', 'rb-gone@example.com');
    const before = await contacts();
    const pointId = await change([
      {
        op: 'create',
        table: 'contacts',
        data: { firstname: 'Added', lastname: 'Later', emailaddress1: 'rb-new@example.com' },
      },
      { op: 'update', table: 'contacts', id: keep, data: { jobtitle: 'Changed', lastname: 'Other' } },
      { op: 'delete', table: 'contacts', id: gone },
    ]);
    expect((await point(pointId)).status).toBe('active');
    const status = await orchestrate('rollback', { pointId });
    expect(status.runtimeStatus).toBe('Completed');
    expect(await contacts()).toEqual(before);
    expect((await point(pointId)).status).toBe('rolled-back');
    const again = await orchestrate('rollback', { pointId });
    expect(again.runtimeStatus).toBe('Failed');
    expect(String(again.output)).toContain('ROLLBACK_POINT_NOT_ACTIVE');
  });

  it('shows the plan of a dry run and changes nothing', async () => {
    const id = await newContact('Plan', 'rb-plan@example.com');
    const pointId = await change([{ op: 'update', table: 'contacts', id, data: { jobtitle: 'Planned' } }]);
    const before = await contacts();
    const status = await orchestrate('rollback', { pointId, dryRun: true });
    expect(status.output).toMatchObject({
      dryRun: true,
      steps: [{ pointId, plan: [{ kind: 'dataverse-restore-fields', id, fields: { jobtitle: null } }] }],
    });
    expect(await contacts()).toEqual(before);
    expect((await point(pointId)).status).toBe('active');
  });

  it('refuses while a later change touched the same record, then cascades newest first', async () => {
    const id = await newContact('Layered', 'rb-layer@example.com');
    const original = (await contacts())[id];
    const first = await change(
      [{ op: 'update', table: 'contacts', id, data: { jobtitle: 'First' } }],
      'first',
    );
    const second = await change(
      [{ op: 'update', table: 'contacts', id, data: { jobtitle: 'Second', lastname: 'Layer2' } }],
      'second',
    );
    const refused = await orchestrate('rollback', { pointId: first });
    expect(refused.runtimeStatus).toBe('Failed');
    expect(String(refused.output)).toContain('ROLLBACK_DEPENDENCY');
    expect(String(refused.output)).toContain(second);
    expect((await point(first)).status).toBe('active');
    const cascaded = await orchestrate('rollback', { pointId: first, cascade: true });
    expect(cascaded.runtimeStatus).toBe('Completed');
    expect((cascaded.output as { rolledBack: string[] }).rolledBack).toEqual([second, first]);
    expect((await contacts())[id]).toEqual(original);
  });

  it('stops on a record edited after the change, naming the field values, unless forced', async () => {
    const id = await newContact('Edited', 'rb-edit@example.com');
    const original = (await contacts())[id];
    const pointId = await change([
      { op: 'update', table: 'contacts', id, data: { jobtitle: 'By the saga' } },
    ]);
    await app.dataverse.update('contacts', id, { jobtitle: 'By a person' });
    const blocked = await orchestrate('rollback', { pointId });
    expect(blocked.runtimeStatus).toBe('Failed');
    expect(String(blocked.output)).toContain('ROLLBACK_CONFLICT');
    expect(String(blocked.output)).toContain('jobtitle is "By a person" (the change set "By the saga")');
    const forced = await orchestrate('rollback', { pointId, force: true });
    expect(forced.runtimeStatus).toBe('Completed');
    expect((await contacts())[id]).toEqual(original);
  });

  it('says which lookup cannot be bound again when the record it pointed at was deleted since', async () => {
    const oldFirm = String((await app.dataverse.create('accounts', { name: 'Old Firm BV' })).id);
    const newFirm = String((await app.dataverse.create('accounts', { name: 'New Firm BV' })).id);
    const id = String(
      (
        await app.dataverse.create('contacts', {
          firstname: 'Moved',
          lastname: 'Test',
          'parentcustomerid_account@odata.bind': `/accounts(${oldFirm})`,
        })
      ).id,
    );
    const pointId = await change([
      {
        op: 'update',
        table: 'contacts',
        id,
        data: { 'parentcustomerid_account@odata.bind': `/accounts(${newFirm})` },
      },
    ]);
    await app.dataverse.delete('accounts', oldFirm);
    const refused = await orchestrate('rollback', { pointId });
    expect(refused.runtimeStatus).toBe('Failed');
    expect(String(refused.output)).toContain(
      `[LOOKUP_TARGET_GONE] contact "Moved Test" (${id.slice(0, 8)}…) would refer again to account "Old Firm BV" (${oldFirm.slice(0, 8)}…) through 'parentcustomerid_account', and that record no longer exists`,
    );
    expect(String(refused.output)).toContain(
      'This record was not restored. Bring it back first (for example by rolling back the change that deleted it), then run the undo again.',
    );
    expect(await app.dataverse.retrieve('contacts', id)).toMatchObject({ _parentcustomerid_value: newFirm });
  });

  it('says which record is gone when a forced rollback would restore the fields of a record deleted since', async () => {
    const id = await newContact('Vanished', 'rb-vanished@example.com');
    const pointId = await change([{ op: 'update', table: 'contacts', id, data: { jobtitle: 'Set' } }]);
    await app.dataverse.delete('contacts', id);
    const blocked = await orchestrate('rollback', { pointId });
    expect(String(blocked.output)).toContain('ROLLBACK_CONFLICT');
    const forced = await orchestrate('rollback', { pointId, force: true });
    expect(forced.runtimeStatus).toBe('Failed');
    expect(String(forced.output)).toContain(
      `[RECORD_GONE] contact "Vanished Test" (${id.slice(0, 8)}…) was deleted since the change, so its fields could not be restored. Bring it back first (for example by rolling back the change that deleted it), then run the undo again.`,
    );
    expect((await point(pointId)).status).toBe('rollback-failed');
  });

  it('is not stopped by an edit to columns the change did not write, unless it would delete the record', async () => {
    const id = await newContact('Elsewhere', 'rb-elsewhere@example.com');
    const pointId = await change([
      { op: 'update', table: 'contacts', id, data: { jobtitle: 'By the saga' } },
    ]);
    // A new etag, but the column the change wrote still holds what it wrote: putting it back loses nothing.
    await app.dataverse.update('contacts', id, { telephone1: '+31 30 123 4567' });
    const rolledBack = await orchestrate('rollback', { pointId });
    expect(rolledBack.runtimeStatus, String(rolledBack.output)).toBe('Completed');
    expect((await contacts())[id]).toMatchObject({ jobtitle: null, telephone1: '+31 30 123 4567' });

    const createdPoint = await change([
      { op: 'create', table: 'contacts', data: { firstname: 'Fresh', lastname: 'Test' } },
    ]);
    const created = (await point(createdPoint)).resources[0] as { id: string };
    await app.dataverse.update('contacts', created.id, { telephone1: '+31 30 765 4321' });
    const blocked = await orchestrate('rollback', { pointId: createdPoint });
    expect(blocked.runtimeStatus).toBe('Failed');
    expect(String(blocked.output)).toMatch(/ROLLBACK_CONFLICT.*was edited in other columns/);
  });

  it('expires points past their retention and refuses to roll them back', async () => {
    const id = await newContact('Old', 'rb-old@example.com');
    const status = await orchestrate('dataverseChange', {
      retentionDays: 1,
      operations: [{ op: 'update', table: 'contacts', id, data: { jobtitle: 'Old change' } }],
    });
    const pointId = (status.output as { rollbackPointId: string }).rollbackPointId;
    const created = await point(pointId);
    const store = buildServices(readSettings()).rollbackPoints;
    const expired = await store.expire(new Date(Date.parse(created.expiresAt) + 1000).toISOString());
    expect(expired.map((p) => p.id)).toContain(pointId);
    const refused = await orchestrate('rollback', { pointId });
    expect(String(refused.output)).toContain('ROLLBACK_POINT_EXPIRED');
  });

  it('takes a manual point of given records and restores them later', async () => {
    const id = await newContact('Manual', 'rb-manual@example.com');
    const original = (await contacts())[id];
    const made = await orchestrate('createRollbackPoint', {
      description: 'before the import',
      records: [{ table: 'contacts', id }],
    });
    expect(made.runtimeStatus).toBe('Completed');
    const pointId = (made.output as RollbackPoint).id;
    await app.dataverse.update('contacts', id, { lastname: 'Imported', jobtitle: 'x' });
    const requests = app.sim.requestCount();
    const restored = await orchestrate('rollback', { pointId, force: true });
    expect(restored.runtimeStatus).toBe('Completed');
    // One read of the record (lookups included) and one write: a manual point records no values to
    // check for edits, so the plan reads nothing.
    expect(app.sim.requestCount() - requests).toBe(2);
    expect((await contacts())[id]).toEqual(original);
  });

  it('clears on restore a lookup that was empty at the point and set since, and recreates without it', async () => {
    const person = await newContact('Unlinked', 'rb-unlinked@example.com');
    const company = String((await app.dataverse.create('accounts', { name: 'Unlinked BV' })).id);
    const made = await orchestrate('createRollbackPoint', {
      description: 'before linking',
      records: [
        { table: 'contacts', id: person },
        { table: 'accounts', id: company },
      ],
    });
    expect(made.runtimeStatus).toBe('Completed');
    const pointId = (made.output as RollbackPoint).id;
    await app.dataverse.update('contacts', person, {
      'parentcustomerid_account@odata.bind': `/accounts(${company})`,
    });
    await app.dataverse.update('accounts', company, {
      'primarycontactid@odata.bind': `/contacts(${person})`,
    });
    const restored = await orchestrate('rollback', { pointId, force: true });
    expect(restored.runtimeStatus).toBe('Completed');
    expect(await app.dataverse.retrieve('contacts', person)).toMatchObject({ _parentcustomerid_value: null });
    expect(await app.dataverse.retrieve('accounts', company)).toMatchObject({
      _primarycontactid_value: null,
    });

    const again = await orchestrate('createRollbackPoint', {
      description: 'before removing',
      records: [{ table: 'contacts', id: person }],
    });
    await app.dataverse.delete('contacts', person);
    const recreated = await orchestrate('rollback', {
      pointId: (again.output as RollbackPoint).id,
      force: true,
    });
    expect(recreated.runtimeStatus).toBe('Completed');
    expect(await app.dataverse.retrieve('contacts', person)).toMatchObject({
      firstname: 'Unlinked',
      _parentcustomerid_value: null,
    });
  });
});

describe('configuration changes', () => {
  it('writes versions, moves the pointer, and rolls back to the previous version', async () => {
    const first = await orchestrate('configChange', {
      value: { reminderHour: 9, timeZone: 'Europe/London' },
    });
    expect(first.runtimeStatus).toBe('Completed');
    const second = await orchestrate('configChange', {
      patch: { reminderHour: 8 },
      description: 'earlier reminders',
    });
    const out = second.output as { version: number; previousVersion: number; rollbackPointId: string };
    expect(out.version).toBe(out.previousVersion + 1);
    const config = buildServices(readSettings()).config;
    expect((await config.current())?.value).toEqual({ reminderHour: 8, timeZone: 'Europe/London' });
    const rolled = await orchestrate('rollback', { pointId: out.rollbackPointId });
    expect(rolled.runtimeStatus).toBe('Completed');
    expect((await config.current())?.value).toEqual({ reminderHour: 9, timeZone: 'Europe/London' });
    expect(await config.versions()).toEqual([out.previousVersion, out.version]);
  });

  it('rejects a change that gives neither value nor patch', async () => {
    const bad = await orchestrate('configChange', { description: 'nothing' });
    expect(bad.runtimeStatus).toBe('Failed');
    expect(String(bad.output)).toContain('[INVALID_INPUT]');
  });
});

describe('the daily expiry timer', () => {
  it('expires points past their expiry and deletes their snapshots', async () => {
    const services = buildServices(readSettings());
    await services.snapshots.put('expiry-test/0.json', { exists: true, record: { a: 1 } });
    await services.rollbackPoints.create({
      id: 'rp-expiry-test',
      origin: 'manual',
      description: 'old',
      createdAt: '2020-01-01T00:00:00.000Z',
      expiresAt: '2020-01-31T00:00:00.000Z',
      status: 'active',
      resources: [],
      plan: [],
      snapshots: ['expiry-test/0.json'],
    });
    await app.host.runTimer('rollbackExpiry', { schedule: { adjustForDST: true }, isPastDue: false });
    expect((await services.rollbackPoints.require('rp-expiry-test')).status).toBe('expired');
    expect(await services.snapshots.get('expiry-test/0.json')).toBeUndefined();
  });
});
