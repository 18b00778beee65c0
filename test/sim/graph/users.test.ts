import { GraphError, PageIterator, type PageCollection } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USER_IDS, startGraphSim } from '../../../sim/graph';
import { trust, type TrustedSim } from './support';

const DEFAULT_PROPERTIES = [
  'businessPhones',
  'displayName',
  'givenName',
  'id',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
];

let graph: TrustedSim;
beforeAll(async () => {
  graph = await trust(await startGraphSim({ seed: 'demo' }));
});
afterAll(async () => graph?.close());

async function failure(request: Promise<unknown>): Promise<GraphError> {
  const err: unknown = await request.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GraphError);
  return err as GraphError;
}

describe('GET /v1.0/users', () => {
  it("returns every user with Graph's default property set when no $select is given", async () => {
    const page = (await graph.client().api('/users').get()) as PageCollection;

    expect(page['@odata.context']).toBe(`${graph.sim.url}/v1.0/$metadata#users`);
    expect(page['@odata.nextLink']).toBeUndefined();
    expect(page.value).toHaveLength(7);
    for (const user of page.value as Record<string, unknown>[]) {
      expect(Object.keys(user).sort()).toEqual(DEFAULT_PROPERTIES);
    }
    expect(page.value[0]).toMatchObject({
      displayName: 'Maren Lindqvist',
      userPrincipalName: 'maren.lindqvist@contoso-practice.example',
      jobTitle: 'Practice Owner & Clinical Director',
      businessPhones: ['+1 425 555 0100'],
    });
  });

  it('returns exactly the properties $select names, including ones outside the default set', async () => {
    const page = (await graph
      .client()
      .api('/users')
      .select(['displayName', 'department', 'accountEnabled'])
      .get()) as PageCollection;

    expect(page['@odata.context']).toBe(
      `${graph.sim.url}/v1.0/$metadata#users(displayName,department,accountEnabled)`,
    );
    expect(page.value[1]).toEqual({
      displayName: 'Jonas Becker',
      department: 'Therapy',
      accountEnabled: true,
    });
  });

  it('serves a property Graph knows but the user never had set as null', async () => {
    const page = (await graph
      .client()
      .api('/users')
      .select('displayName,city')
      .top(1)
      .get()) as PageCollection;

    expect(page.value).toEqual([{ displayName: 'Maren Lindqvist', city: null }]);
  });

  it('pages by $top through @odata.nextLink, which keeps the other options, until nothing is left', async () => {
    const client = graph.client();
    const seen: string[] = [];
    let page = (await client.api('/users').select('id,displayName').top(3).get()) as PageCollection;
    const links: string[] = [];
    for (;;) {
      seen.push(...(page.value as Array<{ id: string }>).map((u) => u.id));
      expect(page.value.every((u: object) => Object.keys(u).join() === 'id,displayName')).toBe(true);
      if (!page['@odata.nextLink']) break;
      links.push(page['@odata.nextLink']);
      page = (await client.api(page['@odata.nextLink']).get()) as PageCollection;
    }

    expect(links).toHaveLength(2);
    expect(links[0]).toMatch(
      new RegExp(
        `^${graph.sim.url}/v1\\.0/users\\?\\$select=id,displayName&\\$top=3&\\$skiptoken=[A-Za-z0-9_-]+$`,
      ),
    );
    const all = (await client.api('/users').select('id').get()) as PageCollection;
    expect(seen).toEqual((all.value as Array<{ id: string }>).map((u) => u.id));
  });

  it("walks every page with the client's own PageIterator", async () => {
    const client = graph.client();
    const names: string[] = [];
    const first = (await client.api('/users').select('displayName').top(2).get()) as PageCollection;
    const iterator = new PageIterator(client, first, (user: { displayName: string }) => {
      names.push(user.displayName);
      return true;
    });
    await iterator.iterate();

    expect(names).toEqual([
      'Maren Lindqvist',
      'Jonas Becker',
      'Aisha Rahman',
      'Tomás Ortega',
      'Lena Novak',
      'Sam Whitfield',
      'Priya Natarajan',
    ]);
  });

  it('refuses a $top outside 1..999 with 400 Request_UnsupportedQuery', async () => {
    for (const top of [0, 1000]) {
      const err = await failure(graph.client().api('/users').top(top).get());
      expect(err.statusCode).toBe(400);
      expect(err.code).toBe('Request_UnsupportedQuery');
      expect(err.message).toBe(`Invalid page size specified: '${top}'. Must be between 1 and 999 inclusive.`);
    }
  });

  it('refuses a $select of a property users do not have with 400 BadRequest', async () => {
    const err = await failure(graph.client().api('/users').select('displayName,shoeSize').get());

    expect(err.statusCode).toBe(400);
    expect(err.code).toBe('BadRequest');
    expect(err.message).toContain(
      "Could not find a property named 'shoeSize' on type 'microsoft.graph.user'",
    );
  });

  it('refuses a $skiptoken it did not issue with 400 Directory_ExpiredPageToken', async () => {
    const err = await failure(graph.client().api('/users?$top=2&$skiptoken=not-a-token').get());

    expect(err.statusCode).toBe(400);
    expect(err.code).toBe('Directory_ExpiredPageToken');
  });

  it('answers 501 for a query option it does not implement instead of ignoring it', async () => {
    const err = await failure(graph.client().api('/users').filter("startswith(displayName,'S')").get());

    expect(err.statusCode).toBe(501);
    expect(err.code).toBe('NotImplemented');
    expect(err.message).toContain('$filter');
  });
});

describe('GET /v1.0/users/{id | userPrincipalName}', () => {
  it('finds a user by object id and describes a single entity in @odata.context', async () => {
    const user = (await graph.client().api(`/users/${DEMO_USER_IDS.receptionist}`).get()) as Record<
      string,
      unknown
    >;

    expect(user['@odata.context']).toBe(`${graph.sim.url}/v1.0/$metadata#users/$entity`);
    expect(user).toMatchObject({
      id: DEMO_USER_IDS.receptionist,
      displayName: 'Sam Whitfield',
      jobTitle: 'Receptionist',
    });
    expect(
      Object.keys(user)
        .filter((k) => !k.startsWith('@'))
        .sort(),
    ).toEqual(DEFAULT_PROPERTIES);
  });

  it('finds the same user by userPrincipalName, in any case and percent-encoded', async () => {
    const client = graph.client();
    const plain = await client.api('/users/sam.whitfield@contoso-practice.example').get();
    const shouted = await client.api('/users/SAM.WHITFIELD@CONTOSO-PRACTICE.EXAMPLE').get();
    const encoded = await client.api('/users/sam.whitfield%40contoso-practice.example').get();

    for (const user of [plain, shouted, encoded]) expect(user.id).toBe(DEMO_USER_IDS.receptionist);
  });

  it('narrows a single user with $select', async () => {
    const user = (await graph
      .client()
      .api(`/users/${DEMO_USER_IDS.owner}`)
      .select('displayName,department')
      .get()) as Record<string, unknown>;

    expect(user).toEqual({
      '@odata.context': `${graph.sim.url}/v1.0/$metadata#users(displayName,department)/$entity`,
      displayName: 'Maren Lindqvist',
      department: 'Management',
    });
  });

  it("answers 404 Request_ResourceNotFound with Graph's error body for a user that does not exist", async () => {
    const err = await failure(graph.client().api('/users/nobody@contoso-practice.example').get());

    expect(err.statusCode).toBe(404);
    expect(err.code).toBe('Request_ResourceNotFound');
    expect(err.message).toBe(
      "Resource 'nobody@contoso-practice.example' does not exist or one of its queried reference-property objects are not present.",
    );
    const body = JSON.parse(err.body as string) as { innerError: Record<string, string> };
    expect(body.innerError.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    expect(body.innerError['request-id']).toBe(err.requestId);
    expect(err.headers?.get('request-id')).toBe(err.requestId);
  });
});
