import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TokenCredential } from '@azure/core-auth';
import { GraphClient, GraphServiceError, GRAPH_SCOPE, recipient } from '../../lib/graph';
import { DEMO_USER_IDS, startGraphSim } from '../../sim/graph';
import { trust, type TrustedSim } from '../sim/graph/support';

const OWNER = 'maren.lindqvist@contoso-practice.example';

let graph: TrustedSim;
const scopes: string[] = [];
const credential: TokenCredential = {
  getToken: async (scope) => {
    scopes.push(...(Array.isArray(scope) ? scope : [scope]));
    return { token: 'sim-token', expiresOnTimestamp: Date.now() + 3600_000 };
  },
};
let client: GraphClient;

beforeAll(async () => {
  graph = await trust(await startGraphSim({ seed: 'demo' }));
  client = new GraphClient(graph.sim.url, credential, {
    fetchOptions: { dispatcher: graph.dispatcher } as RequestInit,
  });
});
afterAll(async () => graph?.close());
beforeEach(async () => {
  await graph.fetch('/_sim/outbox', { method: 'DELETE' });
});

async function failure(p: Promise<unknown>): Promise<GraphServiceError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GraphServiceError);
  return err as GraphServiceError;
}

describe('GraphClient', () => {
  it('sends mail as a mailbox, with a token for the Graph resource even on another host', async () => {
    await client.sendMail(OWNER, {
      subject: 'Welcome',
      body: { contentType: 'text', content: 'Hello' },
      toRecipients: [recipient('alex@mail.example', 'Alex')],
    });
    const [mail] = graph.sim.outbox();
    expect(mail.sender.userPrincipalName).toBe(OWNER);
    expect(mail.message.subject).toBe('Welcome');
    expect(mail.message.toRecipients).toEqual([
      { emailAddress: { address: 'alex@mail.example', name: 'Alex' } },
    ]);
    expect(scopes.every((s) => s === GRAPH_SCOPE)).toBe(true);
  });

  it('lists users page by page and reads one user and the organization', async () => {
    const pages = [];
    for await (const page of client.listUsers({ pageSize: 3, select: ['id', 'displayName'] }).byPage())
      pages.push(page);
    expect(pages.length).toBeGreaterThan(1);
    expect(pages[0].users).toHaveLength(3);
    const all = [];
    for await (const u of client.listUsers()) all.push(u);
    expect(all.map((u) => u.id)).toContain(DEMO_USER_IDS.owner);
    expect(all).toHaveLength(pages.flatMap((p) => p.users).length);

    expect((await client.getUser(OWNER)).id).toBe(DEMO_USER_IDS.owner);
    expect((await client.organization()).displayName).toBeTruthy();
  });

  it('fails with typed errors carrying status, Graph code and request id', async () => {
    const missing = await failure(client.getUser('nobody@contoso-practice.example'));
    expect(missing.statusCode).toBe(404);
    expect(missing.isNotFound).toBe(true);
    expect(missing.code).toBe('Request_ResourceNotFound');
    expect(missing.requestId).toBeTruthy();
    expect(await client.tryGetUser('nobody@contoso-practice.example')).toBeUndefined();

    const badSender = await failure(
      client.sendMail('nobody@contoso-practice.example', {
        subject: 's',
        body: { contentType: 'text', content: 'c' },
        toRecipients: [recipient('a@mail.example')],
      }),
    );
    expect(badSender.statusCode).toBe(404);
    expect(graph.sim.outbox()).toHaveLength(0);
  });

  it('retries throttling honouring Retry-After, and reports a server that never answers', async () => {
    await graph.queueFault({ path: '/users$', kind: 'throttle', retryAfterSeconds: 0, count: 1 });
    const first = await client.listUsers({ pageSize: 1 }).byPage().next();
    expect(first.done).toBe(false);

    await graph.queueFault({ path: '/organization', kind: 'drop', count: 1 });
    const dropped = await failure(client.organization());
    expect(dropped.isNoResponse).toBe(true);
    expect(dropped.code).toBe('NO_RESPONSE');
  });
});
