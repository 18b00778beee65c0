import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppWithDataverse, type AppUnderTest } from '../support/appHost';
import { waitFor } from '../support/durable';
import { eventually, instances, mailTo, registerWebhook } from './support';

let app: AppUnderTest;
beforeAll(async () => {
  app = await startAppWithDataverse({ graph: true });
  await registerWebhook(app, { message: 'Create', entity: 'lc_session' });
  await registerWebhook(app, {
    message: 'Update',
    entity: 'lc_session',
    filteringattributes: 'lc_starttime,lc_endtime,lc_location,lc_notes',
  });
});
afterAll(async () => app?.close());

async function client(firstname: string, email: string): Promise<string> {
  const res = await app.dataverse.create('contacts', { firstname, lastname: 'Booked', emailaddress1: email });
  return String(res.id);
}

async function settled(prefix: string, count: number) {
  await app.sim.webhooksIdle();
  const list = await eventually(
    'the confirmations start',
    () => instances(app, prefix),
    (l) => l.length === count,
  );
  return Promise.all(list.map((i) => waitFor(app.host, i.instanceId)));
}

describe('session confirmations', () => {
  it('confirms a new session, and confirms again when it moves, but not for other edits', async () => {
    const clientId = await client('Iris', 'iris@mail.example');
    const created = await app.dataverse.create('lc_sessions', {
      lc_name: 'Intake',
      lc_starttime: '2031-05-06T14:00:00Z',
      lc_endtime: '2031-05-06T15:00:00Z',
      lc_location: 'Room 1',
      lc_status: 1,
      'lc_ClientId@odata.bind': `/contacts(${clientId})`,
    });
    const id = String(created.id);
    const [first] = await settled(`webhook-create-lc_session-${id}-`, 1);
    expect(first.runtimeStatus).toBe('Completed');
    let mails = mailTo(app, 'iris@mail.example');
    expect(mails).toHaveLength(1);
    expect(mails[0].message.subject).toBe('Session confirmed: Intake');
    expect(mails[0].message.body.content).toContain('on Tuesday, 6 May 2031 at 14:00, Room 1.');

    await app.dataverse.update('lc_sessions', id, { lc_starttime: '2031-05-07T10:00:00Z' });
    const [moved] = await settled(`webhook-update-lc_session-${id}-`, 1);
    expect(moved.runtimeStatus).toBe('Completed');
    mails = mailTo(app, 'iris@mail.example');
    expect(mails).toHaveLength(2);
    expect(mails[1].message.subject).toBe('Your session has moved: Intake');
    expect(mails[1].message.body.content).toContain(
      'It now takes place on Wednesday, 7 May 2031 at 10:00, Room 1.',
    );

    // Notes are delivered by Dataverse (the step watches them) but start nothing.
    await app.dataverse.update('lc_sessions', id, { lc_notes: 'Bring the referral letter.' });
    await app.sim.webhooksIdle();
    expect(await instances(app, `webhook-update-lc_session-${id}-`)).toHaveLength(1);
    expect(mailTo(app, 'iris@mail.example')).toHaveLength(2);
  });

  it('sends nothing for a cancelled session or a client without an address', async () => {
    const withMail = await client('Jon', 'jon@mail.example');
    const without = String(
      (await app.dataverse.create('contacts', { firstname: 'Kim', lastname: 'Booked' })).id,
    );
    const cancelled = String(
      (
        await app.dataverse.create('lc_sessions', {
          lc_name: 'Cancelled',
          lc_starttime: '2031-05-06T09:00:00Z',
          lc_status: 3,
          'lc_ClientId@odata.bind': `/contacts(${withMail})`,
        })
      ).id,
    );
    const noAddress = String(
      (
        await app.dataverse.create('lc_sessions', {
          lc_name: 'No address',
          lc_starttime: '2031-05-06T11:00:00Z',
          lc_status: 1,
          'lc_ClientId@odata.bind': `/contacts(${without})`,
        })
      ).id,
    );
    const [a] = await settled(`webhook-create-lc_session-${cancelled}-`, 1);
    const [b] = await settled(`webhook-create-lc_session-${noAddress}-`, 1);
    expect(a.output).toMatchObject({ skipped: 'the session is not planned' });
    expect(b.output).toMatchObject({ skipped: 'the client has no email address' });
    expect(mailTo(app, 'jon@mail.example')).toEqual([]);
  });
});
