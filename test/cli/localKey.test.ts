/**
 * How blc finds the key of an app on this machine when none is given: from the folder it runs in
 * (local.settings.json Keys, else the key the host generated in .data/host or .data), as the host
 * itself picks its key, and never for an app elsewhere. A small stand-in app records the key each
 * request carried.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'blc-key-'));
let server: http.Server;
let port = 0;
const received: (string | undefined)[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    received.push(req.headers['x-functions-key'] as string | undefined);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ name: 'stand-in', version: '1.0.0' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A folder with the given files (path → JSON content). */
function folder(name: string, files: Record<string, unknown>): string {
  const dir = path.join(tmp, name);
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), JSON.stringify(content));
  }
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Runs `blc version` against the stand-in from `cwd` and answers the key it sent. */
function keySent(cwd: string, url: string, env: Record<string, string> = {}): Promise<string | undefined> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!('BLC_KEY' in env)) delete childEnv.BLC_KEY;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'blc.js'), 'version', '--url', url], {
      cwd,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`blc exited ${code}: ${err}`));
      else resolve(received.at(-1));
    });
  });
}

const local = (): string => `http://localhost:${port}`;

describe('the key of a local app', () => {
  it('is the one the host generated in .data/host (blc up), else in .data (blc serve)', async () => {
    const up = folder('up', { '.data/host/keys.json': { default: 'key-of-up' } });
    expect(await keySent(up, local())).toBe('key-of-up');
    const serve = folder('serve', { '.data/keys.json': { default: 'key-of-serve' } });
    expect(await keySent(serve, `http://127.0.0.1:${port}`)).toBe('key-of-serve');
  });

  it("prefers local.settings.json's Keys, as the host does", async () => {
    const both = folder('both', {
      'local.settings.json': { Keys: { default: 'configured-key' } },
      '.data/host/keys.json': { default: 'generated-key' },
    });
    expect(await keySent(both, local())).toBe('configured-key');
  });

  it('gives way to --key and BLC_KEY', async () => {
    const up = folder('given', { '.data/host/keys.json': { default: 'key-of-up' } });
    expect(await keySent(up, local(), { BLC_KEY: 'from-env' })).toBe('from-env');
  });

  it('gives way to a key in the URL (?code=), which a header would override', async () => {
    const up = folder('coded', { '.data/host/keys.json': { default: 'key-of-up' } });
    expect(await keySent(up, `${local()}/?code=chosen-key`)).toBeUndefined();
  });

  const outside = Object.values(os.networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  it.skipIf(!outside)('is not sent to an address that is not loopback', async () => {
    const up = folder('remote', { '.data/host/keys.json': { default: 'key-of-up' } });
    expect(await keySent(up, `http://${outside}:${port}`)).toBeUndefined();
  });
});
