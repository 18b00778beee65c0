import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrchestration, waitFor } from '../support/durable';
import { contacts, startDeploymentsApp, uniqueVersion, type DeploymentsApp } from './support';

let app: DeploymentsApp;
beforeAll(async () => {
  app = await startDeploymentsApp('auto');
  const initial = await startOrchestration(app.host, 'configChange', { value: { reminderHour: 9 } });
  expect((await waitFor(app.host, initial)).runtimeStatus).toBe('Completed');
});
afterAll(async () => app?.close());

async function post(
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await app.api('POST', path, body);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('rolling back a succeeded deployment', () => {
  it('executes its rollback points, restoring records and configuration, once', async () => {
    const id0 = String(
      (await app.dataverse.create('contacts', { firstname: 'Kept', lastname: 'Rb', jobtitle: 'Before' })).id,
    );
    const configBefore = await app.services.config.current();
    const before = await contacts(app.dataverse);
    const version = uniqueVersion('undo');
    const started = await post('deployments', {
      version,
      config: { patch: { reminderHour: 10 } },
      schedules: { reminders: '0 0 10 * * *' },
      dataverse: {
        operations: [
          { op: 'update', table: 'contacts', id: id0, data: { jobtitle: 'After' } },
          { op: 'create', table: 'contacts', data: { firstname: 'Fresh', lastname: version } },
        ],
      },
    });
    expect(started.status).toBe(202);
    const id = String(started.body.id);
    expect((await waitFor(app.host, id)).runtimeStatus).toBe('Completed');
    expect((await app.services.config.current())?.value).toMatchObject({ reminderHour: 10 });

    const rollback = await post(`deployments/${id}/rollback`);
    expect(rollback.status).toBe(202);
    const status = await waitFor(app.host, String(rollback.body.id));
    expect(status.runtimeStatus).toBe('Completed');
    expect(await contacts(app.dataverse)).toEqual(before);
    const configAfter = await app.services.config.current();
    expect(configAfter?.version).toBe(configBefore?.version);
    expect(configAfter?.value).toEqual(configBefore?.value);

    const record = await app.record(id);
    expect(record?.state).toBe('rolled-back');
    expect(record?.history.map((h) => h.state).slice(-3)).toEqual([
      'succeeded',
      'rolling-back',
      'rolled-back',
    ]);
    expect(record?.rollbackPoints).toEqual([]);

    const again = await post(`deployments/${id}/rollback`);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('DEPLOYMENT_STATE_CONFLICT');
  });

  it('stops when a record was edited since, naming the conflict, and can then be forced', async () => {
    const id0 = String(
      (await app.dataverse.create('contacts', { firstname: 'Edited', lastname: 'Rb', jobtitle: 'Before' }))
        .id,
    );
    const version = uniqueVersion('edited');
    const started = await post('deployments', {
      version,
      dataverse: {
        operations: [{ op: 'update', table: 'contacts', id: id0, data: { jobtitle: 'Deployed' } }],
      },
    });
    const id = String(started.body.id);
    expect((await waitFor(app.host, id)).runtimeStatus).toBe('Completed');
    await app.dataverse.update('contacts', id0, { jobtitle: 'By a person' });

    const rollback = await post(`deployments/${id}/rollback`);
    const status = await waitFor(app.host, String(rollback.body.id));
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain('[DEPLOYMENT_ROLLBACK_FAILED]');
    expect(String(status.output)).toContain('ROLLBACK_CONFLICT');
    expect((await app.dataverse.retrieve('contacts', id0)).jobtitle).toBe('By a person');
    const record = await app.record(id);
    expect(record?.state).toBe('failed');
    expect(record?.rollbackPoints).toHaveLength(1);

    // The point is still active: forced, the rollback puts the record back as before the deployment.
    const forced = await post(`deployments/${id}/rollback`, { force: true });
    expect(forced.status).toBe(202);
    expect(forced.body.id).toBe(`${id}:rollback-2`);
    expect((await waitFor(app.host, String(forced.body.id))).runtimeStatus).toBe('Completed');
    expect((await app.dataverse.retrieve('contacts', id0)).jobtitle).toBe('Before');
    expect((await app.record(id))?.state).toBe('rolled-back');
  });

  it('answers 404 for an unknown deployment', async () => {
    expect((await post('deployments/deploy-unknown/rollback')).status).toBe(404);
  });
});
