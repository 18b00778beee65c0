/**
 * How `blc up` puts a service on a port, against the real services: Azurite binds port 0 itself and
 * reports the port it got; a default port that is taken gives way to one the OS picks; a port the
 * user named that is taken is a PORT_IN_USE error naming the option, and nothing is left running.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAzurite, type LocalAzurite } from '../../cli/up/azurite';
import { PortInUseError, startOnPort } from '../../cli/up/ports';
import { startDataverseSim } from '../../sim/dataverse';

const ROOT = path.resolve(__dirname, '..', '..');
const started: { stop(): Promise<void> }[] = [];
let taken: net.Server;
let takenPort: number;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'blc-ports-'));
  taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  takenPort = (taken.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
  await new Promise((r) => taken.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

const azurite = (port: number): Promise<LocalAzurite> =>
  startLocalAzurite({ projectRoot: ROOT, port }).then((a) => {
    started.push(a);
    return a;
  });

async function isAzurite(port: number): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${port}/devstoreaccount1?comp=list`);
  await res.arrayBuffer();
  return (res.headers.get('server') ?? '').startsWith('Azurite-Blob');
}

describe('blc up ports', () => {
  it('starts Azurite on port 0 and reads back the port the OS bound', async () => {
    const a = await azurite(0);
    expect(a.port).toBeGreaterThan(0);
    expect(a.connectionString).toContain(`BlobEndpoint=http://127.0.0.1:${a.port}/`);
    expect(await isAzurite(a.port)).toBe(true);
  });

  it('moves a service off a taken default port to one the OS picks', async () => {
    const a = await startOnPort('Azurite', '--azurite-port', { port: takenPort, orAnyFree: true }, azurite);
    expect(a.port).not.toBe(takenPort);
    expect(await isAzurite(a.port)).toBe(true);

    const dataFile = path.join(dir, 'dataverse.sqlite');
    const sim = await startOnPort(
      'The Dataverse simulator',
      '--dataverse-port',
      { port: takenPort, orAnyFree: true },
      (port) => startDataverseSim({ port, dataFile, seed: 'demo' }),
    );
    started.push({ stop: () => sim.close() });
    expect(new URL(sim.url).port).not.toBe(String(takenPort));
    const res = await fetch(`${sim.apiUrl}/contacts?$select=fullname`, {
      headers: { Authorization: 'Bearer local' },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { value: unknown[] }).value.length).toBeGreaterThan(0);
  });

  it('refuses a taken port the user named, naming the option', async () => {
    const named: [string, string, (port: number) => Promise<unknown>][] = [
      ['Azurite', '--azurite-port', azurite],
      [
        'The Dataverse simulator',
        '--dataverse-port',
        (port) => startDataverseSim({ port, dataFile: path.join(dir, 'named.sqlite') }),
      ],
    ];
    for (const [what, option, start] of named) {
      const err = await startOnPort(what, option, { port: takenPort, orAnyFree: false }, start).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(PortInUseError);
      expect(err).toMatchObject({
        code: 'PORT_IN_USE',
        message: `${what} cannot listen on port ${takenPort}: it is in use; choose another with ${option} (0 = any free port)`,
      });
    }
    // The simulator that could not listen let go of its data file (SQLite drops the WAL on close).
    expect(fs.existsSync(path.join(dir, 'named.sqlite'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'named.sqlite-wal'))).toBe(false);
  });
});
