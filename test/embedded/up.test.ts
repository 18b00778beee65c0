/**
 * `blc up`, the embedded default, run as a user runs it: one process that starts Azurite, both
 * simulators and the app host, and wires the simulator's webhook to the app. A new client created in
 * the Dataverse simulator is onboarded and welcomed by mail; a restart keeps the data without
 * registering the webhook twice; a configured service is used instead of its simulator (and shown
 * without its URL's secrets); SIGTERM
 * stops every process it started; each service listens on the port its option names (or one the OS
 * picks for 0), and a named port that is taken stops blc up.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..', '..');
const ENTRY =
  "require('./dist/cli/up.js').upCommand(process.argv.slice(1)).then((c) => { process.exitCode = c; })";

interface Up {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  urls: { api: string; dataverse: string; graph: string; outbox: string; ca: string; azurite: string };
}

const live = new Set<ChildProcess>();
const dirs: string[] = [];
afterAll(() => {
  for (const child of live) child.kill('SIGKILL');
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempData(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'blc-up-'));
  dirs.push(dir);
  return dir;
}

function spawnUp(dataDir: string, env: Record<string, string>, args: string[]): ChildProcess {
  const child = spawn(process.execPath, ['-e', ENTRY, '--', '--port', '0', '--data', dataDir, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  return child;
}

async function startUp(dataDir: string, env: Record<string, string> = {}, args: string[] = []): Promise<Up> {
  const child = spawnUp(dataDir, env, args);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    }),
  );
  const deadline = Date.now() + 20_000;
  while (!out.includes('Stop with Ctrl+C.')) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`blc up did not come up; output:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const find = (re: RegExp): string => re.exec(out)?.[1] ?? '';
  return {
    child,
    output: () => out,
    exited,
    urls: {
      api: find(/API\s+(http:\/\/\S+)\/api/),
      dataverse: find(/Dataverse\s+(\S+)/),
      graph: find(/Graph\s+(\S+)\/v1\.0/),
      outbox: find(/--cacert \S+ (\S+\/_sim\/outbox)/),
      ca: find(/--cacert (\S+)/),
      azurite: find(/Azurite on (http:\/\/\S+)/),
    },
  };
}

/** Process ids of the direct children of `pid`. */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((s) => Number(s.trim()))
      .filter((n) => n > 0);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stop(up: Up): Promise<{ code: number | null; orphans: number[] }> {
  const children = childrenOf(up.child.pid ?? -1);
  up.child.kill('SIGTERM');
  const code = await up.exited;
  return { code, orphans: children.filter(alive) };
}

const dv = (up: Up, pathAndQuery: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${up.urls.dataverse}/${pathAndQuery}`, {
    ...init,
    headers: { Authorization: 'Bearer local', 'Content-Type': 'application/json', ...init.headers },
  });

async function rows(up: Up, pathAndQuery: string): Promise<Record<string, unknown>[]> {
  return ((await (await dv(up, pathAndQuery)).json()) as { value: Record<string, unknown>[] }).value;
}

function outbox(
  up: Up,
): Promise<{ message: { subject: string; toRecipients: { emailAddress: { address: string } }[] } }[]> {
  return new Promise((resolve, reject) => {
    https
      .get(up.urls.outbox, { ca: fs.readFileSync(up.urls.ca) }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve((JSON.parse(body) as { value: [] }).value));
      })
      .on('error', reject);
  });
}

async function eventually<T>(what: string, probe: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 15_000;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await probe();
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not reached; last: ${JSON.stringify(last)}`);
}

describe('blc up', () => {
  it('onboards a client created in the simulator, keeps its data across a restart, and stops everything', async () => {
    const data = tempData();
    const up = await startUp(data);
    expect(up.output()).toMatch(/Dashboard\s+http:\/\/localhost:\d+\/api\/dashboard/);
    expect(up.urls.api).toMatch(/^http:\/\/localhost:\d+$/);
    expect(up.urls.graph).toMatch(/^https:\/\/localhost:\d+$/);
    expect((await fetch(`${up.urls.api}/api/health`)).status).toBe(200);

    const created = await dv(up, 'contacts', {
      method: 'POST',
      headers: { Prefer: 'return=representation' },
      body: JSON.stringify({ firstname: 'Ada', lastname: 'Lovelace', emailaddress1: 'ada@mail.example' }),
    });
    expect(created.status).toBe(201);
    const { contactid } = (await created.json()) as { contactid: string };

    const key = (
      JSON.parse(fs.readFileSync(path.join(data, 'host', 'keys.json'), 'utf8')) as { default: string }
    ).default;
    const [instance] = await eventually(
      'the onboarding completes',
      async () => {
        const res = await fetch(`${up.urls.api}/api/instances?name=clientOnboarding`, {
          headers: { 'x-functions-key': key },
        });
        return ((await res.json()) as { instances: { instanceId: string; runtimeStatus: string }[] })
          .instances;
      },
      (list) => list.length === 1 && list[0].runtimeStatus === 'Completed',
    );
    expect(instance.instanceId).toContain(`webhook-create-contact-${contactid}`);
    const mail = await outbox(up);
    const welcome = mail.filter((m) =>
      m.message.toRecipients.some((r) => r.emailAddress.address === 'ada@mail.example'),
    );
    expect(welcome.map((m) => m.message.subject)).toEqual(['Welcome to our practice']);

    // A session booked for her is confirmed, and confirmed again when it moves.
    const session = await dv(up, 'lc_sessions', {
      method: 'POST',
      headers: { Prefer: 'return=representation' },
      body: JSON.stringify({
        lc_name: 'Intake',
        lc_starttime: '2031-05-06T14:00:00Z',
        lc_endtime: '2031-05-06T15:00:00Z',
        lc_location: 'Room 1',
        lc_status: 1,
        'lc_ClientId@odata.bind': `/contacts(${contactid})`,
      }),
    });
    const { lc_sessionid } = (await session.json()) as { lc_sessionid: string };
    await dv(up, `lc_sessions(${lc_sessionid})`, {
      method: 'PATCH',
      body: JSON.stringify({ lc_starttime: '2031-05-07T10:00:00Z', lc_endtime: '2031-05-07T11:00:00Z' }),
    });
    const toAda = await eventually(
      'the confirmations arrive',
      async () =>
        (await outbox(up))
          .filter((m) => m.message.toRecipients.some((r) => r.emailAddress.address === 'ada@mail.example'))
          .map((m) => m.message.subject),
      (subjects) => subjects.length >= 3,
    );
    expect(toAda.sort()).toEqual([
      'Session confirmed: Intake',
      'Welcome to our practice',
      'Your session has moved: Intake',
    ]);

    // A deployment waiting for approval is left running at the stop; nothing else is.
    expect(up.output()).not.toMatch(/Resumed \d+ orchestration/);
    const pending = await fetch(`${up.urls.api}/api/deployments`, {
      method: 'POST',
      headers: { 'x-functions-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({
        version: 'up-restart-1',
        requireApproval: true,
        config: { patch: { greeting: 'hi' } },
      }),
    });
    expect(pending.status).toBe(202);
    await eventually(
      'only the deployment is left unfinished',
      async () => {
        const res = await fetch(`${up.urls.api}/api/instances?status=Pending,Running,ContinuedAsNew`, {
          headers: { 'x-functions-key': key },
        });
        return ((await res.json()) as { instances: { instanceId: string }[] }).instances.map(
          (i) => i.instanceId,
        );
      },
      (ids) => ids.length === 1 && ids[0] === 'deploy-up-restart-1',
    );

    const sent = (await outbox(up)).length;
    const first = await stop(up);
    expect(first.code).toBe(0);
    expect(first.orphans).toEqual([]);

    // Again on the same data: the client, the mail and one webhook registration, now at the new URL.
    const again = await startUp(data);
    expect(again.output()).toContain('Resumed 1 orchestration left running at the last stop.');
    expect(
      (await (await dv(again, `contacts(${contactid})?$select=fullname`)).json()) as object,
    ).toMatchObject({
      fullname: 'Ada Lovelace',
    });
    const endpoints = await rows(again, 'serviceendpoints?$select=name,url');
    expect(endpoints.map((e) => e.url)).toEqual([`${again.urls.api}/api/webhooks/dataverse`]);
    expect((await rows(again, 'sdkmessageprocessingsteps?$select=name')).map((s) => s.name).sort()).toEqual([
      'Life Cockpit: Create of contact',
      'Life Cockpit: Create of lc_session',
      'Life Cockpit: Update of lc_session',
    ]);
    expect((await outbox(again)).length).toBe(sent);
    const second = await stop(again);
    expect(second.code).toBe(0);
    expect(second.orphans).toEqual([]);
  });

  it('uses a configured Dataverse and Graph instead of starting their simulators', async () => {
    const up = await startUp(tempData(), {
      DATAVERSE_URL: 'http://127.0.0.1:9/',
      GRAPH_URL: 'https://app:pw-of-graph-proxy@graph.example.invalid/?code=graph-proxy-key',
    });
    expect(up.output()).toContain('Dataverse   http://127.0.0.1:9/   (from your settings)');
    // A configured URL is shown without its password or key.
    expect(up.output()).toMatch(
      /Graph {7}https:\/\/\S+@graph\.example\.invalid\/\?code=\S+ {3}\(from your settings\)/,
    );
    expect(up.output()).not.toContain('pw-of-graph-proxy');
    expect(up.output()).not.toContain('graph-proxy-key');
    expect(childrenOf(up.child.pid ?? -1)).toHaveLength(2); // Azurite and the app host
    const { code, orphans } = await stop(up);
    expect(code).toBe(0);
    expect(orphans).toEqual([]);
  });

  it('listens on the ports --azurite-port, --dataverse-port and --graph-port name', async () => {
    const [azurite, dataverse, graph] = await freePorts(3);
    const up = await startUp(tempData(), {}, [
      '--azurite-port',
      String(azurite),
      '--dataverse-port',
      String(dataverse),
      '--graph-port',
      String(graph),
    ]);
    expect(up.urls.azurite).toBe(`http://127.0.0.1:${azurite}`);
    expect(new URL(up.urls.dataverse).port).toBe(String(dataverse));
    expect(new URL(up.urls.graph).port).toBe(String(graph));
    await expectAnswering(up);
    const { code, orphans } = await stop(up);
    expect(code).toBe(0);
    expect(orphans).toEqual([]);
  });

  it('prints the ports the OS bound for 0', async () => {
    const up = await startUp(tempData(), {}, [
      '--azurite-port',
      '0',
      '--dataverse-port',
      '0',
      '--graph-port',
      '0',
    ]);
    for (const url of [up.urls.azurite, up.urls.dataverse, up.urls.graph])
      expect(Number(new URL(url).port)).toBeGreaterThan(0);
    await expectAnswering(up);
    const { code, orphans } = await stop(up);
    expect(code).toBe(0);
    expect(orphans).toEqual([]);
  });

  it('stops with one line (exit 1) when a named port is taken, leaving nothing running', async () => {
    const taken = await occupyPort();
    try {
      const [azurite] = await freePorts(1);
      const child = spawnUp(tempData(), {}, [
        '--azurite-port',
        String(azurite),
        '--graph-port',
        String(taken.port),
      ]);
      const run = await outcome(child);
      expect(run.code).toBe(1);
      expect(run.err.trim().split('\n')).toEqual([
        `blc up: The Graph simulator cannot listen on port ${taken.port}: it is in use; choose another with --graph-port (0 = any free port)`,
      ]);
      // Azurite, started before the Graph simulator, was stopped again.
      expect(await listening(azurite)).toBe(false);

      const azuriteRun = await outcome(spawnUp(tempData(), {}, ['--azurite-port', String(taken.port)]));
      expect(azuriteRun.code).toBe(1);
      expect(azuriteRun.err.trim().split('\n')).toEqual([
        `blc up: Azurite cannot listen on port ${taken.port}: it is in use; choose another with --azurite-port (0 = any free port)`,
      ]);
    } finally {
      taken.server.close();
    }
  });
});

/** Ports free a moment ago (the test names them to blc up; blc up itself never probes). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => occupyPort()));
  await Promise.all(servers.map((s) => new Promise((r) => s.server.close(r))));
  return servers.map((s) => s.port);
}

async function occupyPort(): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as net.AddressInfo).port };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** How a blc up that stops on its own exits, and what it printed on stderr. */
function outcome(child: ChildProcess): Promise<{ code: number | null; err: string }> {
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, err })));
}

/** Each URL the banner printed is answered by the service it names. */
async function expectAnswering(up: Up): Promise<void> {
  const blob = await fetch(`${up.urls.azurite}/devstoreaccount1?comp=list`);
  await blob.arrayBuffer();
  expect(blob.headers.get('server') ?? '').toMatch(/^Azurite-Blob/);
  expect((await dv(up, 'contacts?$top=1')).status).toBe(200);
  expect(Array.isArray(await outbox(up))).toBe(true);
  expect((await fetch(`${up.urls.api}/api/health`)).status).toBe(200);
}
