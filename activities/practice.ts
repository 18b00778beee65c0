/**
 * The practice's records in Dataverse, as the flows need them: a client (contact), a session with
 * its client, the sessions of a time window, and the follow-up task of a new client (created with
 * a deterministic id, so a re-run finds it instead of creating a second one). Reads return plain
 * typed values, never raw Dataverse records.
 */
import { defineActivity } from '../lib/saga';
import { services } from '../lib/config/services';
import { deterministicId, type DataverseRecord } from '../lib/dataverse';

export interface Client {
  id: string;
  name: string;
  firstName?: string;
  email?: string;
  doNotEmail: boolean;
}

export interface Session {
  id: string;
  name: string;
  start?: string;
  end?: string;
  location?: string;
  /** 1 planned, 2 completed, 3 cancelled, 4 no-show. */
  status?: number;
  client?: Client;
}

const CONTACT_COLUMNS = ['contactid', 'firstname', 'lastname', 'fullname', 'emailaddress1', 'donotemail'];
const SESSION_COLUMNS = [
  'lc_sessionid',
  'lc_name',
  'lc_starttime',
  'lc_endtime',
  'lc_location',
  'lc_status',
  '_lc_clientid_value',
];

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function toClient(r: DataverseRecord): Client {
  const name = str(r.fullname) ?? ([str(r.firstname), str(r.lastname)].filter(Boolean).join(' ') || 'client');
  return {
    id: String(r.contactid),
    name,
    firstName: str(r.firstname),
    email: str(r.emailaddress1),
    doNotEmail: r.donotemail === true,
  };
}

function toSession(r: DataverseRecord, client?: Client): Session {
  return {
    id: String(r.lc_sessionid),
    name: str(r.lc_name) ?? 'Session',
    start: str(r.lc_starttime),
    end: str(r.lc_endtime),
    location: str(r.lc_location),
    status: typeof r.lc_status === 'number' ? r.lc_status : undefined,
    client,
  };
}

export const loadClient = defineActivity<{ id: string }, Client | null>(
  'practice_loadClient',
  async ({ id }) => {
    const r = await services().dataverse().tryRetrieve('contacts', id, { select: CONTACT_COLUMNS });
    return r ? toClient(r) : null;
  },
);

export const loadSession = defineActivity<{ id: string }, Session | null>(
  'practice_loadSession',
  async ({ id }) => {
    const dataverse = services().dataverse();
    const r = await dataverse.tryRetrieve('lc_sessions', id, { select: SESSION_COLUMNS });
    if (!r) return null;
    const clientId = str(r._lc_clientid_value);
    const c = clientId
      ? await dataverse.tryRetrieve('contacts', clientId, { select: CONTACT_COLUMNS })
      : undefined;
    return toSession(r, c ? toClient(c) : undefined);
  },
);

/** Planned (or unset-status) sessions starting in [from, to), earliest first, each with its client. */
export const sessionsBetween = defineActivity<{ from: string; to: string }, Session[]>(
  'practice_sessionsBetween',
  async ({ from, to }) => {
    const dataverse = services().dataverse();
    const sessions: Session[] = [];
    const clients = new Map<string, Client | undefined>();
    for await (const r of dataverse.query('lc_sessions', {
      select: SESSION_COLUMNS,
      filter: `lc_starttime ge ${from} and lc_starttime lt ${to} and (lc_status eq 1 or lc_status eq null)`,
      orderBy: ['lc_starttime asc'],
    })) {
      const clientId = str(r._lc_clientid_value);
      if (clientId && !clients.has(clientId)) {
        const c = await dataverse.tryRetrieve('contacts', clientId, { select: CONTACT_COLUMNS });
        clients.set(clientId, c ? toClient(c) : undefined);
      }
      sessions.push(toSession(r, clientId ? clients.get(clientId) : undefined));
    }
    return sessions;
  },
);

export interface FollowUpTaskInput {
  instanceId: string;
  clientId: string;
  clientName: string;
  due: string;
}

/** Creates the follow-up task once: its id is derived from the instance, so a re-run finds it. */
export const createFollowUpTask = defineActivity<FollowUpTaskInput, { taskId: string; created: boolean }>(
  'practice_createFollowUpTask',
  async ({ instanceId, clientId, clientName, due }) => {
    const dataverse = services().dataverse(instanceId);
    const taskId = deterministicId(instanceId, 0);
    if (await dataverse.tryRetrieve('tasks', taskId, { select: ['activityid'] }))
      return { taskId, created: false };
    await dataverse.create('tasks', {
      activityid: taskId,
      subject: `Follow up with ${clientName}`,
      description: `New client ${clientName}: check in after the welcome mail and book the intake session.`,
      scheduledend: due,
      prioritycode: 1,
      'regardingobjectid_contact@odata.bind': `/contacts(${clientId})`,
    });
    return { taskId, created: true };
  },
);

/** Compensation of createFollowUpTask: deletes the task; a task already gone is fine. */
export const deleteFollowUpTask = defineActivity<{ taskId: string }, void>(
  'practice_deleteFollowUpTask',
  async ({ taskId }) => {
    const dataverse = services().dataverse();
    if (await dataverse.tryRetrieve('tasks', taskId, { select: ['activityid'] }))
      await dataverse.delete('tasks', taskId);
  },
);

// ---- The practice's local time (pure; safe in orchestrator code) ----

function zoneOrUtc(timeZone: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return timeZone;
  } catch {
    return 'UTC';
  }
}

function localParts(epochMs: number, timeZone: string): Record<string, number> {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zoneOrUtc(timeZone),
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(epochMs));
  const out: Record<string, number> = {};
  for (const p of parts) if (p.type !== 'literal') out[p.type] = Number(p.value);
  return out;
}

/** The calendar day (YYYY-MM-DD) an instant falls on in the practice's time zone. */
export function localDay(instant: string | number, timeZone: string): string {
  const p = localParts(typeof instant === 'number' ? instant : Date.parse(instant), timeZone);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

/** The UTC instant of local midnight starting `day` in `timeZone` (DST-aware). */
function localMidnight(day: string, timeZone: string): number {
  const [y, m, d] = day.split('-').map(Number);
  const wall = Date.UTC(y, m - 1, d);
  let guess = wall;
  for (let i = 0; i < 3; i++) {
    const p = localParts(guess, timeZone);
    const shown = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
    guess += wall - shown;
  }
  return guess;
}

/** [from, to) in UTC covering the local day. */
export function dayWindow(day: string, timeZone: string): { from: string; to: string } {
  const from = localMidnight(day, timeZone);
  const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return { from: new Date(from).toISOString(), to: new Date(localMidnight(next, timeZone)).toISOString() };
}

/** A time of day ("09:30") in the practice's time zone. */
export function localTime(instant: string, timeZone: string): string {
  const p = localParts(Date.parse(instant), timeZone);
  return `${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`;
}

/** A date and time ("Friday, 27 November 2026 at 09:30") in the practice's time zone. */
export function localDateTime(instant: string, timeZone: string): string {
  const date = new Intl.DateTimeFormat('en-GB', {
    timeZone: zoneOrUtc(timeZone),
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
  }).format(new Date(instant));
  return `${date} at ${localTime(instant, timeZone)}`;
}
