/**
 * The simulator's request counter: every Web API request counts once, a $batch as one whatever it
 * holds, admin routes not at all; read in process (requestCount) or over HTTP (GET /_sim/requests).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataverseClient } from '../../../lib/dataverse';
import { startDataverseSim, type DataverseSim } from '../../../sim/dataverse';

let sim: DataverseSim;
let client: DataverseClient;
beforeAll(async () => {
  sim = await startDataverseSim({});
  client = new DataverseClient(sim.url, {
    getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 3600_000 }),
  });
});
afterAll(async () => sim?.close());

async function overHttp(): Promise<{ total: number; byMethod: Record<string, number> }> {
  return (await (await fetch(`${sim.url}/_sim/requests`)).json()) as {
    total: number;
    byMethod: Record<string, number>;
  };
}

describe('the request counter', () => {
  it('counts each Web API request once, a $batch as one, and no admin route', async () => {
    const start = sim.requestCount();
    const a = await client.create('contacts', { firstname: 'Count', lastname: 'One' });
    await client.retrieve('contacts', String(a.id));
    const batch = await client.executeBatch({
      reads: [{ entitySet: 'contacts', key: String(a.id) }],
      changeset: [
        { kind: 'create', entitySet: 'contacts', data: { lastname: 'Two' } },
        { kind: 'update', entitySet: 'contacts', key: String(a.id), data: { jobtitle: 'x' } },
      ],
    });
    expect(batch.changeset?.outcome).toBe('committed');
    await fetch(`${sim.url}/_sim/health`);
    expect(sim.requestCount() - start).toBe(3);
    const seen = await overHttp();
    expect(seen.total).toBe(sim.requestCount());
    expect(seen.byMethod.POST).toBeGreaterThanOrEqual(2);
    // A request without a token is still a request Dataverse received.
    await fetch(`${sim.apiUrl}/contacts`);
    expect(sim.requestCount() - start).toBe(4);
  });
});
