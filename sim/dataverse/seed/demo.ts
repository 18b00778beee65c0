/**
 * `--seed demo`: a believable small practice to click through — two practitioners (users), client
 * organisations (accounts), 16 clients (contacts), sessions earlier today, later today and through
 * this week (lc_session with a calendar appointment each), and follow-up tasks. Dates are relative to
 * the moment of seeding. It writes through Records, so etags, owners and webhooks behave as for any
 * client write; it does nothing when the data already has contacts (a reused data file).
 */
import { stableId } from '../ids';
import type { PlatformIdentity } from '../platform';
import type { OperationContext, Records } from '../records';
import { lookupTypeColumn, type StoredRow } from '../store';
import { formatDateTime } from '../values';

export interface SeedSummary {
  users: number;
  accounts: number;
  contacts: number;
  sessions: number;
  appointments: number;
  tasks: number;
}

const ACCOUNTS: [string, string, string][] = [
  ['Harbour Health Insurance', 'ACC-1001', 'Rotterdam'],
  ['City of Utrecht – Social Support', 'ACC-1002', 'Utrecht'],
  ['Northwind Logistics', 'ACC-1003', 'Amersfoort'],
  ['Blue Lantern Design Studio', 'ACC-1004', 'Utrecht'],
];

/** first, last, city, employer index (or -1), preferred contact method. */
const CLIENTS: [string, string, string, number, number][] = [
  ['Emma', 'Visser', 'Utrecht', 3, 2],
  ['Daan', 'Jansen', 'Zeist', 2, 3],
  ['Sophie', 'de Boer', 'Utrecht', -1, 2],
  ['Lucas', 'Mulder', 'Houten', 2, 1],
  ['Julia', 'Smit', 'Amersfoort', -1, 3],
  ['Noah', 'Meijer', 'Utrecht', 3, 2],
  ['Mila', 'Bos', 'Nieuwegein', -1, 2],
  ['Finn', 'van Dijk', 'Utrecht', 0, 3],
  ['Sara', 'Hendriks', 'Bilthoven', -1, 2],
  ['Levi', 'Dekker', 'Utrecht', 2, 1],
  ['Tess', 'Koster', 'De Bilt', -1, 2],
  ['Sem', 'Vermeulen', 'Utrecht', 1, 3],
  ['Nina', 'Peters', 'Maarssen', -1, 2],
  ['Milan', 'Brouwer', 'Utrecht', 3, 2],
  ['Lotte', 'de Graaf', 'Zeist', -1, 3],
  ['Ruben', 'Kuipers', 'IJsselstein', 1, 1],
];

const SESSION_TYPES = [2, 2, 2, 3, 1, 5];

function at(base: Date, dayOffset: number, hour: number, minute = 0): Date {
  const date = new Date(base);
  date.setDate(date.getDate() + dayOffset);
  date.setHours(hour, minute, 0, 0);
  return date;
}

export function seedDemo(records: Records, identity: PlatformIdentity, now: Date = new Date()): SeedSummary {
  const { catalog } = records;
  const contactTable = catalog.require('contact');
  const summary: SeedSummary = { users: 0, accounts: 0, contacts: 0, sessions: 0, appointments: 0, tasks: 0 };
  if (records.count(contactTable, { sql: '1 = 1', params: [] }) > 0) return summary;

  const context: OperationContext = {
    caller: { userId: identity.userId, businessUnitId: identity.businessUnitId },
    correlationId: stableId('seed-demo'),
    requestId: stableId('seed-demo'),
  };
  const create = (logicalName: string, values: StoredRow): string => {
    const table = catalog.require(logicalName);
    const row = records.create(table, values, context);
    return String(row[table.primaryIdAttribute]);
  };
  const ref = (column: string, logicalName: string, id: string): StoredRow => ({
    [column]: id,
    [lookupTypeColumn(column)]: logicalName,
  });

  const practitioners = [
    ['Sanne', 'de Vries', 'Psychologist'],
    ['Joris', 'Bakker', 'Coach'],
  ].map(([first, last, title]) => {
    summary.users++;
    return create('systemuser', {
      firstname: first,
      lastname: last,
      title,
      internalemailaddress: `${first.toLowerCase()}@${identity.organizationName}.example`,
      domainname: `${first.toLowerCase()}@${identity.organizationName}.example`,
      isdisabled: 0,
      ...ref('businessunitid', 'businessunit', identity.businessUnitId),
    });
  });

  const accounts = ACCOUNTS.map(([name, number, city]) => {
    summary.accounts++;
    return create('account', {
      name,
      accountnumber: number,
      address1_city: city,
      emailaddress1: `office@${name.toLowerCase().replace(/[^a-z]+/g, '')}.example`,
      telephone1: `+31 30 ${200 + summary.accounts * 37} ${4000 + summary.accounts * 173}`,
    });
  });

  const clients = CLIENTS.map(([first, last, city, employer, method], i) => {
    summary.contacts++;
    const email = `${first}.${last}`.toLowerCase().replace(/\s+/g, '') + '@mail.example';
    return create('contact', {
      firstname: first,
      lastname: last,
      emailaddress1: email,
      mobilephone: `+31 6 ${String(1234_5678 + i * 7919).padStart(8, '0')}`,
      address1_city: city,
      birthdate: `${1968 + ((i * 7) % 35)}-${String(1 + ((i * 5) % 12)).padStart(2, '0')}-${String(1 + ((i * 11) % 28)).padStart(2, '0')}`,
      preferredcontactmethodcode: method,
      donotemail: i % 9 === 8 ? 1 : 0,
      description: i % 4 === 0 ? 'Referred by general practitioner.' : null,
      ...(employer >= 0 ? ref('parentcustomerid', 'account', accounts[employer]) : {}),
      ...ref('ownerid', 'systemuser', practitioners[i % 2]),
    });
  });

  // Sessions: four today (two done, two to come), then two or three a day for the rest of the week.
  const weekday = (now.getDay() + 6) % 7; // Monday = 0
  const slots: [number, number, number][] = [
    [0, 9, 0],
    [0, 10, 30],
    [0, 14, 0],
    [0, 16, 0],
  ];
  for (let day = -weekday; day <= 6 - weekday; day++) {
    if (day === 0) continue;
    if (weekday + day >= 5) continue; // the practice is closed at the weekend
    slots.push([day, 9, 30], [day, 13, 0]);
    if (day % 2 === 0) slots.push([day, 15, 30]);
  }
  slots.sort((a, b) => at(now, a[0], a[1], a[2]).getTime() - at(now, b[0], b[1], b[2]).getTime());
  slots.forEach(([day, hour, minute], i) => {
    const clientIndex = (i * 5) % clients.length;
    const [first, last] = CLIENTS[clientIndex];
    const start = at(now, day, hour, minute);
    const end = new Date(start.getTime() + 50 * 60_000);
    const type = SESSION_TYPES[i % SESSION_TYPES.length];
    const past = end.getTime() < now.getTime();
    const owner = practitioners[i % 2];
    const appointment = create('appointment', {
      subject: `Session with ${first} ${last}`,
      scheduledstart: formatDateTime(start.getTime()),
      scheduledend: formatDateTime(end.getTime()),
      location: type === 5 ? 'Online (Teams)' : 'Practice room 1, Oudegracht 120, Utrecht',
      statecode: past ? 1 : 3,
      statuscode: past ? 3 : 5,
      ...ref('regardingobjectid', 'contact', clients[clientIndex]),
      ...ref('ownerid', 'systemuser', owner),
    });
    summary.appointments++;
    create('lc_session', {
      lc_name: `${first} ${last} – ${start.toISOString().slice(0, 10)}`,
      lc_starttime: formatDateTime(start.getTime()),
      lc_endtime: formatDateTime(end.getTime()),
      lc_location: type === 5 ? 'Online' : 'Practice room 1',
      lc_sessiontype: type,
      lc_status: past ? (i % 11 === 3 ? 4 : 2) : 1,
      lc_fee: type === 3 ? 135 : 95,
      lc_paid: past && i % 3 !== 0 ? 1 : 0,
      lc_notes: past ? 'Discussed progress since the last session; agreed on homework for next week.' : null,
      lc_externalid: `S-${start.toISOString().slice(0, 10).replace(/-/g, '')}-${String(hour).padStart(2, '0')}${String(minute).padStart(2, '0')}`,
      ...ref('lc_clientid', 'contact', clients[clientIndex]),
      ...ref('lc_appointmentid', 'appointment', appointment),
      ...ref('ownerid', 'systemuser', owner),
    });
    summary.sessions++;
  });

  const tasks: [string, number, number, number][] = [
    ['Write session report', 0, 2, 0],
    ['Send invoice for last month', 1, 1, 3],
    ['Call back about rescheduling', 0, 2, 5],
    ['Prepare intake questionnaire', 2, 1, 7],
    ['Request referral letter from GP', 3, 0, 9],
    ['Review treatment plan', -1, 1, 11],
  ];
  for (const [subject, dueDay, priority, clientIndex] of tasks) {
    const done = dueDay < 0;
    create('task', {
      subject: `${subject} – ${CLIENTS[clientIndex][0]} ${CLIENTS[clientIndex][1]}`,
      scheduledend: formatDateTime(at(now, dueDay, 17).getTime()),
      prioritycode: priority,
      percentcomplete: done ? 100 : 0,
      statecode: done ? 1 : 0,
      statuscode: done ? 5 : 2,
      ...(done ? { actualend: formatDateTime(at(now, dueDay, 16).getTime()) } : {}),
      ...ref('regardingobjectid', 'contact', clients[clientIndex]),
      ...ref('ownerid', 'systemuser', practitioners[clientIndex % 2]),
    });
    summary.tasks++;
  }
  return summary;
}
