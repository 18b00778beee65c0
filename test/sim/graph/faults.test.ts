import { GraphError, RetryHandlerOptions, type PageCollection } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGraphSim } from '../../../sim/graph';
import { trust, type TrustedSim } from './support';

let graph: TrustedSim;
beforeAll(async () => {
  graph = await trust(await startGraphSim({ seed: 'demo' }));
});
afterAll(async () => graph?.close());
beforeEach(async () => {
  await graph.fetch('/_sim/faults', { method: 'DELETE' });
});

const USERS = '^/v1\\.0/users$';

async function failure(request: Promise<unknown>): Promise<GraphError> {
  const err: unknown = await request.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GraphError);
  return err as GraphError;
}

describe('throttling (429 with Retry-After)', () => {
  it("is retried by the Graph client's RetryHandler after the Retry-After interval, and the call succeeds", async () => {
    await graph.queueFault({ path: USERS, kind: 'throttle', retryAfterSeconds: 1, count: 1 });
    const started = Date.now();

    const page = (await graph.client().api('/users').get()) as PageCollection;

    expect(page.value).toHaveLength(7);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(await graph.remainingFaults()).toEqual([]);
  });

  it('surfaces as a 429 GraphError with code TooManyRequests once it outlasts the client’s three retries', async () => {
    await graph.queueFault({ path: USERS, kind: 'throttle', retryAfterSeconds: 0, count: 10 });

    const err = await failure(graph.client().api('/users').get());

    expect(err.statusCode).toBe(429);
    expect(err.code).toBe('TooManyRequests');
    // One attempt and three retries took four of the ten.
    expect((await graph.remainingFaults())[0]).toMatchObject({ remaining: 6 });
  });

  it("shows Retry-After and Graph's error body to a caller that retries on its own", async () => {
    await graph.queueFault({ path: USERS, kind: 'throttle', retryAfterSeconds: 7 });

    const err = await failure(
      graph
        .client()
        .api('/users')
        .middlewareOptions([new RetryHandlerOptions(0, 0)])
        .get(),
    );

    expect(err.statusCode).toBe(429);
    expect(err.headers?.get('Retry-After')).toBe('7');
    expect(err.requestId).toBe(err.headers?.get('request-id'));
    expect(JSON.parse(err.body as string)).toMatchObject({
      code: 'TooManyRequests',
      innerError: { date: expect.any(String) },
    });
  });
});

describe('server errors', () => {
  it('surfaces a 500 at once as generalException: the client does not retry it', async () => {
    await graph.queueFault({ path: USERS, kind: 'status', status: 500, count: 2 });

    const err = await failure(graph.client().api('/users').get());

    expect(err.statusCode).toBe(500);
    expect(err.code).toBe('generalException');
    expect((await graph.remainingFaults())[0]).toMatchObject({ remaining: 1 });
  });

  it('retries a 503 like a 429, so a single one goes unnoticed', async () => {
    await graph.queueFault({ path: USERS, kind: 'status', status: 503, retryAfterSeconds: 0 });

    const page = (await graph.client().api('/users').top(1).get()) as PageCollection;

    expect(page.value).toHaveLength(1);
    expect(await graph.remainingFaults()).toEqual([]);
  });

  it('matches by method and path: a fault for GET /users leaves sendMail alone', async () => {
    await graph.queueFault({ method: 'GET', path: '^/v1\\.0/users', kind: 'status', status: 500 });

    await graph
      .client()
      .api('/users/lena.novak@contoso-practice.example/sendMail')
      .post({ message: { subject: 's', toRecipients: [{ emailAddress: { address: 'a@b.example' } }] } });

    expect(graph.sim.outbox()).toHaveLength(1);
    expect(await graph.remainingFaults()).toHaveLength(1);
  });
});

describe('latency and dropped connections', () => {
  it('delays the answer by the added latency and then serves it normally', async () => {
    await graph.queueFault({ path: USERS, kind: 'latency', latencyMs: 300 });
    const started = Date.now();

    const page = (await graph.client().api('/users').top(2).get()) as PageCollection;

    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(page.value).toHaveLength(2);
  });

  it('fails the call without any HTTP status when the connection drops, and keeps serving afterwards', async () => {
    await graph.queueFault({ path: USERS, kind: 'drop' });

    const err = await failure(graph.client().api('/users').get());
    const after = (await graph.client().api('/users').top(1).get()) as PageCollection;

    // The Graph client reports a transport failure as a GraphError without a status: fetch's TypeError.
    expect(err.statusCode).toBe(-1);
    expect(err.code).toBe('TypeError');
    expect(err.message).toBe('fetch failed');
    expect(await graph.remainingFaults()).toEqual([]);
    expect(after.value).toHaveLength(1);
  });
});
