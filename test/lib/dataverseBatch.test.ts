import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DataverseClient,
  DataverseError,
  readRecords,
  REQUEST_BUDGET_SPENT,
  RequestPacer,
  type BatchWrite,
} from '../../lib/dataverse';
import { startDataverseSim, type DataverseSim } from '../../sim/dataverse';

const credential = {
  async getToken() {
    return { token: 'test-token', expiresOnTimestamp: Date.now() + 3600_000 };
  },
};

interface Exchange {
  method: string;
  url: string;
  contentType: string;
  prefer: string;
  body: string;
  status: number;
  answerType: string;
  answer: string;
}

let sim: DataverseSim;
let client: DataverseClient;
/** Every call the client made, with the bodies as they went over the wire. */
const wire: Exchange[] = [];

beforeAll(async () => {
  sim = await startDataverseSim({
    onError: (err) =>
      queueMicrotask(() => {
        throw err;
      }),
  });
  const recording: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const answer = await res.clone().text();
    wire.push({
      method: init?.method ?? 'GET',
      url: String(input),
      contentType: new Headers(init?.headers).get('Content-Type') ?? '',
      prefer: new Headers(init?.headers).get('Prefer') ?? '',
      body: typeof init?.body === 'string' ? init.body : '',
      status: res.status,
      answerType: res.headers.get('Content-Type') ?? '',
      answer,
    });
    return res;
  };
  client = new DataverseClient(sim.url, credential, { fetch: recording, maxRetryDelayMs: 50 });
});
afterEach(() => {
  sim.faults.clear();
  wire.length = 0;
});
afterAll(() => sim.close());

async function all(entitySet: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const record of client.query(entitySet)) out.push(record);
  return out;
}

async function everything(): Promise<unknown> {
  return { contacts: await all('contacts'), accounts: await all('accounts') };
}

describe('DataverseClient.executeBatch against the simulator', () => {
  it('commits a changeset: creates (one with a given id), updates with If-Match and by Content-ID, a delete', async () => {
    const existing = await client.create('contacts', { firstname: 'Before' }, { returnRepresentation: true });
    const existingId = existing.record?.contactid as string;
    const doomed = await client.create('contacts', { firstname: 'Doomed' });
    const accountId = randomUUID();
    const result = await client.executeBatch({
      changeset: [
        { kind: 'create', entitySet: 'accounts', id: accountId, data: { name: 'Given id' } },
        {
          kind: 'create',
          entitySet: 'contacts',
          data: { firstname: 'New', 'parentcustomerid_account@odata.bind': '$1' },
          returnRepresentation: true,
        },
        { kind: 'update', entitySet: 'accounts', key: { contentId: '1' }, data: { telephone1: '42' } },
        {
          kind: 'update',
          entitySet: 'contacts',
          key: existingId,
          data: { firstname: 'After' },
          ifMatch: existing.etag,
        },
        { kind: 'delete', entitySet: 'contacts', key: doomed.id as string },
      ],
    });

    expect(result.status).toBe(200);
    expect(result.changeset?.outcome).toBe('committed');
    const ops = result.changeset?.operations ?? [];
    expect(ops.map((o) => [o.contentId, o.status])).toEqual([
      ['1', 204],
      ['2', 201],
      ['3', 204],
      ['4', 204],
      ['5', 204],
    ]);
    expect(ops[0].id).toBe(accountId);
    expect(ops[1].record?.firstname).toBe('New');
    expect(ops[1].etag).toMatch(/^W\/"\d+"$/);
    const contact = await client.retrieve('contacts', ops[1].record?.contactid as string, {
      select: ['_parentcustomerid_value'],
    });
    expect(contact._parentcustomerid_value).toBe(accountId);
    expect((await client.retrieve('accounts', accountId, { select: ['telephone1'] })).telephone1).toBe('42');
    expect((await client.retrieve('contacts', existingId)).firstname).toBe('After');
    expect(await client.tryRetrieve('contacts', doomed.id as string)).toBeUndefined();

    // On the wire: one $batch with a changeset, each operation with its Content-ID and conditions.
    const batch = wire.find((w) => w.url.endsWith('/$batch')) as Exchange;
    const boundary = /^multipart\/mixed; boundary=(batch_[0-9a-f-]{36})$/.exec(batch.contentType)?.[1];
    expect(boundary).toBeDefined();
    expect(batch.body).toMatch(
      new RegExp(`^--${boundary}\\r\\nContent-Type: multipart/mixed; boundary=changeset_`),
    );
    expect(batch.body).toContain(
      `Content-ID: 1\r\n\r\nPATCH ${client.apiUrl}/accounts(${accountId}) HTTP/1.1\r\nIf-None-Match: *\r\n`,
    );
    expect(batch.body).toContain('Content-ID: 3\r\n\r\nPATCH $1 HTTP/1.1\r\nIf-Match: *\r\n');
    expect(batch.body).toContain(`If-Match: ${existing.etag as string}\r\n`);
    expect(batch.body.trimEnd().endsWith(`--${boundary}--`)).toBe(true);
    expect(batch.answerType).toMatch(/^multipart\/mixed; boundary=batchresponse_/);
    expect(batch.answer).toContain('Content-Type: multipart/mixed; boundary=changesetresponse_');
  });

  it('a changeset failing at its third operation changes nothing and names the operation, without throwing', async () => {
    const a = await client.create('contacts', { firstname: 'A' }, { returnRepresentation: true });
    const aId = a.record?.contactid as string;
    await client.update('contacts', aId, { firstname: 'A2' }); // a.etag is stale now
    const before = await everything();
    const writes: BatchWrite[] = [
      { kind: 'create', entitySet: 'contacts', data: { firstname: 'One' } },
      { kind: 'create', entitySet: 'accounts', data: { name: 'Two' } },
      {
        kind: 'update',
        entitySet: 'contacts',
        key: aId,
        data: { firstname: 'Three' },
        ifMatch: a.etag,
      },
      { kind: 'create', entitySet: 'contacts', data: { firstname: 'Four' } },
    ];

    const result = await client.executeBatch({ changeset: writes });

    expect(result.status).toBe(412);
    expect(result.changeset?.outcome).toBe('failed');
    expect(result.changeset?.operations).toEqual([]);
    const failure = result.changeset?.failure;
    expect(failure?.contentId).toBe('3');
    expect(failure?.index).toBe(2);
    expect(failure?.error).toBeInstanceOf(DataverseError);
    expect(failure?.error.statusCode).toBe(412);
    expect(failure?.error.code).toBe('0x80060882');
    expect(failure?.error.isConflict).toBe(true);
    expect(failure?.error.transient).toBeUndefined();
    expect(failure?.error.message).toContain('Content-ID 3');
    expect(await everything()).toEqual(before);
    expect(wire.filter((w) => w.url.endsWith('/$batch'))).toHaveLength(1);
  });

  it('reads before-images in one call: found, missing and a query, with continue-on-error', async () => {
    const found = await client.create('contacts', { firstname: 'Image', lastname: 'Before' });
    const missing = randomUUID();
    const result = await client.executeBatch({
      reads: [
        { entitySet: 'contacts', key: found.id as string, select: ['firstname'] },
        { entitySet: 'contacts', key: missing },
        { entitySet: 'contacts', filter: "lastname eq 'Before'", select: ['lastname'], top: 5 },
      ],
      continueOnError: true,
    });

    expect(result.status).toBe(200);
    const [one, none, query] = result.reads;
    expect(one).toMatchObject({ ran: true, status: 200, record: { firstname: 'Image' } });
    expect(one.record?.['@odata.etag']).toMatch(/^W\/"\d+"$/);
    expect(none.ran).toBe(true);
    expect(none.error?.isNotFound).toBe(true);
    expect(none.error?.code).toBe('0x80040217');
    expect(query.records?.map((r) => r.lastname)).toEqual(['Before']);
    expect(wire).toHaveLength(2);
    expect(wire[1].prefer).toBe('odata.continue-on-error');
  });

  it('without continue-on-error a failed read stops the batch: later reads and the changeset do not run', async () => {
    const result = await client.executeBatch({
      reads: [
        { entitySet: 'contacts', key: randomUUID() },
        { entitySet: 'contacts', top: 1 },
      ],
      changeset: [{ kind: 'create', entitySet: 'contacts', data: { lastname: 'NeverRun' } }],
    });
    expect(result.status).toBe(404);
    expect(result.reads.map((r) => [r.ran, r.status])).toEqual([
      [true, 404],
      [false, 0],
    ]);
    expect(result.changeset?.outcome).toBe('not-run');
    expect(await all('contacts')).not.toContainEqual(expect.objectContaining({ lastname: 'NeverRun' }));
  });

  it('retries the $batch call as a whole after a transient failure, like any call', async () => {
    sim.faults.add({ method: 'POST', path: '\\$batch$', kind: 'status', status: 503, retryAfterSeconds: 0 });
    const result = await client.executeBatch({
      changeset: [{ kind: 'create', entitySet: 'contacts', data: { lastname: 'AfterRetry' } }],
    });
    expect(result.changeset?.outcome).toBe('committed');
    expect(wire.map((w) => w.status)).toEqual([503, 200]);
    expect(
      (await all('contacts')).filter((c) => (c as { lastname?: string }).lastname === 'AfterRetry'),
    ).toHaveLength(1);
  });

  it('does not retry a changeset that failed, even with a throttled operation; the error says it is transient', async () => {
    sim.faults.add({ method: 'POST', path: '/accounts$', kind: 'throttle', retryAfterSeconds: 3 });
    const result = await client.executeBatch({
      changeset: [
        { kind: 'create', entitySet: 'contacts', data: { lastname: 'ThrottledSet' } },
        { kind: 'create', entitySet: 'accounts', data: { name: 'Throttled' } },
      ],
    });
    expect(result.changeset?.outcome).toBe('failed');
    expect(result.changeset?.failure?.contentId).toBe('2');
    expect(result.changeset?.failure?.error.transient).toEqual({ service: 'Dataverse', retryAfterMs: 3000 });
    expect(wire).toHaveLength(1);
    expect(await all('contacts')).not.toContainEqual(expect.objectContaining({ lastname: 'ThrottledSet' }));
  });

  it('refuses more than 1000 operations before calling Dataverse', async () => {
    const changeset: BatchWrite[] = Array.from({ length: 1001 }, (_, i) => ({
      kind: 'create',
      entitySet: 'contacts',
      data: { lastname: `Too many ${i}` },
    }));
    await expect(client.executeBatch({ changeset })).rejects.toMatchObject({ code: 'BATCH_TOO_LARGE' });
    expect(wire).toHaveLength(0);
  });
});

describe('a $batch part throttled by service protection (429 with Retry-After)', () => {
  /** A client of the same app user, paced on a clock that only moves when the test moves it. */
  function pacedClient(): { paced: DataverseClient; pacer: RequestPacer } {
    const now = 1_000_000;
    const pacer = new RequestPacer({ requestsPer5Min: 5000, now: () => now, sleep: async () => {} });
    const recording: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      wire.push({
        method: init?.method ?? 'GET',
        url: String(input),
        contentType: '',
        prefer: new Headers(init?.headers).get('Prefer') ?? '',
        body: typeof init?.body === 'string' ? init.body : '',
        status: res.status,
        answerType: res.headers.get('Content-Type') ?? '',
        answer: await res.clone().text(),
      });
      return res;
    };
    return { paced: new DataverseClient(sim.url, credential, { fetch: recording, pacer }), pacer };
  }

  it('in a continue-on-error batch of reads: the read fails as transient and the user holds back', async () => {
    const a = await client.create('contacts', { lastname: 'ReadA' });
    const b = await client.create('contacts', { lastname: 'ReadB' });
    sim.faults.add({
      method: 'GET',
      path: `/contacts\\(${b.id as string}\\)$`,
      kind: 'throttle',
      retryAfterSeconds: 30,
    });
    wire.length = 0;
    const { paced, pacer } = pacedClient();
    const targets = [a, b].map((r) => ({ entitySet: 'contacts', key: r.id as string }));
    const err = (await readRecords(paced, targets).catch((e: unknown) => e)) as DataverseError;
    // The batch call itself succeeded; only its second part was throttled, as the wire shows.
    expect(wire.map((w) => w.status)).toEqual([200]);
    expect(wire[0].answer).toMatch(/HTTP\/1\.1 429[^]*Retry-After: 30/);
    expect(err).toBeInstanceOf(DataverseError);
    expect(err).toMatchObject({ statusCode: 429, code: '0x80072322', retryAfterMs: 30_000 });
    expect(err.transient).toEqual({ service: 'Dataverse', retryAfterMs: 30_000 });
    // The next request of the same app user is held back without reaching Dataverse.
    expect(pacer.waitFor()).toBe(30_000);
    await expect(paced.whoAmI()).rejects.toMatchObject({
      code: REQUEST_BUDGET_SPENT,
      retryAfterMs: 30_000,
    });
    expect(wire).toHaveLength(1);
  });

  it("in a changeset: the changeset fails as transient and the user's next request holds back", async () => {
    sim.faults.add({ method: 'POST', path: '/accounts$', kind: 'throttle', retryAfterSeconds: 20 });
    const { paced, pacer } = pacedClient();
    const result = await paced.executeBatch({
      changeset: [
        { kind: 'create', entitySet: 'contacts', data: { lastname: 'HeldBack' } },
        { kind: 'create', entitySet: 'accounts', data: { name: 'Throttled' } },
      ],
    });
    expect(result.changeset?.outcome).toBe('failed');
    expect(result.changeset?.failure?.error.transient).toEqual({
      service: 'Dataverse',
      retryAfterMs: 20_000,
    });
    expect(pacer.waitFor()).toBe(20_000);
    await expect(paced.whoAmI()).rejects.toMatchObject({ code: REQUEST_BUDGET_SPENT });
    expect(wire).toHaveLength(1);
  });

  it('a part failing otherwise (404) leaves the pacer alone', async () => {
    const { paced, pacer } = pacedClient();
    const result = await paced.executeBatch({
      reads: [{ entitySet: 'contacts', key: randomUUID() }],
      continueOnError: true,
    });
    expect(result.reads[0].error?.isNotFound).toBe(true);
    expect(pacer.waitFor()).toBe(0);
  });
});
