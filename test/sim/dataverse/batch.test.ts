import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DynamicsWebApi } from 'dynamics-web-api';
import type { DataverseSim } from '../../../sim/dataverse';
import { ChangeGate } from '../../../sim/dataverse/changeGate';
import type { ChangeEvent } from '../../../sim/dataverse/records';
import { call, startReceiver, startSim, TOKEN, webApi, type Receiver, type WireResponse } from './support';

let sim: DataverseSim;
let client: DynamicsWebApi;

beforeAll(async () => {
  sim = await startSim();
  client = webApi(sim);
});
afterEach(() => sim.faults.clear());
afterAll(() => sim.close());

const CRLF = '\r\n';

/** POSTs a hand-written multipart body to $batch. */
async function postBatch(
  boundary: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<WireResponse> {
  // Not through call(): it labels every body as JSON.
  const response = await fetch(`${sim.apiUrl}/$batch`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${TOKEN}`,
      Accept: 'application/json',
      'OData-MaxVersion': '4.0',
      'OData-Version': '4.0',
      'Content-Type': `multipart/mixed; boundary="${boundary}"`,
      ...headers,
    },
    body,
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** Everything a test can observe in the tables a changeset touches, in a stable order. */
async function snapshot(): Promise<unknown> {
  const sets = ['contacts', 'accounts', 'tasks', 'asyncoperations'];
  const out: Record<string, unknown> = {};
  for (const set of sets) out[set] = (await call(sim, set)).json.value;
  return out;
}

async function newContact(data: Record<string, unknown>): Promise<string> {
  return client.create<object, string>({ collection: 'contacts', data });
}

describe('$batch through dynamics-web-api', () => {
  it('commits a changeset of creates and updates whose later operations reference earlier ones by Content-ID', async () => {
    const existing = await newContact({ firstname: 'Old', lastname: 'Name' });
    client.startBatch();
    void client.create({ collection: 'accounts', data: { name: 'Northwind' }, contentId: '1' });
    void client.create({
      collection: 'contacts',
      data: { firstname: 'Nancy', lastname: 'Davolio', 'parentcustomerid_account@odata.bind': '$1' },
      contentId: '2',
    });
    void client.update({ contentId: '$1', data: { 'primarycontactid@odata.bind': '$2', telephone1: '555' } });
    void client.update({ collection: 'contacts', key: existing, data: { lastname: 'Renamed' } });
    const results = (await client.executeBatch()) as unknown[];

    expect(results).toHaveLength(4);
    const [accountId, contactId] = results as string[];
    expect(accountId).toMatch(/^[0-9a-f-]{36}$/);
    expect(contactId).toMatch(/^[0-9a-f-]{36}$/);
    const account = await client.retrieve({
      collection: 'accounts',
      key: accountId,
      select: ['name', 'telephone1', '_primarycontactid_value'],
    });
    expect(account).toMatchObject({
      name: 'Northwind',
      telephone1: '555',
      _primarycontactid_value: contactId,
    });
    const contact = await client.retrieve({
      collection: 'contacts',
      key: contactId,
      select: ['fullname', '_parentcustomerid_value'],
    });
    expect(contact).toMatchObject({ fullname: 'Nancy Davolio', _parentcustomerid_value: accountId });
    const renamed = await client.retrieve({ collection: 'contacts', key: existing, select: ['lastname'] });
    expect(renamed.lastname).toBe('Renamed');
  });

  it('a changeset failing at its third operation leaves every table exactly as before and names the failure', async () => {
    const taken = await newContact({ firstname: 'Taken', emailaddress1: 'taken@example.org' });
    const other = await newContact({ firstname: 'Other' });
    const before = await snapshot();

    client.startBatch();
    void client.create({ collection: 'contacts', data: { firstname: 'First' } });
    void client.update({ collection: 'contacts', key: other, data: { firstname: 'Changed' } });
    void client.create({
      collection: 'contacts',
      data: { firstname: 'Dup', emailaddress1: 'taken@example.org' },
    });
    void client.create({ collection: 'accounts', data: { name: 'Never' } });
    const failure: unknown = await client.executeBatch().then(
      () => 'resolved',
      (err: unknown) => err,
    );

    expect(Array.isArray(failure)).toBe(true);
    const errors = failure as { status: number; error: { code: string } }[];
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ status: 412, error: { code: '0x80060892' } });
    expect(await snapshot()).toEqual(before);
    expect(taken).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers GETs in a batch: a record, a filtered query and a count', async () => {
    const id = await newContact({
      firstname: 'Readme',
      lastname: 'Batch',
      emailaddress1: 'readme@example.org',
    });
    client.startBatch();
    void client.retrieve({ collection: 'contacts', key: id, select: ['fullname'] });
    void client.retrieveMultiple({
      collection: 'contacts',
      select: ['emailaddress1'],
      filter: "lastname eq 'Batch'",
    });
    void client.count({ collection: 'contacts', filter: "lastname eq 'Batch'" });
    const [record, query, count] = (await client.executeBatch()) as [
      Record<string, unknown>,
      { value: Record<string, unknown>[] },
      number,
    ];
    expect(record).toMatchObject({ fullname: 'Readme Batch', contactid: id });
    expect(query.value.map((r) => r.emailaddress1)).toEqual(['readme@example.org']);
    expect(count).toBe(1);
  });

  it('stops at the first failed request outside a changeset unless odata.continue-on-error is set', async () => {
    const missing = '00000000-0000-0000-0000-0000000000aa';
    const queue = (tag: string): void => {
      client.startBatch();
      void client.update({
        collection: 'contacts',
        key: missing,
        data: { firstname: 'x' },
        inChangeSet: false,
        ifmatch: '*',
      });
      void client.create({ collection: 'contacts', data: { lastname: tag }, inChangeSet: false });
    };
    const created = async (tag: string): Promise<number> =>
      (await call(sim, `contacts?$filter=lastname eq '${tag}'&$count=true`)).json['@odata.count'] as number;

    queue('StopTag');
    const stopped: unknown = await client.executeBatch().catch((err: unknown) => err);
    expect(stopped).toHaveLength(1);
    expect((stopped as { status: number }[])[0].status).toBe(404);
    expect(await created('StopTag')).toBe(0);

    queue('GoTag');
    const results: unknown = await client.executeBatch({ continueOnError: true });
    expect(results).toHaveLength(2);
    const [failed, id] = results as [{ status: number }, string];
    expect(failed.status).toBe(404);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await created('GoTag')).toBe(1);
  });
});

describe('$batch on the wire', () => {
  it('answers a request written by hand from the documented example in Dataverse shape', async () => {
    const boundary = 'batch_22975cad-7f57-410d-be15-6363209367ea';
    const changeset = 'changeset_246e6bfe-89a4-4c77-b293-7a433f082e8a';
    const account = (
      await call(sim, 'accounts', { method: 'POST', body: { name: 'Doc Account' } })
    ).headers.get('odata-entityid') as string;
    const accountId = /\(([^)]+)\)$/.exec(account)?.[1] as string;
    const task = (n: number, id: number): string =>
      [
        `--${changeset}`,
        'Content-Type: application/http',
        'Content-Transfer-Encoding: binary',
        `Content-ID: ${id}`,
        '',
        'POST /api/data/v9.2/tasks HTTP/1.1',
        'Content-Type: application/json; type=entry',
        '',
        '{',
        `  "subject": "Task ${n} in batch",`,
        // The simulator names this navigation property regardingobjectid_account (the docs: …_account_task).
        `  "regardingobjectid_account@odata.bind": "accounts(${accountId})"`,
        '}',
      ].join('\n');
    // LF line endings as in the documentation's listing; the simulator reads CRLF and LF alike.
    const body = [
      `--${boundary}`,
      `Content-Type: multipart/mixed; boundary="${changeset}"`,
      '',
      task(1, 1),
      task(2, 2),
      task(3, 3),
      `--${changeset}--`,
      '',
      `--${boundary}`,
      'Content-Type: application/http',
      'Content-Transfer-Encoding: binary',
      '',
      `GET /api/data/v9.2/tasks?$select=subject&$filter=_regardingobjectid_value%20eq%20${accountId} HTTP/1.1`,
      '',
      '',
      `--${boundary}--`,
      '',
    ].join('\n');

    const res = await postBatch(boundary, body, { 'If-None-Match': 'null' });

    expect(res.status).toBe(200);
    expect(res.headers.get('odata-version')).toBe('4.0');
    const outer = /^multipart\/mixed; boundary=(batchresponse_[0-9a-f-]{36})$/.exec(
      res.headers.get('content-type') ?? '',
    );
    expect(outer).not.toBeNull();
    const responseBoundary = outer?.[1] as string;
    expect(res.text.startsWith(`--${responseBoundary}${CRLF}`)).toBe(true);
    expect(res.text.trimEnd().endsWith(`--${responseBoundary}--`)).toBe(true);
    const inner = /Content-Type: multipart\/mixed; boundary=(changesetresponse_[0-9a-f-]{36})\r\n/.exec(
      res.text,
    );
    expect(inner).not.toBeNull();
    const changesetParts = res.text.split(`--${inner?.[1] as string}`).slice(1, -1);
    expect(changesetParts).toHaveLength(3);
    changesetParts.forEach((part, i) => {
      expect(part).toContain(`Content-Type: application/http${CRLF}Content-Transfer-Encoding: binary${CRLF}`);
      expect(part).toContain(`Content-ID: ${i + 1}${CRLF}${CRLF}HTTP/1.1 204 No Content${CRLF}`);
      expect(part).toMatch(/OData-EntityId: http:\/\/[^/]+\/api\/data\/v9\.2\/tasks\([0-9a-f-]{36}\)\r\n/);
      expect(part).toMatch(/Location: http:\/\/[^/]+\/api\/data\/v9\.2\/tasks\([0-9a-f-]{36}\)\r\n/);
    });
    const getPart = res.text.split(`--${responseBoundary}`)[2];
    expect(getPart).toContain(`HTTP/1.1 200 OK${CRLF}`);
    expect(getPart).toContain('Content-Type: application/json; odata.metadata=minimal');
    const json = JSON.parse(getPart.slice(getPart.indexOf('{'), getPart.lastIndexOf('}') + 1)) as {
      value: { subject: string }[];
    };
    expect(json.value.map((t) => t.subject)).toEqual([
      'Task 1 in batch',
      'Task 2 in batch',
      'Task 3 in batch',
    ]);
  });

  it('answers a failed changeset with the failing response alone, with its Content-ID, and takes its status', async () => {
    const boundary = 'batch_fail';
    const changeset = 'changeset_fail';
    const op = (id: number, line: string, json: string, extra: string[] = []): string[] => [
      `--${changeset}`,
      'Content-Type: application/http',
      'Content-Transfer-Encoding: binary',
      `Content-ID: ${id}`,
      '',
      line,
      'Content-Type: application/json',
      ...extra,
      '',
      json,
    ];
    const body = [
      `--${boundary}`,
      `Content-Type: multipart/mixed; boundary=${changeset}`,
      '',
      ...op(1, 'POST contacts HTTP/1.1', '{"lastname":"FailShape"}'),
      ...op(2, 'PATCH $1 HTTP/1.1', '{"firstname":"Stale"}', ['If-Match: W/"1"']),
      ...op(3, 'POST contacts HTTP/1.1', '{"lastname":"FailShape"}'),
      `--${changeset}--`,
      `--${boundary}--`,
    ].join(CRLF);

    const res = await postBatch(boundary, body);

    expect(res.status).toBe(412);
    const parts = res.text.split(/--changesetresponse_[0-9a-f-]{36}/).slice(1, -1);
    expect(parts).toHaveLength(1);
    expect(parts[0]).toContain(`Content-ID: 2${CRLF}${CRLF}HTTP/1.1 412 Precondition Failed${CRLF}`);
    expect(parts[0]).toContain('"code":"0x80060882"');
    expect(parts[0]).toMatch(/REQ_ID: [0-9a-f-]{36}/);
    expect((await call(sim, "contacts?$filter=lastname eq 'FailShape'")).json.value).toEqual([]);
  });

  it('returns the record with return=representation and resolves $n in a later URL', async () => {
    const boundary = 'batch_repr';
    const changeset = 'changeset_repr';
    const body = [
      `--${boundary}`,
      `Content-Type: multipart/mixed; boundary=${changeset}`,
      '',
      `--${changeset}`,
      'Content-Type: application/http',
      'Content-Transfer-Encoding: binary',
      'Content-ID: a',
      '',
      `POST ${sim.apiUrl}/contacts?$select=fullname HTTP/1.1`,
      'Content-Type: application/json',
      'Prefer: return=representation',
      '',
      '{"firstname":"Repr","lastname":"One"}',
      `--${changeset}`,
      'Content-Type: application/http',
      'Content-Transfer-Encoding: binary',
      'Content-ID: b',
      '',
      'PUT $a/jobtitle HTTP/1.1',
      'Content-Type: application/json',
      '',
      '{"value":"Engineer"}',
      `--${changeset}--`,
      `--${boundary}--`,
    ].join(CRLF);

    const res = await postBatch(boundary, body);

    expect(res.status).toBe(200);
    const parts = res.text.split(/--changesetresponse_[0-9a-f-]{36}/).slice(1, -1);
    expect(parts).toHaveLength(2);
    expect(parts[0]).toContain('HTTP/1.1 201 Created');
    expect(parts[0]).toContain('Preference-Applied: return=representation');
    const record = JSON.parse(parts[0].slice(parts[0].indexOf('{'), parts[0].lastIndexOf('}') + 1)) as {
      contactid: string;
      fullname: string;
      '@odata.etag': string;
    };
    expect(record.fullname).toBe('Repr One');
    expect(record['@odata.etag']).toMatch(/^W\/"\d+"$/);
    expect(parts[1]).toContain('HTTP/1.1 204 No Content');
    const saved = await call(sim, `contacts(${record.contactid})?$select=jobtitle`);
    expect(saved.json.jobtitle).toBe('Engineer');
  });

  it('refuses a reference to a Content-ID not declared earlier in the changeset', async () => {
    const body = [
      '--b',
      'Content-Type: multipart/mixed; boundary=c',
      '',
      '--c',
      'Content-Type: application/http',
      'Content-ID: 2',
      '',
      'POST contacts HTTP/1.1',
      'Content-Type: application/json',
      '',
      '{"lastname":"RefTag","parentcustomerid_contact@odata.bind":"$1"}',
      '--c--',
      '--b--',
    ].join(CRLF);
    const res = await postBatch('b', body);
    expect(res.status).toBe(400);
    expect(res.text).toContain("Content-ID Reference: '$1' does not exist in the batch context.");
    expect((await call(sim, "contacts?$filter=lastname eq 'RefTag'")).json.value).toEqual([]);
  });

  it('refuses more than 1000 operations before running any of them', async () => {
    const op = (i: number): string =>
      [
        '--b',
        'Content-Type: application/http',
        '',
        'POST contacts HTTP/1.1',
        'Content-Type: application/json',
        '',
        `{"lastname":"Bulk${i}","description":"bulk-limit"}`,
      ].join(CRLF);
    const ops = (n: number): string => [...Array.from({ length: n }, (_, i) => op(i)), '--b--'].join(CRLF);
    const bulk = async (): Promise<number> =>
      (await call(sim, "contacts/$count?$filter=description eq 'bulk-limit'")).json as number;

    const refused = await postBatch('b', ops(1001));
    expect(refused.status).toBe(400);
    expect(refused.json.error.code).toBe('0x80040203');
    expect(refused.json.error.message).toContain('at most 1000');
    expect(await bulk()).toBe(0);

    const accepted = await postBatch('b', ops(1000));
    expect(accepted.status).toBe(200);
    expect(await bulk()).toBe(1000);
  });

  it('refuses a malformed batch as a whole: no boundary, a GET in a changeset, an unterminated body', async () => {
    const noBoundary = await call(sim, '$batch', { method: 'POST', body: { not: 'multipart' } });
    expect(noBoundary.status).toBe(400);
    expect(noBoundary.json.error.message).toContain('multipart/mixed');

    const getInChangeset = await postBatch(
      'b',
      [
        '--b',
        'Content-Type: multipart/mixed; boundary=c',
        '',
        '--c',
        'Content-Type: application/http',
        '',
        'GET contacts HTTP/1.1',
        '',
        '--c--',
        '--b--',
      ].join(CRLF),
    );
    expect(getInChangeset.status).toBe(400);
    expect(getInChangeset.json.error.message).toContain('GET requests are not allowed in a changeset');

    const unterminated = await postBatch(
      'b',
      ['--b', 'Content-Type: application/http', '', 'GET contacts HTTP/1.1', ''].join(CRLF),
    );
    expect(unterminated.status).toBe(400);

    const wrongMethod = await call(sim, '$batch');
    expect(wrongMethod.status).toBe(405);
  });
});

describe('$batch with faults and webhooks', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver.close());

  it('a fault can target one operation: it fails its changeset, which then leaves nothing behind', async () => {
    const before = await snapshot();
    sim.faults.add({
      method: 'POST',
      path: '/api/data/v9\\.2/accounts$',
      kind: 'throttle',
      retryAfterSeconds: 7,
    });
    client.startBatch();
    void client.create({ collection: 'contacts', data: { lastname: 'FaultTag' } });
    void client.create({ collection: 'accounts', data: { name: 'Throttled' } });
    const failure: unknown = await client.executeBatch().catch((err: unknown) => err);
    expect((failure as { status: number }[])[0]).toMatchObject({
      status: 429,
      error: { code: '0x80072322' },
    });
    expect(await snapshot()).toEqual(before);
  });

  it('a fault can target the $batch call itself', async () => {
    sim.faults.add({ method: 'POST', path: '\\$batch$', kind: 'status', status: 503 });
    const res = await postBatch(
      'b',
      ['--b', 'Content-Type: application/http', '', 'GET contacts HTTP/1.1', '', '--b--'].join(CRLF),
    );
    expect(res.status).toBe(503);
    expect(res.json.error.code).toBe('0x80040216');
  });

  it('webhooks fire for a committed changeset and never for one that rolled back', async () => {
    const messages = await client.retrieveMultiple<{ sdkmessageid: string }>({
      collection: 'sdkmessages',
      select: ['sdkmessageid'],
      filter: "name eq 'Create'",
    });
    const filters = await client.retrieveMultiple<{ sdkmessagefilterid: string }>({
      collection: 'sdkmessagefilters',
      select: ['sdkmessagefilterid'],
      filter: `primaryobjecttypecode eq 'task' and _sdkmessageid_value eq ${messages.value[0].sdkmessageid}`,
    });
    const endpointId = await client.create<object, string>({
      collection: 'serviceendpoints',
      data: { name: 'Batch hook', url: receiver.url, contract: 8, authtype: 4, authvalue: 'k' },
    });
    await client.create({
      collection: 'sdkmessageprocessingsteps',
      data: {
        name: 'Batch hook: Create of task',
        mode: 1,
        stage: 40,
        rank: 1,
        supporteddeployment: 0,
        asyncautodelete: false,
        'sdkmessageid@odata.bind': `/sdkmessages(${messages.value[0].sdkmessageid})`,
        'sdkmessagefilterid@odata.bind': `/sdkmessagefilters(${filters.value[0].sdkmessagefilterid})`,
        'eventhandler_serviceendpoint@odata.bind': `/serviceendpoints(${endpointId})`,
      },
    });

    client.startBatch();
    void client.create({ collection: 'tasks', data: { subject: 'rolled back' } });
    void client.update({
      collection: 'contacts',
      key: '00000000-0000-0000-0000-0000000000bb',
      data: { firstname: 'x' },
      ifmatch: '*',
    });
    await expect(client.executeBatch()).rejects.toBeDefined();
    client.startBatch();
    void client.create({ collection: 'tasks', data: { subject: 'committed' } });
    await client.executeBatch();

    await sim.webhooksIdle();
    const [delivery] = await receiver.waitFor(1);
    expect(receiver.received).toHaveLength(1);
    expect(delivery.json.PostEntityImages ?? delivery.json.InputParameters).toBeDefined();
    expect(JSON.stringify(delivery.json)).toContain('committed');
    expect(JSON.stringify(delivery.json)).not.toContain('rolled back');
  });
});

describe('$batch needs a token like any call', () => {
  it('answers 401 without one', async () => {
    const res = await call(sim, '$batch', { method: 'POST', auth: false, rawBody: '--b--' });
    expect(res.status).toBe(401);
    expect(TOKEN).toBeTruthy();
  });
});

describe('ChangeGate (what keeps a rolled-back changeset from reaching webhooks)', () => {
  const event = (id: string): ChangeEvent => ({ id }) as unknown as ChangeEvent;

  it('passes events straight through outside a held section', () => {
    const delivered: string[] = [];
    const gate = new ChangeGate((e) => delivered.push(e.id));
    gate.listener(event('a'));
    expect(delivered).toEqual(['a']);
  });

  it('delivers held events in order only once the section returns, and drops them when it throws', () => {
    const delivered: string[] = [];
    const gate = new ChangeGate((e) => delivered.push(e.id));
    const value = gate.hold(() => {
      gate.listener(event('1'));
      gate.listener(event('2'));
      expect(delivered).toEqual([]);
      return 'done';
    });
    expect(value).toBe('done');
    expect(delivered).toEqual(['1', '2']);

    expect(() =>
      gate.hold(() => {
        gate.listener(event('rolled back'));
        throw new Error('changeset failed');
      }),
    ).toThrow('changeset failed');
    gate.listener(event('3'));
    expect(delivered).toEqual(['1', '2', '3']);
  });
});
