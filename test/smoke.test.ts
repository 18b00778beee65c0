import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunningHost, startHost } from '../host/host';

let host: RunningHost;
beforeAll(async () => {
  host = await startHost({ appDir: 'test/apps/patterns', port: 0, memory: true, quiet: true });
});
afterAll(async () => host?.close());

describe('smoke', () => {
  it('runs a chaining orchestration started over HTTP', async () => {
    const res = await fetch(`${host.url}/api/orchestrators/chaining`, { method: 'POST', body: '' });
    expect(res.status).toBe(202);
    const payload = (await res.json()) as { id: string; statusQueryGetUri: string };
    let status: { runtimeStatus: string; output: unknown } | undefined;
    for (let i = 0; i < 100; i++) {
      const s = await fetch(payload.statusQueryGetUri);
      status = (await s.json()) as typeof status;
      if (status?.runtimeStatus === 'Completed' || status?.runtimeStatus === 'Failed') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(status).toMatchObject({
      runtimeStatus: 'Completed',
      output: ['Hello Tokyo!', 'Hello Seattle!', 'Hello London!'],
    });
  });
});
