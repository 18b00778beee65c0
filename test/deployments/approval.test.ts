import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VirtualClock } from '../../host/clock';
import { getStatus, post, startOrchestration, waitFor } from '../support/durable';
import { contacts, startDeploymentsApp, uniqueVersion, waitForRecord, type DeploymentsApp } from './support';

// The clock moves only when a test says so, so the approval timer fires exactly when it is due.
let app: DeploymentsApp;
let clock: VirtualClock;
let contactId: string;
beforeAll(async () => {
  app = await startDeploymentsApp('manual');
  clock = app.host.clock as VirtualClock;
  const initial = await startOrchestration(app.host, 'configChange', {
    value: { reminderHour: 9, timeZone: 'Europe/London' },
  });
  expect((await waitFor(app.host, initial)).runtimeStatus).toBe('Completed');
  contactId = String(
    (await app.dataverse.create('contacts', { firstname: 'Ref', lastname: 'Data', jobtitle: 'Old' })).id,
  );
});
afterAll(async () => app?.close());

function manifest(version: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version,
    description: 'New reminder hour and reference data',
    requireApproval: true,
    config: { patch: { reminderHour: 7 } },
    schedules: { reminders: '0 0 7 * * 1-5' },
    dataverse: {
      operations: [
        { op: 'update', table: 'contacts', id: contactId, data: { jobtitle: `Job ${version}` } },
        { op: 'create', table: 'contacts', data: { firstname: 'Added', lastname: version } },
      ],
    },
    ...extra,
  };
}

async function submit(body: Record<string, unknown>): Promise<string> {
  const res = await app.api('POST', 'deployments', body);
  expect(res.status).toBe(202);
  const id = ((await res.json()) as { id: string }).id;
  expect(id).toBe(`deploy-${String(body.version)}`);
  await waitForRecord(app, id, (r) => r.state === 'awaiting-approval');
  return id;
}

async function state(): Promise<{ config: unknown; configVersion?: number; contacts: unknown }> {
  const current = await app.services.config.current();
  return { config: current?.value, configVersion: current?.version, contacts: await contacts(app.dataverse) };
}

async function listed(id: string): Promise<Record<string, unknown> | undefined> {
  const res = await app.api('GET', 'deployments');
  expect(res.status).toBe(200);
  const body = (await res.json()) as { deployments: Record<string, unknown>[] };
  return body.deployments.find((d) => d.id === id);
}

describe('deployments that need approval', () => {
  it('waits for approval, then applies configuration, schedules and records and succeeds', async () => {
    const version = uniqueVersion('approved');
    const before = await state();
    const id = await submit(manifest(version));
    // Waiting changes nothing.
    expect(await state()).toEqual(before);
    expect(await listed(id)).toMatchObject({ state: 'awaiting-approval', runtimeStatus: 'Running' });

    clock.advance(3 * 3600_000); // well inside the 24-hour default
    const res = await app.api('POST', `deployments/${id}/approve`, { by: 'owner', comment: 'looks right' });
    expect(res.status).toBe(202);
    const status = await waitFor(app.host, id, undefined, 30_000);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toMatchObject({
      state: 'succeeded',
      approval: { decision: 'approved', by: 'owner', reason: 'looks right' },
    });

    const after = await app.services.config.current();
    expect(after?.value).toEqual({
      reminderHour: 7,
      timeZone: 'Europe/London',
      schedules: { reminders: '0 0 7 * * 1-5' },
    });
    expect(after?.version).toBe((before.configVersion ?? 0) + 1);
    expect((await app.dataverse.retrieve('contacts', contactId)).jobtitle).toBe(`Job ${version}`);
    const added = Object.values(await contacts(app.dataverse)).filter((c) => c.lastname === version);
    expect(added).toHaveLength(1);

    const record = await app.record(id);
    expect(record?.state).toBe('succeeded');
    expect(record?.history.map((h) => h.state)).toEqual([
      'pending',
      'awaiting-approval',
      'applying',
      'verifying',
      'succeeded',
    ]);
    expect(record?.health?.ok).toBe(true);
    // It leaves rollback points (Dataverse first: the order to execute them), all still usable.
    expect(record?.rollbackPoints).toEqual([
      record?.dataverse?.rollbackPointId,
      record?.config?.rollbackPointId,
    ]);
    for (const pointId of record?.rollbackPoints ?? [])
      expect((await app.services.rollbackPoints.require(pointId)).status).toBe('active');
    expect(await listed(id)).toMatchObject({ state: 'succeeded', version, requireApproval: true });
    const shown = await app.api('GET', `deployments/${id}`);
    expect(shown.status).toBe(200);
    expect(await shown.json()).toMatchObject({ id, state: 'succeeded', manifest: { version } });
    // The saga's progress is visible as a saga status.
    expect((await getStatus(app.host, id)).customStatus).toMatchObject({
      kind: 'saga',
      saga: 'deployment',
      phase: 'completed',
    });
  });

  it('applies nothing when rejected, and refuses a decision after the fact', async () => {
    const version = uniqueVersion('rejected');
    const before = await state();
    const id = await submit(manifest(version));
    const res = await app.api('POST', `deployments/${id}/reject`, { by: 'owner', reason: 'not this week' });
    expect(res.status).toBe(202);
    const status = await waitFor(app.host, id, undefined, 30_000);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toMatchObject({
      state: 'rejected',
      approval: { decision: 'rejected', by: 'owner', reason: 'not this week' },
      rollbackPoints: [],
    });
    expect(await state()).toEqual(before);
    expect((await app.record(id))?.state).toBe('rejected');
    expect((await listed(id))?.state).toBe('rejected');
    const late = await app.api('POST', `deployments/${id}/approve`, {});
    expect(late.status).toBe(409);
    expect(((await late.json()) as { code: string }).code).toBe('DEPLOYMENT_NOT_AWAITING_APPROVAL');
  });

  it('is rejected when nobody decides before the timeout, and applies nothing', async () => {
    const version = uniqueVersion('timeout');
    const before = await state();
    const id = await submit(manifest(version, { approvalTimeoutHours: 48 }));
    const record = await app.record(id);
    // The same version cannot be used for another manifest; the same manifest again is a retry.
    const again = await app.api('POST', 'deployments', manifest(version));
    expect(again.status).toBe(409);
    expect(((await again.json()) as { code: string }).code).toBe('DEPLOYMENT_EXISTS');
    const retried = await app.api('POST', 'deployments', manifest(version, { approvalTimeoutHours: 48 }));
    expect(retried.status).toBe(202);
    expect(((await retried.json()) as { id: string }).id).toBe(id);

    clock.advance(47 * 3600_000);
    // Whatever came due by then has run once the engine has nothing left to do.
    await app.host.engine.whenIdle();
    expect((await getStatus(app.host, id)).runtimeStatus).toBe('Running');
    clock.advance(3600_000 + 1);
    const status = await waitFor(app.host, id, undefined, 30_000);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toMatchObject({
      state: 'rejected',
      approval: { decision: 'timed-out', deadline: record?.approval?.deadline },
    });
    expect(await state()).toEqual(before);
    expect((await app.record(id))?.state).toBe('rejected');
  });

  it("shows the saga's runtime status when its orchestration was terminated while waiting", async () => {
    const id = await submit(manifest(uniqueVersion('terminated')));
    expect((await post(app.host, `instances/${id}/terminate?reason=test`)).status).toBe(202);
    await waitFor(app.host, id, ['Terminated']);
    const res = await app.api('GET', `deployments/${id}`);
    expect(await res.json()).toMatchObject({ id, state: 'awaiting-approval', runtimeStatus: 'Terminated' });
    expect(await listed(id)).toMatchObject({ runtimeStatus: 'Terminated' });
  });

  it('answers 404 for a decision on an unknown deployment', async () => {
    const res = await app.api('POST', 'deployments/deploy-nothing-here/approve');
    expect(res.status).toBe(404);
  });
});
