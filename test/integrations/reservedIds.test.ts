import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookInstanceId } from '../../lib/instanceIds';
import { startAppWithDataverse, type AppUnderTest } from '../support/appHost';
import { getStatus, startOrchestration, waitFor } from '../support/durable';
import { startReceiver } from '../sim/dataverse/support';
import { apiOf, type Api } from '../api/client';
import { instances, mailTo, postWebhook, registerWebhook, unregisterWebhook } from './support';

let app: AppUnderTest;
let api: Api;
beforeAll(async () => {
  // Manual time: the reminders timer fires only when a test runs it.
  app = await startAppWithDataverse({ graph: true, virtualTime: 'manual' });
  api = apiOf(app);
});
afterAll(async () => app?.close());

const today = (): string => new Date().toISOString().slice(0, 10);

/**
 * Another orchestration under `instanceId`, made through the durable management API (the system
 * key), as an operator or an old release could have: a rollback of a point that does not exist,
 * which fails at once.
 */
async function foreignInstance(instanceId: string): Promise<void> {
  await startOrchestration(app.host, 'rollback', { pointId: 'no-such-point' }, instanceId);
  expect((await waitFor(app.host, instanceId)).name).toBe('rollback');
}

describe('public starts and reserved instance ids', () => {
  it('answers 400 RESERVED_INSTANCE_ID for an id the app generates, and starts nothing', async () => {
    const reserved = [
      `dailyReminders-${today()}`,
      `DAILYREMINDERS-${today()}`,
      'deploy-2026.1',
      'deploy-2026.1:rollback-1',
      'webhook-create-contact-1-2',
      'idem-0123456789abcdef0123456789abcdef01234567',
      '@counter@one',
    ];
    for (const id of reserved) {
      for (const name of ['configChange', 'rollback']) {
        const res = await api.call('POST', `orchestrators/${name}/${encodeURIComponent(id)}`, {
          body: name === 'rollback' ? { pointId: 'rp-x' } : { patch: { a: 1 } },
        });
        expect(res.status, `${name} ${id}`).toBe(400);
        expect(res.json, `${name} ${id}`).toMatchObject({
          code: 'RESERVED_INSTANCE_ID',
          details: [{ field: 'instanceId' }],
        });
        expect(res.json.message, id).toContain('reserved');
      }
      expect((await api.call('GET', `instances/${encodeURIComponent(id)}`)).status, id).toBe(404);
    }
  });

  it('still takes an id a client may choose', async () => {
    const res = await api.call('POST', 'orchestrators/configChange/my-reminders-2026', {
      body: { patch: { chosen: true } },
    });
    expect(res.status).toBe(202);
    expect(res.json.id).toBe('my-reminders-2026');
  });

  it('refuses invisible and reordering characters in a chosen id (400 INVALID_ID)', async () => {
    for (const id of ['pay\u202Emx', 'a\u200Bb', 'a\u2066b', '\uFEFFa']) {
      const res = await api.call('POST', `orchestrators/configChange/${encodeURIComponent(id)}`, {
        body: { patch: { a: 1 } },
      });
      expect(res.status, JSON.stringify(id)).toBe(400);
      expect(res.json.code).toBe('INVALID_ID');
    }
  });
});

describe("the app's own starters and an instance of another orchestration under their id", () => {
  it('the reminders timer still reminds the day when another orchestration holds its id', async () => {
    const day = today();
    const client = await app.dataverse.create('contacts', {
      firstname: 'Rhea',
      lastname: 'Reserved',
      emailaddress1: 'rhea@mail.example',
    });
    await app.dataverse.create('lc_sessions', {
      lc_name: 'Reserved-id session',
      lc_starttime: `${day}T12:00:00.000Z`,
      lc_endtime: `${day}T13:00:00.000Z`,
      lc_status: 1,
      'lc_ClientId@odata.bind': `/contacts(${String(client.id)})`,
    });
    await foreignInstance(`dailyReminders-${day}`);

    const now = new Date().toISOString();
    const timer = {
      schedule: { adjustForDST: true },
      scheduleStatus: { last: now, next: now, lastUpdated: now },
    };
    await app.host.runTimer('remindersTimer', { ...timer, isPastDue: false });
    const status = await waitFor(app.host, `dailyReminders-${day}-2`);
    expect(status.name).toBe('dailyReminders');
    expect(status.runtimeStatus).toBe('Completed');
    expect(mailTo(app, 'rhea@mail.example')).toHaveLength(1);
    // The foreign instance is left as it was.
    expect((await getStatus(app.host, `dailyReminders-${day}`)).name).toBe('rollback');

    // Run again (a restart, a second host): the day's reminders exist now, so nothing starts or is sent.
    await app.host.runTimer('remindersTimer', { ...timer, isPastDue: true });
    const days = await instances(app, `dailyReminders-${day}`);
    expect(days.map((i) => `${i.instanceId} ${i.name}`).sort()).toEqual([
      `dailyReminders-${day} rollback`,
      `dailyReminders-${day}-2 dailyReminders`,
    ]);
    expect(mailTo(app, 'rhea@mail.example')).toHaveLength(1);
  });

  it('a deployment whose id another orchestration holds is refused (409 INSTANCE_ID_TAKEN), not taken as started', async () => {
    const version = `taken-${Date.now()}`;
    await foreignInstance(`deploy-${version}`);
    const res = await api.call('POST', 'deployments', {
      body: { version, config: { patch: { takenTest: true } } },
    });
    expect(res.status).toBe(409);
    expect(res.json.code).toBe('INSTANCE_ID_TAKEN');
    expect(res.json.message).toContain("runs 'rollback', not 'deployment'");
    expect((await api.call('GET', `deployments/deploy-${version}`)).json.code).toBe('DEPLOYMENT_NOT_FOUND');
  });

  it('a webhook delivery whose id another orchestration holds is refused (409), not acknowledged as a duplicate', async () => {
    const receiver = await startReceiver();
    let context: Record<string, unknown>;
    let contactId: string;
    try {
      const step = await registerWebhook(app, { message: 'Create', entity: 'contact', url: receiver.url });
      const created = await app.dataverse.create('contacts', {
        firstname: 'Held',
        lastname: 'Client',
        emailaddress1: 'held@mail.example',
      });
      contactId = String(created.id);
      const [request] = await receiver.waitFor(1);
      await unregisterWebhook(app, step);
      await app.sim.webhooksIdle();
      context = request.json as Record<string, unknown>;
    } finally {
      await receiver.close();
    }
    const requestId = context.RequestId as string | undefined;
    const change = requestId ?? `${String(context.CorrelationId)}-${String(context.OperationId)}`;
    const instanceId = webhookInstanceId({ message: 'Create', table: 'contact', id: contactId, change });
    await foreignInstance(instanceId);

    const res = await postWebhook(app, context);
    expect(res.status).toBe(409);
    expect(((await res.json()) as { code: string }).code).toBe('INSTANCE_ID_TAKEN');
    expect(mailTo(app, 'held@mail.example')).toHaveLength(0);
  });
});
