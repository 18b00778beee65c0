import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppUnderTest } from '../support/appHost';
import { startAppWithDataverse } from '../support/appHost';
import { apiOf, type Api } from './client';

let app: AppUnderTest;
let api: Api;
/** A rollback point in the rollback container: what a traversal through another route would read. */
let pointId: string;
const MARKER = `traversal-target-${Date.now()}`;

beforeAll(async () => {
  app = await startAppWithDataverse();
  api = apiOf(app);
  const contact = await app.dataverse.create('contacts', { firstname: 'Target', lastname: 'Traversal' });
  const res = await api.call('POST', 'orchestrators/dataverseChange', {
    body: {
      description: MARKER,
      operations: [{ op: 'update', table: 'contacts', id: String(contact.id), data: { jobtitle: 'T' } }],
    },
  });
  expect(res.status).toBe(202);
  const done = await api.waitFor(String(res.json.id));
  pointId = String((done.json.output as { rollbackPointId: string }).rollbackPointId);
}, 60_000);
afterAll(async () => app?.close());

interface RawAnswer {
  status: number;
  text: string;
  json: { code?: string; message?: string; details?: { field: string }[] };
}

/** Sends `path` exactly as written (fetch would normalise some of these paths before sending). */
function raw(method: string, path: string): Promise<RawAnswer> {
  const url = new URL(app.host.url);
  const body = method === 'POST' ? '{}' : undefined;
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path: `/api/${path}`,
        headers: {
          'x-functions-key': api.key,
          ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: RawAnswer['json'] = {};
          try {
            json = JSON.parse(text) as RawAnswer['json'];
          } catch {
            // not JSON: the assertions say so
          }
          resolve({ status: res.statusCode ?? 0, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Id segments as they travel in a URL, each one a way to leave the route's own documents. */
function variants(): Record<string, string> {
  const target = `${String(process.env.LIFECOCKPIT_ROLLBACK_CONTAINER)}/points/${pointId}`;
  const enc = (s: string): string => s.replace(/\//g, '%2F');
  return {
    'the reported traversal': enc(`../../${target}`),
    'percent-encoded dots': enc(`%2e%2e/%2e%2e/${target}`).replace(/\//g, '%2F'),
    'double-encoded dots and slash': `%252e%252e%252F%252e%252e%252F${enc(target)}`,
    backslashes: `..%5C..%5C${enc(target)}`,
    'a NUL': `${pointId}%00`,
    'a bidi override': `%E2%80%AE${pointId}`,
    'a zero-width space': `${pointId}%E2%80%8B`,
    'overlong UTF-8 dots and slash': `%C0%AE%C0%AE%C0%AF${enc(target)}`,
    'an overlong id': 'a'.repeat(301),
  };
}

const ROUTES: [method: string, path: (id: string) => string][] = [
  ['GET', (id) => `deployments/${id}`],
  ['POST', (id) => `deployments/${id}/approve`],
  ['POST', (id) => `deployments/${id}/reject`],
  ['POST', (id) => `deployments/${id}/rollback`],
  ['GET', (id) => `rollback-points/${id}`],
  ['POST', (id) => `rollback-points/${id}/plan`],
  ['POST', (id) => `rollback-points/${id}/execute`],
  ['GET', (id) => `instances/${id}`],
  ['DELETE', (id) => `instances/${id}`],
  ['POST', (id) => `instances/${id}/terminate`],
  ['POST', (id) => `instances/${id}/suspend`],
  ['POST', (id) => `instances/${id}/resume`],
  ['POST', (id) => `instances/${id}/events/approval`],
  ['POST', (id) => `orchestrators/configChange/${id}`],
];

describe('ids in the path', () => {
  it('the target exists: the rollback point is readable through its own route', async () => {
    const res = await raw('GET', `rollback-points/${pointId}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain(MARKER);
  });

  it('answers 400 INVALID_ID, naming the field, for every traversal variant on every route that takes an id', async () => {
    for (const [method, path] of ROUTES) {
      for (const [what, id] of Object.entries(variants())) {
        const res = await raw(method, path(id));
        const where = `${method} ${path('{id}')} with ${what}`;
        expect(res.status, where).toBe(400);
        expect(res.json.code, where).toBe('INVALID_ID');
        expect(res.json.message, where).toMatch(/must be 1 to \d+ characters/);
        expect(res.json.details?.[0]?.field, where).toMatch(/^(id|instanceId)$/);
        expect(res.text, where).not.toContain(MARKER);
      }
    }
  });

  it('never serves another document for a bare dot segment, however it is written', async () => {
    // A bare `.` or `..` segment is resolved by URL handling before routing (GET deployments/. is the
    // list); what matters is that it never leads a route to another kind of document, nor to a 500.
    for (const [method, path] of ROUTES) {
      for (const id of ['..', '%2e%2e', '.%2E', '.']) {
        const res = await raw(method, path(id));
        const where = `${method} ${path(id)}`;
        expect(res.status, where).toBeLessThan(500);
        if (!path(id).startsWith('rollback-points')) expect(res.text, where).not.toContain(MARKER);
      }
    }
  });

  it('still finds what a good id names', async () => {
    expect((await raw('GET', `deployments/deploy-never-made`)).json.code).toBe('DEPLOYMENT_NOT_FOUND');
    expect((await raw('GET', `instances/no-such-instance`)).json.code).toBe('NOT_FOUND');
  });
});

describe('ids in a body', () => {
  it('answers 400 for a rollback point id that is not one (the rollback orchestration input)', async () => {
    const res = await api.call('POST', 'orchestrators/rollback', {
      body: { pointId: `../../${String(process.env.LIFECOCKPIT_ROLLBACK_CONTAINER)}/points/${pointId}` },
    });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: 'INVALID_INPUT', details: [{ field: 'pointId' }] });
  });
});
