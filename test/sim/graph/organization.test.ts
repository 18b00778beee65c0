import { GraphError, type PageCollection } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TENANT_DOMAIN, DEMO_TENANT_ID, startGraphSim } from '../../../sim/graph';
import { trust, type TrustedSim } from './support';

let graph: TrustedSim;
beforeAll(async () => {
  graph = await trust(await startGraphSim({ seed: 'demo' }));
});
afterAll(async () => graph?.close());

describe('GET /v1.0/organization', () => {
  it('lists the one organization with its verified domains under the organization @odata.context', async () => {
    const page = (await graph.client().api('/organization').get()) as PageCollection;

    expect(page['@odata.context']).toBe(`${graph.sim.url}/v1.0/$metadata#organization`);
    expect(page.value).toHaveLength(1);
    const [organization] = page.value as Array<Record<string, unknown>>;
    expect(organization).toMatchObject({
      id: DEMO_TENANT_ID,
      displayName: 'Contoso Practice',
      tenantType: 'AAD',
    });
    expect(organization.verifiedDomains).toEqual([
      expect.objectContaining({
        name: DEMO_TENANT_DOMAIN,
        isDefault: true,
        isInitial: false,
        type: 'Managed',
      }),
      expect.objectContaining({ name: 'contosopractice.onmicrosoft.com', isDefault: false, isInitial: true }),
    ]);
  });

  it('gets the organization by id and narrows it with $select', async () => {
    const organization = (await graph
      .client()
      .api(`/organization/${DEMO_TENANT_ID}`)
      .select('id,displayName')
      .get()) as Record<string, unknown>;

    expect(organization).toEqual({
      '@odata.context': `${graph.sim.url}/v1.0/$metadata#organization(id,displayName)/$entity`,
      id: DEMO_TENANT_ID,
      displayName: 'Contoso Practice',
    });
  });

  it("answers 404 Request_ResourceNotFound for another tenant's id", async () => {
    const err: unknown = await graph
      .client()
      .api('/organization/11111111-2222-3333-4444-555555555555')
      .get()
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(GraphError);
    expect((err as GraphError).statusCode).toBe(404);
    expect((err as GraphError).code).toBe('Request_ResourceNotFound');
  });
});

describe('an unseeded simulator', () => {
  it('still has an organization, and no users', async () => {
    const bare = await trust(await startGraphSim());
    try {
      const organization = (await bare.client().api('/organization').get()) as PageCollection;
      const users = (await bare.client().api('/users').get()) as PageCollection;

      expect(organization.value).toHaveLength(1);
      expect(organization.value[0]).toMatchObject({ displayName: 'Simulated Tenant' });
      expect(users.value).toEqual([]);
    } finally {
      await bare.close();
    }
  });
});
