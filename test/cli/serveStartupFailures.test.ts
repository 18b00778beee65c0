/**
 * `blc serve` (and `blc up`, which runs it) stops at once, exit code 1, with one line on stderr that
 * names the file (and the key) when the app's settings or the data folder cannot be used: no stack
 * trace, and no host that starts and then never runs work or answers 500 to every call.
 *
 * Uses the built `dist/` (run `npm run build` first; `npm test` does).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteBackend } from '../../host/durable/sqliteBackend';
import { BLC, PROJECT_ROOT, blcEnv, type BlcRun } from '../support/blc';

/** A refusal comes in well under this; a host that started instead is stopped here and fails the test. */
const DEADLINE_MS = 8_000;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'blc-refuse-'));
  dirs.push(dir);
  return dir;
}

/** An app with no functions and the given host.json / local.settings.json. */
function app(files: { host?: unknown; local?: unknown } = {}): string {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'empty-app', main: 'index.js' }));
  fs.writeFileSync(path.join(dir, 'index.js'), '');
  if (files.host !== undefined) fs.writeFileSync(path.join(dir, 'host.json'), JSON.stringify(files.host));
  if (files.local !== undefined)
    fs.writeFileSync(path.join(dir, 'local.settings.json'), JSON.stringify(files.local));
  return dir;
}

/** Runs blc; one that is still running at `deadlineMs` is killed and answers `timedOut`. */
function blc(
  args: string[],
  { deadlineMs = DEADLINE_MS, cwd = PROJECT_ROOT }: { deadlineMs?: number; cwd?: string } = {},
): Promise<BlcRun & { timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BLC, ...args], {
      cwd,
      env: blcEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, deadlineMs);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err, timedOut });
    });
  });
}

/** The run refused to start: exit 1 in time, and exactly one stderr line, which is returned. */
function refusedLine(run: BlcRun & { timedOut: boolean }): string {
  expect(run.timedOut, `still running after ${DEADLINE_MS} ms; stdout: ${run.out}`).toBe(false);
  expect(run.code).toBe(1);
  expect(run.out).not.toMatch(/Host started on/);
  const lines = run.err.split('\n').filter((l) => l.trim() !== '');
  expect(lines, run.err).toHaveLength(1);
  return lines[0];
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('blc serve refuses settings the host cannot run with', () => {
  it('host.json maxConcurrentActivityFunctions 0: one line naming the file and the key', async () => {
    const dir = app({
      host: { version: '2.0', extensions: { durableTask: { maxConcurrentActivityFunctions: 0 } } },
    });
    const line = refusedLine(await blc(['serve', '--app', dir, '--memory', '--port', '0']));
    expect(line).toBe(
      `blc: HOST_CONFIG_INVALID: ${path.join(dir, 'host.json')}: extensions.durableTask.maxConcurrentActivityFunctions is 0; it must be a whole number of at least 1.`,
    );
  });

  it('local.settings.json Host.LocalHttpPort "abc": one line naming the file and the key', async () => {
    const dir = app({ local: { Host: { LocalHttpPort: 'abc' } } });
    // In the app's folder: a host that took "abc" for a Unix socket path leaves it there, not here.
    const line = refusedLine(await blc(['serve', '--app', dir, '--memory'], { cwd: dir }));
    expect(line).toMatch(
      new RegExp(
        `^blc: HOST_CONFIG_INVALID: ${escape(path.join(dir, 'local.settings.json'))}: Host\\.LocalHttpPort is "abc"; it must be a whole number from 0 to 65535`,
      ),
    );
  });

  it('host.json routePrefix 5: one line instead of a TypeError', async () => {
    const dir = app({ host: { extensions: { http: { routePrefix: 5 } } } });
    const line = refusedLine(await blc(['serve', '--app', dir, '--memory', '--port', '0']));
    expect(line).toMatch(
      /^blc: HOST_CONFIG_INVALID: .*host\.json: extensions\.http\.routePrefix is 5; it must be a string\.$/,
    );
  });
});

describe('blc serve refuses a port it cannot listen on', () => {
  it('names the address and exits instead of hanging with its store open', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as AddressInfo).port;
      const line = refusedLine(await blc(['serve', '--app', app(), '--memory', '--port', String(port)]));
      expect(line).toMatch(new RegExp(`HOST_PORT_UNAVAILABLE: .*127\\.0\\.0\\.1:${port}`));
      expect(line).toMatch(/choose another port with --port N \(--port 0: any free port\)\.$/);
    } finally {
      taken.close();
    }
  });
});

describe('blc serve refuses a data folder it cannot use', () => {
  it('a data folder that is a regular file (unwritable, even for root)', async () => {
    const dataDir = path.join(tempDir(), 'data');
    fs.writeFileSync(dataDir, 'not a folder');
    const line = refusedLine(await blc(['serve', '--app', app(), '--data', dataDir, '--port', '0']));
    expect(line).toMatch(
      new RegExp(`^blc: HOST_DATA_UNWRITABLE: ${escape(dataDir)} cannot be used as the host's data folder`),
    );
  });

  it.each([
    ['a folder', (file: string) => fs.mkdirSync(file), /cannot be read \(EISDIR/],
    ['not JSON', (file: string) => fs.writeFileSync(file, '{"master": '), /is not valid JSON/],
    ['an array', (file: string) => fs.writeFileSync(file, '["k"]'), /must hold a JSON object of key strings/],
    [
      'an empty key',
      (file: string) => fs.writeFileSync(file, '{"master": ""}'),
      /: master must be a non-empty string/,
    ],
    [
      'a number key',
      (file: string) => fs.writeFileSync(file, '{"default": 7}'),
      /: default must be a non-empty string/,
    ],
  ])('a keys.json that is %s: named, and left as it was', async (_, make, detail) => {
    const dataDir = tempDir();
    const file = path.join(dataDir, 'keys.json');
    make(file);
    const before = fs.statSync(file).isFile() ? fs.readFileSync(file, 'utf8') : undefined;
    const line = refusedLine(await blc(['serve', '--app', app(), '--data', dataDir, '--port', '0']));
    expect(line).toMatch(new RegExp(`^blc: HOST_KEYS_UNREADABLE: ${escape(file)}`));
    expect(line).toMatch(detail);
    expect(line).toMatch(/delete it to have new keys generated\.$/);
    if (before !== undefined) expect(fs.readFileSync(file, 'utf8')).toBe(before);
  });

  it('a durable.sqlite that is not a database', async () => {
    const dataDir = tempDir();
    const file = path.join(dataDir, 'durable.sqlite');
    fs.writeFileSync(file, 'this is not a database, just a file with that name\n'.repeat(100));
    const line = refusedLine(await blc(['serve', '--app', app(), '--data', dataDir, '--port', '0']));
    expect(line).toMatch(
      new RegExp(`^blc: HOST_STORE_CORRUPT: ${escape(file)} is not a usable SQLite database`),
    );
  });

  it('a durable.sqlite whose pages are damaged (it used to start and answer 500 to every call)', async () => {
    const dataDir = tempDir();
    const file = path.join(dataDir, 'durable.sqlite');
    new SqliteBackend(file).close();
    damageAllPagesButTheFirst(file);
    const line = refusedLine(await blc(['serve', '--app', app(), '--data', dataDir, '--port', '0']));
    expect(line).toMatch(
      new RegExp(`^blc: HOST_STORE_CORRUPT: ${escape(file)} is damaged \\(SQLite quick_check: `),
    );
    expect(line).toMatch(/move it away to start with empty history, or restore a backup\.$/);
  });
});

describe('blc up', () => {
  it('passes on the host’s one line when the app host refuses to start, and exits 1', async () => {
    const dataDir = tempDir();
    const keysFile = path.join(dataDir, 'host', 'keys.json');
    fs.mkdirSync(keysFile, { recursive: true });
    const run = await blc(['up', '--port', '0', '--data', dataDir], { deadlineMs: 60_000 });
    expect(run.timedOut, run.out + run.err).toBe(false);
    expect(run.code).toBe(1);
    const lines = run.err.split('\n').filter((l) => l.trim() !== '');
    expect(lines, run.err).toEqual([
      expect.stringMatching(new RegExp(`^blc up: HOST_KEYS_UNREADABLE: ${escape(keysFile)} cannot be read`)),
    ]);
  }, 90_000);
});

/** Page 1 holds the schema, so the file still opens; every page after it is overwritten. */
function damageAllPagesButTheFirst(file: string): void {
  const bytes = fs.readFileSync(file);
  const pageSize = bytes.readUInt16BE(16);
  expect(bytes.length).toBeGreaterThan(pageSize);
  const fd = fs.openSync(file, 'r+');
  try {
    for (let at = pageSize; at < bytes.length; at += pageSize)
      fs.writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, at);
  } finally {
    fs.closeSync(fd);
  }
}
