/**
 * `blc serve` with an app that enabled HTTP streams: it streams over HTTP as a client sees it, and
 * stops on SIGTERM although the app's programming model keeps an HTTP server of its own open.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllHosts, spawnHost } from '../support/childHost';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'blc-streams-'));
afterAll(async () => {
  await killAllHosts();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('blc serve with an app that enabled HTTP streams', () => {
  it('streams an answer, then exits 0 on SIGTERM', async () => {
    const host = await spawnHost({ appDir: 'test/apps/streams', dataDir });
    const res = await fetch(`${host.url}/api/ticks?count=3&ms=50`);
    expect(res.status).toBe(200);
    expect((await res.text()).trim().split('\n')).toHaveLength(3);
    const stopped = Date.now();
    expect(await host.stop()).toBe(0);
    expect(Date.now() - stopped).toBeLessThan(10_000);
  });
});
