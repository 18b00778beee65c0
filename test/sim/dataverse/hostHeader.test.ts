/**
 * DNS rebinding against the Dataverse simulator: a page on a name that resolves to 127.0.0.1 sends
 * that name in Host, and the simulator (on loopback) answers it with 400 before reading the body, so
 * such a page can neither read nor change its records. Loopback names are served as before.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDataverseSim, type DataverseSim } from '../../../sim/dataverse';

let sim: DataverseSim;
beforeAll(async () => {
  sim = await startDataverseSim({});
});
afterAll(async () => sim?.close());

function request(
  host: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const url = new URL(sim.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: {
          Host: host,
          Authorization: 'Bearer any',
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }),
        );
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe('the Host header', () => {
  it('of a rebinding name is refused: nothing is read, created or counted', async () => {
    const before = sim.requestCount();
    const read = await request(
      `rebind.attacker.example:${new URL(sim.url).port}`,
      'GET',
      '/api/data/v9.2/contacts',
    );
    expect(read).toMatchObject({ status: 400, json: { code: 'INVALID_HOST' } });
    const write = await request('rebind.attacker.example', 'POST', '/api/data/v9.2/contacts', {
      lastname: 'Planted',
    });
    expect(write.status).toBe(400);
    const admin = await request('rebind.attacker.example', 'GET', '/_sim/requests');
    expect(admin.status).toBe(400);
    expect(sim.requestCount()).toBe(before);
    const planted = await request(
      'localhost',
      'GET',
      "/api/data/v9.2/contacts?$filter=lastname eq 'Planted'".replace(/ /g, '%20'),
    );
    expect(planted).toMatchObject({ status: 200, json: { value: [] } });
  });

  it('of a loopback name is served', async () => {
    const port = new URL(sim.url).port;
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'app.localhost'])
      expect((await request(host, 'GET', '/api/data/v9.2/contacts?$top=1')).status).toBe(200);
  });
});
