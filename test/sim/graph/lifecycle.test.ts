import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import type { PageCollection } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphDataFileError, startGraphSim } from '../../../sim/graph';
import { trust, type TrustedSim } from './support';

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'graph-sim-life-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const message = { subject: 'Invoice', toRecipients: [{ emailAddress: { address: 'client@mail.example' } }] };

describe('a data file', () => {
  it('carries the directory and the outbox across a restart', async () => {
    const dataFile = join(scratch, 'restart', 'graph.json');
    const first = await trust(await startGraphSim({ dataFile, seed: 'demo' }));
    await first.client().api('/users/lena.novak@contoso-practice.example/sendMail').post({ message });
    await first.close();

    // No seed the second time: everything comes from the file.
    const second = await trust(await startGraphSim({ dataFile }));
    try {
      const users = (await second.client().api('/users').select('id').get()) as PageCollection;
      expect(users.value).toHaveLength(7);
      expect(second.sim.outbox().map((m) => [m.sender.userPrincipalName, m.message.subject])).toEqual([
        ['lena.novak@contoso-practice.example', 'Invoice'],
      ]);
    } finally {
      await second.close();
    }
  });

  it('may be written by hand with only the properties that matter; the rest are served as null', async () => {
    const dataFile = join(scratch, 'hand.json');
    writeFileSync(
      dataFile,
      JSON.stringify({
        users: [{ id: 'u-1', userPrincipalName: 'kim@practice.example', displayName: 'Kim' }],
      }),
    );
    const graph = await trust(await startGraphSim({ dataFile }));
    try {
      const kim = (await graph.client().api('/users/kim@practice.example').get()) as Record<string, unknown>;

      expect(kim).toMatchObject({
        id: 'u-1',
        displayName: 'Kim',
        mail: null,
        jobTitle: null,
        businessPhones: [],
      });
      expect(((await graph.client().api('/organization').get()) as PageCollection).value).toHaveLength(1);
    } finally {
      await graph.close();
    }
  });

  it('that cannot be read stops the start with GRAPH_SIM_DATA_FILE_INVALID, naming the file and the problem', async () => {
    const dataFile = join(scratch, 'broken.json');
    writeFileSync(dataFile, JSON.stringify({ users: [{ displayName: 'No id' }] }));

    const err: unknown = await startGraphSim({ dataFile }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(GraphDataFileError);
    expect((err as GraphDataFileError).code).toBe('GRAPH_SIM_DATA_FILE_INVALID');
    expect((err as Error).message).toContain(dataFile);
    expect((err as Error).message).toContain('users[0].id must be a non-empty string');
    expect(JSON.parse(readFileSync(dataFile, 'utf8'))).toEqual({ users: [{ displayName: 'No id' }] });
  });
});

describe('starting and stopping', () => {
  it('reports a port already in use with GRAPH_SIM_PORT_IN_USE', async () => {
    const taken = await startGraphSim();
    try {
      const err: unknown = await startGraphSim({ port: taken.port }).catch((e: unknown) => e);

      expect(err).toMatchObject({ code: 'GRAPH_SIM_PORT_IN_USE' });
      expect((err as Error).message).toContain(String(taken.port));
    } finally {
      await taken.close();
    }
  });

  it('closes promptly while a client holds a keep-alive connection, and frees the port', async () => {
    const graph = await trust(await startGraphSim({ seed: 'demo' }));
    await graph.client().api('/organization').get(); // Leaves a pooled connection open.
    const started = Date.now();
    await graph.sim.close();

    expect(Date.now() - started).toBeLessThan(1000);
    const again = await startGraphSim({ port: graph.sim.port });
    await again.close();
    await graph.dispatcher.close();
  });
});

describe('bad requests get Graph’s status and error body, never a crash', () => {
  let graph: TrustedSim;
  beforeAll(async () => {
    graph = await trust(await startGraphSim({ seed: 'demo' }));
  });
  afterAll(async () => graph?.close());

  const auth = { Authorization: 'Bearer x' };
  const cases: Array<[string, string, RequestInit, number, string, string?]> = [
    ['an unknown version', '/v2.0/users', {}, 400, 'BadRequest', 'Invalid version: v2.0'],
    ['the bare root', '/', {}, 400, 'BadRequest'],
    [
      '/me under app-only access',
      '/v1.0/me',
      {},
      400,
      'BadRequest',
      '/me request is only valid with delegated authentication flow.',
    ],
    [
      'an unknown navigation',
      '/v1.0/users/x/manager',
      {},
      400,
      'BadRequest',
      "Resource not found for the segment 'manager'.",
    ],
    ['a method the resource lacks', '/v1.0/users', { method: 'DELETE' }, 405, 'Request_BadRequest'],
    [
      'an update of the organization',
      '/v1.0/organization',
      { method: 'PATCH', body: '{}' },
      405,
      'Request_BadRequest',
    ],
    ['a broken percent-escape', '/v1.0/users/%E0%A4%A', {}, 400, 'BadRequest'],
    ['a $top that is not a number', '/v1.0/users?$top=ten', {}, 400, 'BadRequest'],
    ['a repeated query option', '/v1.0/users?$top=1&$top=2', {}, 400, 'BadRequest'],
    // Checked before the lookup, as in Graph: this user does not exist, yet the answer is 400, not 404.
    ['$top on a single user', '/v1.0/users/nobody?$top=1', {}, 400, 'BadRequest'],
    [
      'a 5 MB sendMail body',
      '/v1.0/users/lena.novak@contoso-practice.example/sendMail',
      { method: 'POST', body: 'x'.repeat(5 * 1024 * 1024), headers: { 'Content-Type': 'application/json' } },
      413,
      'RequestEntityTooLarge',
    ],
  ];

  it.each(cases)('%s', async (_name, path, init, status, code, message) => {
    const res = await graph.fetch(path, { ...init, headers: { ...auth, ...(init.headers as object) } });
    const body = (await res.json()) as { error: { code: string; message: string; innerError: object } };

    expect(res.status).toBe(status);
    expect(body.error.code).toBe(code);
    if (message) expect(body.error.message).toBe(message);
    expect(body.error.innerError).toHaveProperty('request-id', res.headers.get('request-id'));
  });

  it('shrugs off bytes that are not HTTP at all and keeps serving', async () => {
    const url = new URL(graph.sim.url);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: url.hostname, port: Number(url.port), ca: graph.sim.caCertPem }, () => {
        socket.write('NOT HTTP AT ALL\r\n\r\n');
      });
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });

    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect((await graph.fetch('/v1.0/organization', { headers: auth })).status).toBe(200);
  });
});
