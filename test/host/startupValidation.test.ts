/**
 * The host refuses to start on settings or data it cannot run with, quickly and with one line that
 * names the file (and the key): a host that started anyway would take work and never run it, listen
 * somewhere nobody asked, or answer 500 to every call. These run in this process, where only one
 * app can ever load (one process, one Functions worker): every refusal here comes before the app
 * loads. The data folder's refusals, which come after it, and the CLI's one line are in
 * test/cli/serveStartupFailures.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startHost, type HostOptions } from '../../host/host';
import { HostStartupError } from '../../host/startupError';

/** Far below the test timeout: a start that hangs instead of refusing fails here. */
const REFUSE_WITHIN_MS = 5_000;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** An app with no functions, and the given host.json / local.settings.json (objects are written as JSON). */
function app(files: { host?: unknown; local?: unknown } = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'blc-startup-'));
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'empty-app', main: 'index.js' }));
  fs.writeFileSync(path.join(dir, 'index.js'), '');
  const write = (name: string, content: unknown): void =>
    fs.writeFileSync(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  if (files.host !== undefined) write('host.json', files.host);
  if (files.local !== undefined) write('local.settings.json', files.local);
  return dir;
}

/** What startHost threw; a host that starts instead is closed and fails the test. */
async function refusal(options: Partial<HostOptions> & { appDir: string }): Promise<HostStartupError> {
  const started = Date.now();
  let host;
  try {
    host = await Promise.race([
      startHost({ port: 0, memory: true, quiet: true, ...options }),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('startHost neither started nor refused')), REFUSE_WITHIN_MS),
      ),
    ]);
  } catch (err) {
    expect(Date.now() - started).toBeLessThan(REFUSE_WITHIN_MS);
    expect(err).toBeInstanceOf(HostStartupError);
    const refused = err as HostStartupError;
    expect(refused.message).not.toMatch(/\n/);
    return refused;
  }
  await host.close();
  throw new Error('startHost started a host it should have refused');
}

describe('host.json values the host cannot run with', () => {
  it.each([
    ['extensions.durableTask.maxConcurrentActivityFunctions', { maxConcurrentActivityFunctions: 0 }, /is 0;/],
    [
      'extensions.durableTask.maxConcurrentActivityFunctions',
      { maxConcurrentActivityFunctions: 'abc' },
      /"abc"/,
    ],
    [
      'extensions.durableTask.maxConcurrentOrchestratorFunctions',
      { maxConcurrentOrchestratorFunctions: -1 },
      /-1/,
    ],
    [
      'extensions.durableTask.maxConcurrentOrchestratorFunctions',
      { maxConcurrentOrchestratorFunctions: 2.5 },
      /2\.5/,
    ],
    ['extensions.durableTask.hubName', { hubName: 42 }, /is 42;/],
    ['extensions.durableTask.hubName', { hubName: 'my hub!' }, /letters and digits/],
    ['extensions.durableTask.extendedSessionsEnabled', { extendedSessionsEnabled: 'yes' }, /true or false/],
    ['extensions.durableTask.extendedSessionsMaxCount', { extendedSessionsMaxCount: -5 }, /at least 0/],
    [
      'extensions.durableTask.extendedSessionIdleTimeoutInSeconds',
      { extendedSessionIdleTimeoutInSeconds: '30' },
      /without quotes/,
    ],
  ])('refuses %s = %j', async (key, durableTask, detail) => {
    const dir = app({ host: { version: '2.0', extensions: { durableTask } } });
    const err = await refusal({ appDir: dir });
    expect(err.code).toBe('HOST_CONFIG_INVALID');
    expect(err.file).toBe(path.join(dir, 'host.json'));
    expect(err.message).toContain(`${path.join(dir, 'host.json')}: ${key} is `);
    expect(err.message).toMatch(detail);
  });

  it('refuses a routePrefix that is not a string (it used to die with a TypeError)', async () => {
    const dir = app({ host: { extensions: { http: { routePrefix: 5 } } } });
    const err = await refusal({ appDir: dir });
    expect(err.code).toBe('HOST_CONFIG_INVALID');
    expect(err.message).toBe(
      `${path.join(dir, 'host.json')}: extensions.http.routePrefix is 5; it must be a string.`,
    );
  });

  it.each([['00:00:00'], ['5 minutes'], ['00:61:00'], [300]])(
    'refuses functionTimeout %j, and says a TimeSpan or "-1" is allowed',
    async (functionTimeout) => {
      const err = await refusal({ appDir: app({ host: { functionTimeout } }) });
      expect(err.message).toMatch(
        /functionTimeout is .*; it must be a TimeSpan longer than zero .*"-1" for no limit/,
      );
    },
  );

  it('refuses a section that is not an object, and a file that is not JSON', async () => {
    expect((await refusal({ appDir: app({ host: { extensions: { durableTask: [] } } }) })).message).toMatch(
      /extensions\.durableTask is an array; it must be a JSON object\./,
    );
    const dir = app({ host: '{ "version": "2.0", ' });
    const err = await refusal({ appDir: dir });
    expect(err.message).toMatch(new RegExp(`^${escape(path.join(dir, 'host.json'))} is not valid JSON`));
  });

  it('still starts with valid values, and takes the defaults for absent ones', async () => {
    const host = await startHost({
      appDir: app({
        host: {
          functionTimeout: '-1',
          extensions: {
            http: { routePrefix: '' },
            durableTask: {
              hubName: 'GoodHub',
              maxConcurrentActivityFunctions: 1,
              extendedSessionsMaxCount: 0,
            },
          },
        },
        local: { Values: { A_NUMBER: 5, A_FLAG: true, UNSET: null }, Host: { LocalHttpPort: 7071 } },
      }),
      port: 0,
      memory: true,
      quiet: true,
    });
    try {
      expect(host.engine.hubName).toBe('GoodHub');
      expect(process.env.A_NUMBER).toBe('5');
      expect(process.env.A_FLAG).toBe('true');
      expect(process.env.UNSET).toBeUndefined();
    } finally {
      await host.close();
      for (const name of ['A_NUMBER', 'A_FLAG', 'UNSET']) delete process.env[name];
    }
  });
});

describe('local.settings.json values the host cannot run with', () => {
  it('refuses a LocalHttpPort that is not a port number (it used to listen on a Unix socket named abc)', async () => {
    const dir = app({ local: { Host: { LocalHttpPort: 'abc' } } });
    const err = await refusal({ appDir: dir, port: undefined });
    expect(err.code).toBe('HOST_CONFIG_INVALID');
    expect(err.file).toBe(path.join(dir, 'local.settings.json'));
    expect(err.message).toMatch(
      /local\.settings\.json: Host\.LocalHttpPort is "abc"; it must be a whole number from 0 to 65535/,
    );
    expect(fs.existsSync(path.join(process.cwd(), 'abc'))).toBe(false);
  });

  it('refuses a Values entry that is an object or an array, without echoing the value', async () => {
    const err = await refusal({ appDir: app({ local: { Values: { GRAPH_SECRET: { token: 's3cr3t' } } } }) });
    expect(err.message).toMatch(
      /Values\.GRAPH_SECRET is an object; it must be a string, number or boolean\./,
    );
    expect(err.message).not.toContain('s3cr3t');
  });

  it('refuses an empty or non-string Keys value, and writes no keys.json with it', async () => {
    const dir = app({ local: { Keys: { master: '' } } });
    const dataDir = path.join(dir, 'data');
    const err = await refusal({ appDir: dir, memory: false, dataDir });
    expect(err.code).toBe('HOST_CONFIG_INVALID');
    expect(err.message).toMatch(
      /local\.settings\.json: Keys\.master is an empty string; it must be a non-empty string/,
    );
    expect(fs.existsSync(path.join(dataDir, 'keys.json'))).toBe(false);

    const numeric = await refusal({ appDir: app({ local: { Keys: { default: 1234 } } }) });
    expect(numeric.message).toMatch(/Keys\.default is a number; it must be a non-empty string/);
    expect(numeric.message).not.toContain('1234');
  });
});

describe('HTTP settings the host cannot run with', () => {
  it('refuses a body limit that is not a whole number of bytes', async () => {
    const dir = app({ local: { Values: { LIFECOCKPIT_DURABLE_MAX_BODY_BYTES: '16MB' } } });
    const err = await refusal({ appDir: dir });
    expect(err.code).toBe('HOST_CONFIG_INVALID');
    expect(err.message).toMatch(
      /local\.settings\.json: Values\.LIFECOCKPIT_DURABLE_MAX_BODY_BYTES .*is "16MB"; it must be a whole number of bytes/,
    );
    delete process.env.LIFECOCKPIT_DURABLE_MAX_BODY_BYTES;
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
