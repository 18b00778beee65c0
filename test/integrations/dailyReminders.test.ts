import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VirtualClock } from '../../host/clock';
import { startAppWithDataverse, OWNER_EMAIL, type AppUnderTest } from '../support/appHost';
import { waitFor } from '../support/durable';
import { eventually, instances, outbox } from './support';

const TZ = 'Europe/Berlin';
let app: AppUnderTest;
let clock: VirtualClock;
beforeAll(async () => {
  app = await startAppWithDataverse({ graph: true, virtualTime: 'manual', env: { WEBSITE_TIME_ZONE: TZ } });
  clock = app.host.clock as VirtualClock;
});
afterAll(async () => app?.close());

function wallClock(epochMs: number): { day: string; time: string } {
  const f = new Intl.DateTimeFormat('en-CA', {
    timeZone: TZ,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).formatToParts(new Date(epochMs));
  const p = Object.fromEntries(f.map((x) => [x.type, x.value]));
  return { day: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}` };
}

/** The next 09:00 in the practice's time zone after `after`. */
function next0900(after: number): number {
  let t = Math.ceil(after / 900_000) * 900_000;
  while (wallClock(t).time !== '09:00') t += 900_000;
  return t;
}

const HOUR = 3_600_000;

async function session(name: string, start: number, clientId: string | null, status = 1): Promise<string> {
  const res = await app.dataverse.create('lc_sessions', {
    lc_name: name,
    lc_starttime: new Date(start).toISOString(),
    lc_endtime: new Date(start + HOUR).toISOString(),
    lc_location: 'Main clinic, Room 2',
    lc_status: status,
    ...(clientId ? { 'lc_ClientId@odata.bind': `/contacts(${clientId})` } : {}),
  });
  return String(res.id);
}

async function client(firstname: string, email?: string): Promise<string> {
  const res = await app.dataverse.create('contacts', {
    firstname,
    lastname: 'Reminded',
    ...(email ? { emailaddress1: email } : {}),
  });
  return String(res.id);
}

const reminders = (address: string) =>
  outbox(app).filter(
    (m) =>
      m.message.subject.startsWith('Reminder:') &&
      m.message.toRecipients.some((r) => r.emailAddress.address === address),
  );

describe('daily reminders', () => {
  it("at 09:00 on the practice's clock, mails each of the day's clients once and the owner a summary", async () => {
    const nine = next0900(clock.now());
    const day = wallClock(nine).day;
    const ann = await client('Ann', 'ann@mail.example');
    const ben = await client('Ben', 'ben@mail.example');
    const cat = await client('Cat', 'cat@mail.example');
    const dan = await client('Dan');
    await session('Intake Ann', nine + HOUR, ann);
    await session('Physio Ben', nine + 5.5 * HOUR, ben);
    await session('Late Cat', nine + 14.5 * HOUR, cat); // 23:30 local: still today
    await session('Tomorrow Ann', nine + 15.5 * HOUR, ann); // 00:30 local: tomorrow
    await session('Cancelled Ben', nine + 2 * HOUR, ben, 3);
    await session('Dan without mail', nine + 3 * HOUR, dan);

    clock.advanceTo(nine - 60_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(await instances(app, 'dailyReminders-')).toEqual([]);

    clock.advanceTo(nine);
    const [instance] = await eventually(
      'the reminders start',
      () => instances(app, 'dailyReminders-'),
      (l) => l.length === 1,
    );
    expect(instance.instanceId).toBe(`dailyReminders-${day}`);
    const status = await waitFor(app.host, instance.instanceId);
    expect(status.runtimeStatus).toBe('Completed');

    expect(reminders('ann@mail.example')).toHaveLength(1);
    expect(reminders('ann@mail.example')[0].message.subject).toBe('Reminder: your session today at 10:00');
    expect(reminders('ben@mail.example')).toHaveLength(1);
    expect(reminders('cat@mail.example')).toHaveLength(1);
    expect(reminders('cat@mail.example')[0].message.body.content).toContain('today at 23:30');
    const summaries = outbox(app).filter(
      (m) =>
        m.message.subject.startsWith(`Reminders ${day}`) &&
        m.message.toRecipients[0].emailAddress.address === OWNER_EMAIL,
    );
    expect(summaries).toHaveLength(1);
    expect(summaries[0].message.subject).toBe(`Reminders ${day}: 3 sent, 1 failed`);
    expect(summaries[0].message.body.content).toContain('Failures (1):');
    expect(summaries[0].message.body.content).toContain(
      'Dan without mail (Dan Reminded): skipped — the client has no email address',
    );

    // A second host (or a restart) running the same 09:00 occurrence starts nothing and sends nothing.
    const at = new Date(nine).toISOString();
    await app.host.runTimer('remindersTimer', {
      schedule: { adjustForDST: true },
      scheduleStatus: { last: at, next: at, lastUpdated: at },
      isPastDue: true,
    });
    expect(await instances(app, 'dailyReminders-')).toHaveLength(1);
    expect(reminders('ann@mail.example')).toHaveLength(1);
    expect(reminders('ben@mail.example')).toHaveLength(1);

    // The next morning: only the session after midnight.
    const before = outbox(app).length;
    const nextNine = next0900(nine + 60_000);
    clock.advanceTo(nextNine);
    const nextId = `dailyReminders-${wallClock(nextNine).day}`;
    await eventually(
      'the next day starts',
      () => instances(app, nextId),
      (l) => l.length === 1,
    );
    await waitFor(app.host, nextId);
    const sentNextDay = outbox(app).slice(before);
    expect(
      sentNextDay
        .filter((m) => m.message.subject.startsWith('Reminder:'))
        .map((m) => m.message.toRecipients[0].emailAddress.address),
    ).toEqual(['ann@mail.example']);
  });
});
