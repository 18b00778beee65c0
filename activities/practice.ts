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
