import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSettings } from '../../lib/config/settings';
import { buildDeploymentStore, newDeploymentRecord } from '../../lib/deployments';
import { getStatus, startOrchestration, waitFor } from '../support/durable';
import { contacts, startDeploymentsApp, uniqueVersion, type DeploymentsApp } from './support';

let app: DeploymentsApp;
beforeAll(async () => {
  app = await startDeploymentsApp('auto');
  const initial = await startOrchestration(app.host, 'configChange', { value: { reminderHour: 9 } });
  expect((await waitFor(app.host, initial)).runtimeStatus).toBe('Completed');
});
afterAll(async () => app?.close());

async function newContact(firstname: string): Promise<string> {
  return String(
    (await app.dataverse.create('contacts', { firstname, lastname: 'Deploy', jobtitle: 'Before' })).id,
  );
}

async function deploy(body: Record<string, unknown>) {
  const res = await app.api('POST', 'deployments', body);
  expect(res.status).toBe(202);
  const text = await res.text();
  // The check-status answer points at this API; the extension's system key never leaves the host.
  expect(text).not.toContain(app.host.systemKey);
  expect(res.headers.get('location')).not.toContain(app.host.systemKey);
  const { id } = JSON.parse(text) as { id: string };
  return { id, status: await waitFor(app.host, id, undefined, 30_000) };
}

describe('a deployment whose health check fails', () => {
  it('rolls back the Dataverse records and the configuration when Dataverse stops answering', async () => {
    const keep = await newContact('Health');
    const gone = await newContact('Removed');
    const configBefore = await app.services.config.current();
    const before = await contacts(app.dataverse);
    const version = uniqueVersion('unhealthy');
    // Nothing else in a deployment calls WhoAmI: the fault hits the health check's call.
    app.sim.faults.add({ method: 'GET', path: '/WhoAmI$', kind: 'status', status: 500 });
    const { id, status } = await deploy({
      version,
      config: { patch: { reminderHour: 6, theme: 'dark' } },
      dataverse: {
        operations: [
          { op: 'update', table: 'contacts', id: keep, data: { jobtitle: 'After' } },
          { op: 'create', table: 'contacts', data: { firstname: 'New', lastname: version } },
          { op: 'delete', table: 'contacts', id: gone },
        ],
      },
    });
    expect(status.runtimeStatus).toBe('Failed');
    const message = String(status.output);
    expect(message).toContain('[DEPLOYMENT_ROLLED_BACK]');
    expect(message).toContain('[DEPLOYMENT_UNHEALTHY]');
    expect(message).toContain('Dataverse answers WhoAmI');

    // Everything is as it was: records (the deleted one re-created) and the configuration.
    expect(await contacts(app.dataverse)).toEqual(before);
    const configAfter = await app.services.config.current();
    expect(configAfter?.version).toBe(configBefore?.version);
    expect(configAfter?.value).toEqual(configBefore?.value);

    const record = await app.record(id);
    expect(record?.state).toBe('rolled-back');
    expect(record?.history.map((h) => h.state)).toEqual(['pending', 'applying', 'verifying', 'rolled-back']);
    expect(record?.error?.code).toBe('DEPLOYMENT_ROLLED_BACK');
    expect(record?.health?.ok).toBe(false);
    expect(record?.health?.checks.find((c) => c.name === 'Dataverse answers WhoAmI')?.ok).toBe(false);
    expect(record?.compensations?.map((c) => [c.step, c.outcome])).toEqual([
      ['apply Dataverse operations', 'rolled-back'],
      ['apply configuration', 'rolled-back'],
    ]);
    // Both sub-sagas' rollback points were executed, so they cannot be used again.
    for (const pointId of [record?.dataverse?.rollbackPointId, record?.config?.rollbackPointId])
      expect((await app.services.rollbackPoints.require(String(pointId))).status).toBe('rolled-back');
    expect(record?.rollbackPoints).toEqual([]);

    const list = (await (await app.api('GET', 'deployments?state=rolled-back')).json()) as {
      deployments: { id: string; state: string }[];
    };
    expect(list.deployments).toContainEqual(expect.objectContaining({ id, state: 'rolled-back' }));
    // Paged, a token leading to the rest: paging one at a time reaches it, each deployment once.
    const paged: string[] = [];
    let token: string | undefined;
    do {
      const page = (await (
        await app.api(
          'GET',
          `deployments?top=1${token ? `&continuationToken=${encodeURIComponent(token)}` : ''}`,
        )
      ).json()) as { deployments: { id: string }[]; continuationToken?: string };
      expect(page.deployments.length).toBeLessThanOrEqual(1);
      paged.push(...page.deployments.map((d) => d.id));
      token = page.continuationToken;
    } while (token && !paged.includes(id));
    expect(paged).toContain(id);
    expect(new Set(paged).size).toBe(paged.length);
    const bad = await app.api('GET', 'deployments?continuationToken=garbage');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      code: 'INVALID_INPUT',
      details: [{ field: 'continuationToken' }],
    });
  });

  it('rolls back when a post-condition from the manifest does not hold', async () => {
    const changed = await newContact('Changed');
    const other = await newContact('Elsewhere');
    const before = await contacts(app.dataverse);
    const { id, status } = await deploy({
      version: uniqueVersion('postcondition'),
      dataverse: {
        operations: [{ op: 'update', table: 'contacts', id: changed, data: { jobtitle: 'Lead' } }],
      },
      healthCheck: { records: [{ table: 'contacts', id: other, fields: { jobtitle: 'Manager' } }] },
    });
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain('jobtitle is "Before", expected "Manager"');
    expect(await contacts(app.dataverse)).toEqual(before);
    expect((await app.record(id))?.state).toBe('rolled-back');
  });

  it('ends failed, naming the stuck rollback, when undoing the records fails', async () => {
    const version = uniqueVersion('stuck');
    app.sim.faults.add({ method: 'GET', path: '/WhoAmI$', kind: 'status', status: 500 });
    // Undoing a create is a delete; nothing else in this deployment deletes.
    app.sim.faults.add({ method: 'DELETE', path: '/contacts\\(', kind: 'status', status: 500, count: 50 });
    const { id, status } = await deploy({
      version,
      dataverse: {
        operations: [{ op: 'create', table: 'contacts', data: { firstname: 'Stuck', lastname: version } }],
      },
    });
    app.sim.faults.clear();
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain('[DEPLOYMENT_ROLLBACK_FAILED]');
    expect(String(status.output)).toContain('Rolling back failed for: apply Dataverse operations');
    expect(String(status.output)).toMatch(/DELETE \S+contacts\(\S+\) failed with 500/);
    const record = await app.record(id);
    expect(record?.state).toBe('failed');
    expect(record?.compensations).toEqual([
      expect.objectContaining({ step: 'apply Dataverse operations', outcome: 'failed' }),
    ]);
    // The point left to run by hand is on the record, and the saga status shows the stuck step.
    expect(record?.rollbackPoints).toEqual([record?.dataverse?.rollbackPointId]);
    expect((await getStatus(app.host, id)).customStatus).toMatchObject({
      phase: 'compensation-failed',
      steps: expect.arrayContaining([
        expect.objectContaining({ name: 'apply Dataverse operations', state: 'compensation-failed' }),
      ]),
    });
  });

  it('ends failed, not rolled back, when the Dataverse change cannot undo its own work', async () => {
    const target = await newContact('Half');
    const version = uniqueVersion('half');
    // The update (second) fails; undoing the create (first) is a delete, which fails too.
    app.sim.faults.add({ method: 'PATCH', path: '/contacts\\(', kind: 'status', status: 500 });
    app.sim.faults.add({ method: 'DELETE', path: '/contacts\\(', kind: 'status', status: 500, count: 50 });
    const { id, status } = await deploy({
      version,
      dataverse: {
        // Operation by operation, so the create is applied before the update fails.
        atomic: false,
        operations: [
          { op: 'create', table: 'contacts', data: { firstname: 'Half', lastname: version } },
          { op: 'update', table: 'contacts', id: target, data: { jobtitle: 'Never' } },
        ],
      },
    });
    app.sim.faults.clear();
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain('[DEPLOYMENT_ROLLBACK_FAILED]');
    expect(String(status.output)).toContain('could not undo all of its own work');
    expect((await app.record(id))?.state).toBe('failed');
  });

  // configChange numbers a new version from the newest one kept, not from the one in force.
  it('a later deployment can change the configuration again after a rollback', async () => {
    const { status } = await deploy({
      version: uniqueVersion('after-rollback'),
      config: { patch: { reminderHour: 5 } },
    });
    expect(String(status.output)).not.toContain('CONFIG_CONFLICT');
    expect(status.runtimeStatus).toBe('Completed');
  });
});

describe('a deployment without approval', () => {
  it('applies at once and is listed as succeeded with its rollback points', async () => {
    const id0 = await newContact('Direct');
    const version = uniqueVersion('direct');
    const { id, status } = await deploy({
      version,
      dataverse: { operations: [{ op: 'update', table: 'contacts', id: id0, data: { jobtitle: 'Direct' } }] },
    });
    expect(status.runtimeStatus).toBe('Completed');
    expect((await app.dataverse.retrieve('contacts', id0)).jobtitle).toBe('Direct');
    const list = (await (await app.api('GET', 'deployments')).json()) as {
      deployments: { id: string; state: string; rollbackPoints: string[] }[];
    };
    const listed = list.deployments.find((d) => d.id === id);
    expect(listed?.state).toBe('succeeded');
    expect(listed?.rollbackPoints).toHaveLength(1);
    // The point rolls the deployment's records back like any other.
    const rollback = await startOrchestration(app.host, 'rollback', { pointId: listed?.rollbackPoints[0] });
    expect((await waitFor(app.host, rollback)).runtimeStatus).toBe('Completed');
    expect((await app.dataverse.retrieve('contacts', id0)).jobtitle).toBe('Before');
  });

  it('fails without applying anything when an operation does not fit the environment', async () => {
    const configBefore = await app.services.config.current();
    const { id, status } = await deploy({
      version: uniqueVersion('missing'),
      config: { patch: { reminderHour: 4 } },
      dataverse: {
        operations: [
          {
            op: 'update',
            table: 'contacts',
            id: '00000000-0000-0000-0000-000000000001',
            data: { jobtitle: 'x' },
          },
        ],
      },
    });
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain('[DEPLOYMENT_FAILED]');
    expect(String(status.output)).toContain('RECORD_NOT_FOUND');
    expect((await app.services.config.current())?.version).toBe(configBefore?.version);
    expect((await app.record(id))?.state).toBe('failed');
  });
});

describe('POST /api/deployments', () => {
  it('answers 400 naming each bad field of a manifest, and starts nothing', async () => {
    const res = await app.api('POST', 'deployments', {
      version: 'has spaces',
      config: { value: { a: 1 }, patch: { b: 2 } },
      dataverse: { operations: [{ op: 'rename', table: 'contacts' }] },
      schedules: { reminders: '0 9 * * *' },
      approvalTimeoutHours: 5,
      extra: true,
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { code: string; details: { field: string }[] };
    expect(body.code).toBe('INVALID_MANIFEST');
    expect(body.details.map((d) => d.field)).toEqual(
      expect.arrayContaining([
        'extra',
        'version',
        'config',
        'dataverse.operations[0].op',
        'schedules.reminders',
        'approvalTimeoutHours',
      ]),
    );
    const empty = await app.api('POST', 'deployments', { version: '1.0' });
    expect(empty.status).toBe(400);
    const notJson = await app.api('POST', 'deployments', '{not json');
    expect(notJson.status).toBe(400);
  });

  it('starts a deployment whose version was reserved but never started when the request is retried', async () => {
    // As if the host died between reserving the version and starting the saga.
    const contact = await newContact('Reserved');
    const manifest = {
      version: uniqueVersion('reserved'),
      dataverse: {
        operations: [{ op: 'update' as const, table: 'contacts', id: contact, data: { jobtitle: 'Late' } }],
      },
    };
    const id = `deploy-${manifest.version}`;
    await buildDeploymentStore(readSettings()).create(
      newDeploymentRecord(id, manifest, new Date().toISOString()),
    );
    const res = await app.api('POST', 'deployments', manifest);
    expect(res.status).toBe(202);
    expect(((await res.json()) as { id: string }).id).toBe(id);
    const status = await waitFor(app.host, id, undefined, 30_000);
    expect(status.output).toMatchObject({ state: 'succeeded' });
  });

  it('needs a function key', async () => {
    const res = await app.api('POST', 'deployments', { version: 'x' }, { key: null });
    expect(res.status).toBe(401);
    expect((await app.api('GET', 'deployments', undefined, { key: null })).status).toBe(401);
  });
});
