import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeDataverseSim } from '../../../sim/dataverse';
import { BlcError } from '../../../cli/apiClient';
import { parseDataverseSimArgs } from '../../../cli/sim';
import { call, startSim, webApi } from './support';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dataverse-sim-data-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function localDay(offset: number): string {
  const day = new Date();
  day.setDate(day.getDate() + offset);
  day.setHours(0, 0, 0, 0);
  return day.toISOString().replace('.000Z', 'Z');
}

describe('--seed demo', () => {
  it('loads a believable practice: clients, accounts, users, sessions today and this week, tasks', async () => {
    const sim = await startSim({ seed: 'demo' });
    try {
      expect(sim.seeded).toMatchObject({ users: 2, accounts: 4, contacts: 16, tasks: 6 });
      const banner = describeDataverseSim(sim);
      expect(banner).toContain(`${sim.apiUrl}/`);
      expect(banner).toContain('16 clients');
      const client = webApi(sim);
      const contacts = await client.retrieveAll<{ fullname: string; emailaddress1: string }>({
        collection: 'contacts',
        select: ['fullname', 'emailaddress1'],
      });
      expect(contacts.value).toHaveLength(16);
      expect(contacts.value.every((c) => /^\S+ .+$/.test(c.fullname) && c.emailaddress1.includes('@'))).toBe(
        true,
      );

      const today = await call(
        sim,
        `lc_sessions?$filter=lc_starttime ge ${localDay(0)} and lc_starttime lt ${localDay(1)}&$select=lc_name,lc_status,_lc_clientid_value,_lc_appointmentid_value&$orderby=lc_starttime`,
      );
      expect(today.json.value.length).toBeGreaterThanOrEqual(4);
      for (const session of today.json.value) {
        const clientRow = await call(sim, `contacts(${String(session._lc_clientid_value)})?$select=fullname`);
        expect(clientRow.status).toBe(200);
        expect(session.lc_name).toContain(clientRow.json.fullname);
        expect((await call(sim, `appointments(${String(session._lc_appointmentid_value)})`)).status).toBe(
          200,
        );
      }
      const week = await call(
        sim,
        `lc_sessions/$count?$filter=lc_starttime ge ${localDay(-7)} and lc_starttime lt ${localDay(7)}`,
      );
      expect(Number(week.text)).toBe(sim.seeded?.sessions);
      const openTasks = await call(sim, 'tasks?$filter=statecode eq 0&$select=subject,scheduledend');
      expect(openTasks.json.value.length).toBe(5);
      const users = await call(
        sim,
        "systemusers?$filter=title eq 'Psychologist' or title eq 'Coach'&$select=fullname",
      );
      expect(users.json.value).toHaveLength(2);
    } finally {
      await sim.close();
    }
  });
});

describe('a data file', () => {
  it('keeps records, etags and the seed across restarts and seeds only once', async () => {
    const file = path.join(dir, 'dataverse.sqlite');
    const first = await startSim({ dataFile: file, seed: 'demo' });
    const created = await call(first, 'contacts', {
      method: 'POST',
      headers: { Prefer: 'return=representation' },
      body: { firstname: 'Persisted', lastname: 'Person', emailaddress1: 'persisted@example.org' },
    });
    const etag: string = created.json['@odata.etag'];
    await first.close();

    const second = await startSim({ dataFile: file, seed: 'demo' });
    try {
      expect(second.seeded).toMatchObject({ contacts: 0, sessions: 0 });
      const again = await call(second, "contacts(emailaddress1='persisted@example.org')?$select=fullname");
      expect(again.json.fullname).toBe('Persisted Person');
      expect(again.json['@odata.etag']).toBe(etag);
      expect(Number((await call(second, 'contacts/$count')).text)).toBe(17);
      const updated = await call(second, `contacts(${String(created.json.contactid)})`, {
        method: 'PATCH',
        headers: { Prefer: 'return=representation' },
        body: { jobtitle: 'Archivist' },
      });
      const version = (tag: string): number => Number(/\d+/.exec(tag)?.[0]);
      expect(version(updated.json['@odata.etag'])).toBeGreaterThan(version(etag));
      expect((await call(second, 'WhoAmI')).json.UserId).toBe(second.identity.userId);
    } finally {
      await second.close();
    }
  });
});

describe('blc sim dataverse arguments', () => {
  it('reads --port, --host, --data, --seed and --schema', () => {
    expect(
      parseDataverseSimArgs([
        '--port',
        '7070',
        '--host',
        '0.0.0.0',
        '--data',
        'dv.sqlite',
        '--seed',
        'demo',
        '--schema',
        's.json',
      ]),
    ).toEqual({ port: 7070, host: '0.0.0.0', dataFile: 'dv.sqlite', seed: 'demo', schemaFile: 's.json' });
  });

  it('refuses unknown options, seeds and bad ports as usage errors', () => {
    expect(() => parseDataverseSimArgs(['--seed', 'full'])).toThrow(BlcError);
    expect(() => parseDataverseSimArgs(['--port', 'http'])).toThrow(BlcError);
    expect(() => parseDataverseSimArgs(['--data'])).toThrow(BlcError);
    expect(() => parseDataverseSimArgs(['--verbose'])).toThrow(BlcError);
  });
});
