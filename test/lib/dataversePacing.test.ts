/**
 * The Dataverse client's service-protection pacing: the token bucket's arithmetic on an injected
 * clock, a spent budget as a transient 429-like failure the saga waits out, and a 429 with a long
 * Retry-After reported at once instead of slept through.
 */
import { describe, expect, it } from 'vitest';
import { DataverseClient, DataverseError, REQUEST_BUDGET_SPENT, RequestPacer } from '../../lib/dataverse';
import { asActivityFailure, transientFailure } from '../../lib/errors/transient';

function clock(start = 1_000_000) {
  let now = start;
  const slept: number[] = [];
  return {
    now: () => now,
    advance: (ms: number) => (now += ms),
    slept,
    sleep: async (ms: number) => {
      slept.push(ms);
      now += ms;
    },
  };
}

describe('RequestPacer', () => {
  it('lets a burst of a tenth of the budget through at once, then refills at budget / 5 minutes', async () => {
    const c = clock();
    // 3,000 per 5 minutes: 10 per second, 300 at once.
    const pacer = new RequestPacer({ requestsPer5Min: 3000, now: c.now, sleep: c.sleep });
    for (let i = 0; i < 300; i++) await pacer.take();
    expect(c.slept).toEqual([]);
    expect(pacer.available()).toBeCloseTo(0, 6);
    expect(pacer.waitFor()).toBeCloseTo(100, 6);
    c.advance(1000);
    expect(pacer.available()).toBeCloseTo(10, 6);
    // Never more than the burst, however long it idles.
    c.advance(3_600_000);
    expect(pacer.available()).toBe(300);
  });

  it('waits out a short wait in place, queueing callers one token apart', async () => {
    const c = clock();
    const pacer = new RequestPacer({ requestsPer5Min: 3000, burst: 1, now: c.now, sleep: c.sleep });
    await pacer.take();
    await pacer.take();
    await pacer.take();
    expect(c.slept.map(Math.round)).toEqual([100, 100]);
  });

  it('refuses a long wait at once with a transient 429 (REQUEST_BUDGET_SPENT) carrying the wait', async () => {
    const c = clock();
    // 60 per 5 minutes: one every 5 s, 6 at once.
    const pacer = new RequestPacer({ requestsPer5Min: 60, now: c.now, sleep: c.sleep });
    for (let i = 0; i < 6; i++) await pacer.take();
    const err = await pacer.take().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataverseError);
    const refused = err as DataverseError;
    expect(refused).toMatchObject({ statusCode: 429, code: REQUEST_BUDGET_SPENT, retryAfterMs: 5000 });
    expect(c.slept).toEqual([]);
    // A refused request took no token: after the wait it goes through without sleeping.
    c.advance(5000);
    await pacer.take();
    expect(c.slept).toEqual([]);
    // What a saga step sees of it: Dataverse is throttling, try again after the wait.
    const seen = transientFailure(asActivityFailure(refused, 60_000));
    expect(seen).toMatchObject({ service: 'Dataverse', retryAfterMs: 5000 });
    expect(seen?.detail).toContain(REQUEST_BUDGET_SPENT);
  });

  it('holds every request back while Dataverse itself asked to be left alone', async () => {
    const c = clock();
    const pacer = new RequestPacer({ requestsPer5Min: 5000, now: c.now, sleep: c.sleep });
    pacer.throttledFor(30_000);
    await expect(pacer.take()).rejects.toMatchObject({ code: REQUEST_BUDGET_SPENT, retryAfterMs: 30_000 });
    c.advance(29_500);
    await pacer.take();
    expect(c.slept).toEqual([500]);
  });

  it('keeps the default budget below service protection in any 5-minute window', async () => {
    const c = clock();
    const pacer = new RequestPacer({ requestsPer5Min: 5000, now: c.now, sleep: c.sleep, maxWaitMs: 60_000 });
    const start = c.now();
    let sent = 0;
    while (c.now() - start < 300_000) {
      await pacer.take();
      sent++;
    }
    expect(sent).toBeLessThan(6000);
    expect(sent).toBeGreaterThan(5000);
  });
});

describe('the paced DataverseClient', () => {
  it('counts a request against the budget before sending it, and a $batch as one', async () => {
    const c = clock();
    const pacer = new RequestPacer({ requestsPer5Min: 60, now: c.now, sleep: c.sleep });
    let calls = 0;
    const fetchStub: typeof fetch = async () => {
      calls++;
      return new Response(JSON.stringify({ UserId: 'u', BusinessUnitId: 'b', OrganizationId: 'o' }), {
        status: 200,
        headers: { 'Content-Type': 'application/json' },
      });
    };
    const credential = { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 3600_000 }) };
    const client = new DataverseClient('https://org.example', credential, { pacer, fetch: fetchStub });
    for (let i = 0; i < 6; i++) await client.whoAmI();
    await expect(client.whoAmI()).rejects.toMatchObject({ code: REQUEST_BUDGET_SPENT });
    expect(calls).toBe(6);
  });

  it('reports a 429 whose Retry-After is long at once (transient), without retrying in place', async () => {
    let calls = 0;
    const fetchStub: typeof fetch = async () => {
      calls++;
      return new Response(
        JSON.stringify({ error: { code: '0x80072322', message: 'Number of requests exceeded' } }),
        {
          status: 429,
          headers: { 'Content-Type': 'application/json', 'Retry-After': '30' },
        },
      );
    };
    const credential = { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 3600_000 }) };
    const c = clock();
    const pacer = new RequestPacer({ requestsPer5Min: 5000, now: c.now, sleep: c.sleep });
    const client = new DataverseClient('https://org.example', credential, { pacer, fetch: fetchStub });
    const err = (await client.whoAmI().catch((e: unknown) => e)) as DataverseError;
    expect(calls).toBe(1);
    expect(err).toMatchObject({ statusCode: 429, retryAfterMs: 30_000 });
    expect(err.transient).toEqual({ service: 'Dataverse', retryAfterMs: 30_000 });
    // Every other request of this app user holds back too.
    expect(pacer.waitFor()).toBe(30_000);
  });

  it('holds the user back after a changeset answered by one plain 429 part, and calls it transient', async () => {
    // OData allows a failed changeset to be answered by a single response instead of a nested multipart.
    const answer = [
      '--batchresponse_1',
      'Content-Type: application/http',
      'Content-Transfer-Encoding: binary',
      '',
      'HTTP/1.1 429 Too Many Requests',
      'Content-Type: application/json; odata.metadata=minimal',
      'Retry-After: 45',
      '',
      '{"error":{"code":"0x80072322","message":"Number of requests exceeded the limit."}}',
      '--batchresponse_1--',
      '',
    ].join('\r\n');
    let calls = 0;
    const fetchStub: typeof fetch = async () => {
      calls++;
      return new Response(answer, {
        status: 200,
        headers: { 'Content-Type': 'multipart/mixed; boundary=batchresponse_1' },
      });
    };
    const credential = { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 3600_000 }) };
    const c = clock();
    const pacer = new RequestPacer({ requestsPer5Min: 5000, now: c.now, sleep: c.sleep });
    const client = new DataverseClient('https://org.example', credential, { pacer, fetch: fetchStub });
    const result = await client.executeBatch({
      changeset: [{ kind: 'create', entitySet: 'contacts', data: { lastname: 'X' } }],
    });
    expect(result.changeset?.outcome).toBe('failed');
    expect(result.changeset?.failure?.error.transient).toEqual({
      service: 'Dataverse',
      retryAfterMs: 45_000,
    });
    await expect(client.whoAmI()).rejects.toMatchObject({ code: REQUEST_BUDGET_SPENT, retryAfterMs: 45_000 });
    expect(calls).toBe(1);
  });
});
