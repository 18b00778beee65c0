import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeGraphSim, startGraphSim } from '../../../sim/graph';
import { trust, type TrustedSim } from './support';

const run = promisify(execFile);
const SERVER_AUTH_OID = '1.3.6.1.5.5.7.3.1';

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'graph-sim-trust-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function withSim<T>(
  options: Parameters<typeof startGraphSim>[0],
  use: (graph: TrustedSim) => Promise<T>,
): Promise<T> {
  const graph = await trust(await startGraphSim(options));
  try {
    return await use(graph);
  } finally {
    await graph.close();
  }
}

describe('the simulator certificate', () => {
  it('names DNS:localhost, IP:127.0.0.1 and IP:::1, for TLS server authentication', async () => {
    await withSim({}, async ({ sim }) => {
      const cert = new X509Certificate(sim.caCertPem);

      expect(cert.subjectAltName?.split(', ')).toEqual(
        expect.arrayContaining(['DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1']),
      );
      expect(cert.checkHost('localhost')).toBe('localhost');
      expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
      expect(cert.keyUsage).toContain(SERVER_AUTH_OID);
      expect(sim.url).toMatch(/^https:\/\/localhost:\d+$/);
    });
  });

  it('is refused by a client that has not been told to trust it', async () => {
    await withSim({}, async ({ sim }) => {
      const err = (await fetch(`${sim.url}/v1.0/organization`).catch((e: unknown) => e)) as Error & {
        cause?: { code?: string };
      };

      expect(err).toBeInstanceOf(TypeError);
      expect(err.cause?.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    });
  });

  it('serves https://localhost and https://127.0.0.1 alike to a client that trusts it', async () => {
    await withSim({}, async (graph) => {
      const byName = await fetch(`${graph.sim.url}/v1.0/organization`, {
        dispatcher: graph.dispatcher,
      } as RequestInit);
      const byAddress = await fetch(`https://127.0.0.1:${graph.sim.port}/v1.0/organization`, {
        dispatcher: graph.dispatcher,
      } as RequestInit);

      expect([byName.status, byAddress.status]).toEqual([401, 401]);
    });
  });

  it('lets a separate Node process use the Graph client once NODE_EXTRA_CA_CERTS names the CA file, as an app would', async () => {
    const caCertFile = join(scratch, 'app', 'graph-ca.pem');
    await withSim({ seed: 'demo', caCertFile }, async ({ sim }) => {
      const app = `
        const { Client } = require('@microsoft/microsoft-graph-client');
        const client = Client.init({
          authProvider: (done) => done(null, 'app-token'),
          baseUrl: process.argv[1],
          customHosts: new Set(['localhost']),
        });
        client.api('/users').select('displayName').top(1).get().then(
          (page) => console.log(JSON.stringify(page.value)),
          (err) => { console.error(err.code || err.message); process.exit(1); },
        );`;

      const { stdout } = await run(process.execPath, ['-e', app, sim.url], {
        cwd: process.cwd(),
        env: { ...process.env, NODE_EXTRA_CA_CERTS: caCertFile },
      });

      expect(sim.caCertFile).toBe(caCertFile);
      expect(readFileSync(caCertFile, 'utf8')).toBe(sim.caCertPem);
      expect(describeGraphSim(sim)).toContain(`NODE_EXTRA_CA_CERTS=${caCertFile}`);
      expect(JSON.parse(stdout)).toEqual([{ displayName: 'Maren Lindqvist' }]);
    });
  });

  it('is cached in certDir as graph-sim-ca.pem and served again by the next simulator', async () => {
    const certDir = join(scratch, 'cached');
    const first = await withSim({ certDir }, async ({ sim }) => sim.caCertPem);
    const second = await withSim({ certDir }, async ({ sim }) => {
      expect(sim.caCertFile).toBe(join(certDir, 'graph-sim-ca.pem'));
      return sim.caCertPem;
    });

    expect(second).toBe(first);
    expect(readFileSync(join(certDir, 'graph-sim-ca.pem'), 'utf8')).toBe(first);
  });

  it('replaces a cached certificate that is damaged', async () => {
    const certDir = join(scratch, 'damaged');
    const original = await withSim({ certDir }, async ({ sim }) => sim.caCertPem);
    writeFileSync(join(certDir, 'graph-sim-ca.pem'), '-----BEGIN CERTIFICATE-----\nnot a certificate\n');

    await withSim({ certDir }, async (graph) => {
      expect(graph.sim.caCertPem).not.toBe(original);
      expect((await graph.fetch('/v1.0/organization')).status).toBe(401);
    });
  });

  it('is generated once per process when no directory is given', async () => {
    const a = await startGraphSim();
    const b = await startGraphSim();
    try {
      expect(b.caCertPem).toBe(a.caCertPem);
      expect(a.caCertFile).toBeUndefined();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
