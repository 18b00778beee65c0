/**
 * The Dockerfile, without Docker (no engine runs on these machines, so the image is never built).
 * First its rules: multi-stage with the build's development dependencies pruned, a non-root user, a
 * data volume, a HEALTHCHECK against /api/health, a CMD that runs `blc serve` on 0.0.0.0 with the
 * data on the volume, and a .dockerignore that keeps local state out. Then a simulation of the
 * final image: a folder laid out as its COPY lines would (the build output, and the production
 * dependency tree `npm prune --omit=dev` leaves), the CMD run there with only the image's ENV plus
 * service configuration (Dataverse and Graph simulators, the test Azurite), and the HEALTHCHECK
 * command run against it. What this cannot show: that the base image, apt and npm steps work, that
 * the native addon builds for the image's Node.js, and file ownership under USER node.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { productionTree } from '../../cli/package/productionTree';
import { HOST_NODE_ARGUMENTS } from '../../host/nodeArguments';
import { pickPort } from '../../cli/up/ports';
import { startDataverseSim, type DataverseSim } from '../../sim/dataverse';
import { startGraphSim, type GraphSim } from '../../sim/graph';
import { all, copiesOf, envOf, execForm, readDockerfile, type Stage } from './dockerfile';
import { ROOT, isolatedTempDir, linkTree } from './support';

const { stages } = readDockerfile(path.join(ROOT, 'Dockerfile'));
const build = stages[0];
const final = stages.at(-1) as Stage;
const last = (stage: Stage, keyword: string): string | undefined => all(stage, keyword).at(-1)?.args;
const cmd = execForm(last(final, 'CMD') ?? '[]');
const healthcheck = last(final, 'HEALTHCHECK') ?? '';
const healthcheckCmd = execForm(healthcheck.replace(/^.*?\bCMD\s+/, ''));
const port = last(final, 'EXPOSE') as string;
const flag = (name: string): string | undefined => cmd[cmd.indexOf(name) + 1];

describe('Dockerfile rules', () => {
  it('builds in one stage and runs from another, on a current Node.js slim image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(build.name).toBe('build');
    for (const stage of stages) expect(stage.from).toMatch(/^node:(20|22)-bookworm-slim$/);
    const buildRuns = all(build, 'RUN')
      .map((i) => i.args)
      .join('\n');
    expect(buildRuns).toMatch(/npm ci/);
    expect(buildRuns).toMatch(/npm run build && npm prune --omit=dev/);
    // Nothing in the final image comes from the build context: only the build stage's output.
    expect(copiesOf(final).every((c) => c.from === 'build')).toBe(true);
    expect(all(final, 'RUN').every((i) => !/npm (ci|install)/.test(i.args))).toBe(true);
  });

  it('runs as a non-root user, declared before CMD, with only /data writable', () => {
    const user = last(final, 'USER');
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user?.split(':')[0]);
    const userLine = all(final, 'USER').at(-1)?.line ?? Infinity;
    expect(userLine).toBeLessThan(all(final, 'CMD').at(-1)?.line ?? 0);
    expect(last(final, 'VOLUME')).toBe('/data');
    expect(all(final, 'RUN').some((i) => i.args.includes(`chown ${user}:${user} /data`))).toBe(true);
  });

  it('runs blc serve from the build output on 0.0.0.0, on the exposed port, with data on the volume', () => {
    // The Node arguments the host is measured with (host/nodeArguments.ts) are the ones it runs with.
    const script = 1 + HOST_NODE_ARGUMENTS.length;
    expect(cmd.slice(0, script + 2)).toEqual(['node', ...HOST_NODE_ARGUMENTS, 'bin/blc.js', 'serve']);
    expect(flag('--app')).toBe('.');
    expect(flag('--data')).toBe('/data');
    expect(flag('--host')).toBe('0.0.0.0');
    expect(flag('--port')).toBe(port);
    expect(cmd).not.toContain('--memory');
    expect(cmd).not.toContain('--virtual-time');
  });

  it('checks its health with node (no curl in slim images) against /api/health on that port', () => {
    expect(healthcheck).toMatch(/--interval=\d+s/);
    expect(healthcheckCmd[0]).toBe('node');
    expect(healthcheckCmd.join(' ')).toContain(`http://127.0.0.1:${port}/api/health`);
  });

  it('sets production settings and no secret in its ENV', () => {
    const env = envOf(final);
    expect(env.get('NODE_ENV')).toBe('production');
    expect([...env.keys()].filter((k) => /SECRET|TOKEN|PASSWORD|KEY|AzureWebJobsStorage/i.test(k))).toEqual(
      [],
    );
  });

  it('keeps installed packages, build output, local settings, data and history out of the build context', () => {
    const ignored = fs
      .readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    for (const entry of ['node_modules', 'dist', '.data', 'local.settings.json', '.git', 'test'])
      expect(ignored).toContain(entry);
  });
});

/** What `npm prune --omit=dev` leaves: every production package at its place in the tree. */
function layOutProductionModules(target: string): void {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  for (const p of productionTree(ROOT, Object.keys(pkg.dependencies)))
    linkTree(path.join(ROOT, p.location), path.join(target, p.location), (rel) => rel === 'node_modules');
}

/** Lays out the final image's WORKDIR as its COPY --from=build lines would. */
function layOutImage(target: string): void {
  const buildDir = last(build, 'WORKDIR') as string;
  for (const copy of copiesOf(final)) {
    const destDir = path.join(target, copy.dest);
    for (const source of copy.sources) {
      const rel = path.posix.relative(buildDir, source);
      if (rel.startsWith('..')) throw new Error(`COPY of ${source}, outside the build stage's ${buildDir}`);
      const intoDir = copy.dest.endsWith('/') || copy.sources.length > 1;
      const to = intoDir ? path.join(destDir, path.basename(rel)) : destDir;
      if (rel === 'node_modules') layOutProductionModules(path.dirname(to));
      // The build stage's dist holds what `npm run build` writes, not a package or coverage made here.
      else if (rel === 'dist')
        linkTree(path.join(ROOT, 'dist'), to, (r) => r === 'package' || r === 'coverage');
      else if (fs.statSync(path.join(ROOT, rel)).isDirectory()) linkTree(path.join(ROOT, rel), to);
      else {
        fs.mkdirSync(path.dirname(to), { recursive: true });
        fs.copyFileSync(path.join(ROOT, rel), to);
      }
    }
  }
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('the image, simulated: its CMD in a folder laid out as its COPY lines would', () => {
  let work: string;
  let image: string;
  let dataverse: DataverseSim;
  let graph: GraphSim;
  let host: ChildProcess | undefined;
  let hostPort: number;
  let output = '';
  let env: Record<string, string>;
  /** A Dockerfile command with the image's port swapped for a free one (7071 may be taken here). */
  const onFreePort = (args: string[]): string[] =>
    args.map((a) => (a === port ? String(hostPort) : a.replace(`:${port}/`, `:${hostPort}/`)));

  beforeAll(async () => {
    work = isolatedTempDir('lc-image-');
    image = path.join(work, (last(final, 'WORKDIR') as string).replace(/^\//, ''));
    layOutImage(image);
    const volume = path.join(work, 'data');
    fs.mkdirSync(volume);
    dataverse = await startDataverseSim({ seed: 'demo' });
    const caCertFile = path.join(work, 'graph-ca.pem');
    graph = await startGraphSim({ seed: 'demo', caCertFile });
    hostPort = await pickPort();
    // Only what the image sets, plus what `docker run -e` would pass: no variable of this machine.
    env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: work,
      ...Object.fromEntries(envOf(final)),
      DATAVERSE_URL: dataverse.url,
      DATAVERSE_TOKEN: 'container-test',
      GRAPH_URL: graph.url,
      GRAPH_TOKEN: 'container-test',
      NODE_EXTRA_CA_CERTS: caCertFile,
      MAIL_SENDER: 'reception@contoso-practice.example',
      AzureWebJobsStorage: String(process.env.AZURE_STORAGE_CONNECTION_STRING),
      LIFECOCKPIT_SNAPSHOT_CONTAINER: `imagesnap${Date.now()}`,
    };
    const args = onFreePort(cmd.slice(1)).map((a) => (a === '/data' ? volume : a));
    host = spawn(process.execPath, args, { cwd: image, env, stdio: ['ignore', 'pipe', 'pipe'] });
    host.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    host.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    const started = Date.now();
    while (!/Host started on/.test(output)) {
      if (host.exitCode !== null) throw new Error(`the CMD exited (${host.exitCode}):\n${output}`);
      if (Date.now() - started > 60_000) throw new Error(`the CMD did not start in 60 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }, 240_000);

  afterAll(async () => {
    if (host && host.exitCode === null) {
      const done = exitCode(host);
      host.kill('SIGTERM');
      await done;
    }
    await dataverse?.close();
    await graph?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  }, 120_000);

  it('holds every file the CMD names, and nothing of the local host that is development-only', () => {
    expect(fs.existsSync(path.join(image, 'bin', 'blc.js'))).toBe(cmd.includes('bin/blc.js'));
    expect(fs.existsSync(path.join(image, 'dist', 'cli', 'blc.js'))).toBe(true);
    expect(fs.existsSync(path.join(image, 'node_modules', 'better-sqlite3', 'package.json'))).toBe(true);
    for (const dev of ['vitest', 'typescript', 'azurite', 'yazl'])
      expect(fs.existsSync(path.join(image, 'node_modules', dev)), dev).toBe(false);
  });

  it('answers /api/health with 200 and every dependency up', async () => {
    const res = await fetch(`http://127.0.0.1:${hostPort}/api/health`);
    const body = (await res.json()) as { status: string; checks: Record<string, { state: string }> };
    expect({ status: res.status, body: body.status }).toEqual({ status: 200, body: 'ok' });
    expect(Object.fromEntries(Object.entries(body.checks).map(([k, v]) => [k, v.state]))).toEqual({
      graph: 'up',
      dataverse: 'up',
      storage: 'up',
      durable: 'up',
    });
  });

  it('keeps its durable history and keys on the volume', () => {
    const volume = path.join(work, 'data');
    expect(fs.existsSync(path.join(volume, 'durable.sqlite'))).toBe(true);
    expect(fs.existsSync(path.join(volume, 'keys.json'))).toBe(true);
    expect(fs.existsSync(path.join(image, '.data'))).toBe(false);
  });

  const outside = Object.values(os.networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  it.skipIf(!outside)('is reachable on a non-loopback address, as through a published port', async () => {
    const res = await fetch(`http://${outside}:${hostPort}/api/health`);
    expect(res.status).toBe(200);
  });

  it('passes its HEALTHCHECK, and fails it once a dependency is down', async () => {
    const check = (): Promise<number | null> => {
      const [, ...args] = onFreePort(healthcheckCmd);
      return exitCode(spawn(process.execPath, args, { env, stdio: 'ignore' }));
    };
    expect(await check()).toBe(0);
    await dataverse.close();
    // /api/health reuses one round of checks for HEALTH_CACHE_SECONDS (5 by default): the outage
    // shows once that has passed, well inside HEALTHCHECK's 30 s interval.
    const deadline = Date.now() + 10_000;
    let code = await check();
    while (code === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      code = await check();
    }
    expect(code).toBe(1);
  });

  it('stops cleanly on SIGTERM (docker stop)', async () => {
    const running = host as ChildProcess;
    const done = exitCode(running);
    running.kill('SIGTERM');
    expect(await done).toBe(0);
    expect(output).toMatch(/Received SIGTERM; shutting down\./);
  });
});
