import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataverseClient } from '../../lib/dataverse';
import { startDataverseSim, type DataverseSim } from '../../sim/dataverse';
import { startGraphSim } from '../../sim/graph';
import { trust, type TrustedSim } from '../sim/graph/support';
import { killAllHosts, instanceStatus, pollUntil, spawnHost, startInstance } from '../support/childHost';
import { MAIL_SENDER, OWNER_EMAIL } from '../support/appHost';

let sim: DataverseSim;
let graph: TrustedSim;
let dataDir: string;
let env: Record<string, string>;
const credential = { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 3600_000 }) };

beforeAll(async () => {
  sim = await startDataverseSim({});
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lc-crash-reminders-'));
  const caCertFile = path.join(dataDir, 'graph-ca.pem');
  graph = await trust(await startGraphSim({ seed: 'demo', caCertFile }));
  const suffix = Date.now();
  env = {
    DATAVERSE_URL: sim.url,
    DATAVERSE_TOKEN: 't',
    AzureWebJobsStorage: String(process.env.AZURE_STORAGE_CONNECTION_STRING),
    LIFECOCKPIT_SNAPSHOT_CONTAINER: `remsnap${suffix}`,
    LIFECOCKPIT_ROLLBACK_CONTAINER: `remrbk${suffix}`,
    GRAPH_URL: graph.sim.url,
    GRAPH_TOKEN: 'graph-token',
    // A separate process trusts the simulator the way any Node app trusts a private CA.
    NODE_EXTRA_CA_CERTS: caCertFile,
    MAIL_SENDER,
    PRACTICE_OWNER_EMAIL: OWNER_EMAIL,
    WEBSITE_TIME_ZONE: 'UTC',
    // The restarted host takes over the interrupted send once its lease lapses.
    MAIL_LEASE_SECONDS: '3',
  };
});
afterAll(async () => {
  await killAllHosts();
  await sim?.close();
  await graph?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

interface HistoryEvent {
  EventType: string;
  FunctionName?: string;
}

describe('daily reminders across a crash', () => {
  it('puts exactly one mail per session in the outbox when the host is killed mid fan-out and restarted', async () => {
    const dataverse = new DataverseClient(sim.url, credential);
    const day = '2031-03-14';
    const names = ['Ann', 'Ben', 'Cat', 'Dan'];
    for (const [i, name] of names.entries()) {
      const contact = await dataverse.create('contacts', {
        firstname: name,
        lastname: 'Crash',
        emailaddress1: `${name.toLowerCase()}.crash@mail.example`,
      });
      await dataverse.create('lc_sessions', {
        lc_name: `Session ${name}`,
        lc_starttime: `${day}T${String(9 + i).padStart(2, '0')}:00:00Z`,
        lc_status: 1,
        'lc_ClientId@odata.bind': `/contacts(${String(contact.id)})`,
      });
    }
    // Graph holds the first draft send it receives while the host is killed; the others go through.
    await graph.queueFault({
      method: 'POST',
      path: '/send$',
      kind: 'latency',
      latencyMs: 6_000,
      count: 1,
    });

    let host = await spawnHost({ appDir: '.', dataDir, env });
    // The child host's timer cannot start orchestrations yet (no durable client for timer triggers),
    // so start the day's instance as the timer would: same id, same input.
    const instanceId = `dailyReminders-${day}`;
    await startInstance(host, 'dailyReminders', instanceId, {
      day,
      from: `${day}T00:00:00.000Z`,
      to: '2031-03-15T00:00:00.000Z',
      timeZone: 'UTC',
    });
    const first = host;
    const atKill = await pollUntil(
      'three reminders are sent and recorded while the fourth is held by Graph',
      async () => {
        const status = await instanceStatus(first, instanceId, 'showHistory=true');
        const events = (status.historyEvents ?? []) as unknown as HistoryEvent[];
        return {
          completed: events.filter((e) => e.EventType === 'TaskCompleted').length,
          held: (await graph.remainingFaults()).length === 0,
        };
      },
      // sessionsBetween + three mail_send
      (s) => s.held && s.completed >= 4,
      20_000,
      20,
    );
    await host.crash();
    expect(atKill.completed).toBe(4);

    host = await spawnHost({ appDir: '.', dataDir, env });
    const status = await pollUntil(
      'the reminders finish after the restart',
      () => instanceStatus(host, instanceId),
      (s) => ['Completed', 'Failed'].includes(s.runtimeStatus),
      30_000,
      50,
    );
    expect(status.runtimeStatus).toBe('Completed');
    // Give a request cut off by the kill every chance to land before counting.
    await new Promise((r) => setTimeout(r, 6_500));

    const outbox = graph.sim.outbox();
    for (const name of names) {
      const to = `${name.toLowerCase()}.crash@mail.example`;
      const mails = outbox.filter((m) => m.message.toRecipients[0].emailAddress.address === to);
      expect(mails, `reminders to ${to}`).toHaveLength(1);
    }
    const summaries = outbox.filter((m) => m.message.toRecipients[0].emailAddress.address === OWNER_EMAIL);
    expect(summaries).toHaveLength(1);
    // The reminder cut off by the kill went out once: the restarted host sent its recorded draft, or
    // found it already sent; it made no second draft.
    const output = status.output as { sent: number; problems: unknown[]; results: { status: string }[] };
    expect(output.sent).toBe(4);
    expect(output.problems).toEqual([]);
    expect(summaries[0].message.subject).toBe(`Reminders ${day}: 4 sent`);
    const drafts = await graph.fetch(`/v1.0/users/${MAIL_SENDER}/mailFolders/drafts/messages`, {
      headers: { Authorization: 'Bearer graph-token' },
    });
    expect(((await drafts.json()) as { value: unknown[] }).value).toEqual([]);
    expect(await host.stop()).toBe(0);
  });
});
