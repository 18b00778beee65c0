/**
 * `blc` against the real app: the app runs in this process on the local host (with the Dataverse
 * and Graph simulators and Azurite), and each test runs `node bin/blc.js ...` as a child process,
 * as a person or a script would, checking what it prints and how it exits.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startAppWithDataverse, type AppUnderTest } from '../support/appHost';
import { blcEnv, runBlc, type BlcRun } from '../support/blc';

// Each test runs blc several times as a child process (and sagas in between): on a busy machine
// that takes longer than the suite's default allows; the assertions do not depend on time.
vi.setConfig({ testTimeout: 120_000 });

let app: AppUnderTest;
let key: string;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'blc-commands-'));

beforeAll(async () => {
  app = await startAppWithDataverse({ graph: true });
  key = String(app.host.keys.functionKeys.default);
}, 60_000);
afterAll(async () => {
  await app?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

type Run = BlcRun;

/** Runs blc with the given arguments (no BLC_* settings from this environment leak in). */
function blcRaw(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return runBlc(args, { env: blcEnv(env) });
}

/** Runs blc against the app under test with its function key. */
function blc(...args: string[]): Promise<Run> {
  return blcRaw([...args, '--url', app.host.url, '--key', key]);
}

let contacts = 0;
async function newContact(): Promise<string> {
  contacts++;
  const created = await app.dataverse.create('contacts', {
    firstname: `Cli${contacts}`,
    lastname: 'Blc',
    emailaddress1: `cli${contacts}@example.com`,
  });
  return String(created.id);
}

function changeInput(id: string, jobtitle: string): string {
  return JSON.stringify({
    description: `jobtitle ${jobtitle}`,
    operations: [{ op: 'update', table: 'contacts', id, data: { jobtitle } }],
  });
}

/** Starts a dataverseChange whose Dataverse reads and write are slow, so it is still running for a while. */
async function startSlow(instanceId: string): Promise<void> {
  const id = await newContact();
  app.sim.faults.add({
    method: 'GET',
    path: `contacts\\(${id}\\)`,
    kind: 'latency',
    latencyMs: 4000,
    count: 10,
  });
  // The atomic path reads this record once (in the plan's $batch): hold its write back longer.
  app.sim.faults.add({
    method: 'PATCH',
    path: `contacts\\(${id}\\)`,
    kind: 'latency',
    latencyMs: 8000,
    count: 10,
  });
  const res = await blc('start', 'dataverseChange', '--id', instanceId, '--input', changeInput(id, 'Slow'));
  expect(res.code, res.err).toBe(0);
}

async function waitForStatus(id: string, statuses: string[]): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const res = await blc('status', id, '--json');
    if (
      res.code === 0 &&
      statuses.includes(String((JSON.parse(res.out) as { runtimeStatus: string }).runtimeStatus))
    )
      return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${id} did not reach ${statuses.join('/')}`);
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

describe('blc version and auth test', () => {
  it("prints its own version, and the app's with a URL", async () => {
    const local = await blcRaw(['version']);
    expect(local.code).toBe(0);
    expect(local.out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const remote = await blc('version');
    expect(remote.code, remote.err).toBe(0);
    expect(remote.out).toMatch(/^app:\s+life-cockpit \d+\.\d+\.\d+$/m);
    const asJson = JSON.parse((await blc('version', '--json')).out) as { cli: string; app: { name: string } };
    expect(asJson.app.name).toBe('life-cockpit');
    expect(asJson.cli).toBe(local.out.trim());
  });

  it('takes the URL and key from BLC_URL and BLC_KEY', async () => {
    const res = await blcRaw(['version', '--json'], { BLC_URL: app.host.url, BLC_KEY: key });
    expect(res.code, res.err).toBe(0);
    expect((JSON.parse(res.out) as { app: { name: string } }).app.name).toBe('life-cockpit');
  });

  it('reports that the app authenticates to Dataverse and Graph', async () => {
    const res = await blc('auth', 'test');
    expect(res.code, res.err).toBe(0);
    expect(res.out).toMatch(/^dataverse\s+ok\s+userId=/m);
    expect(res.out).toMatch(/^graph\s+ok\s+/m);
    const asJson = JSON.parse((await blc('auth', 'test', '--json')).out) as Record<string, { state: string }>;
    expect(asJson.dataverse.state).toBe('ok');
  });
});

describe('blc start and status', () => {
  it('starts a saga and waits, printing one line per step change, then what changed (no JSON)', async () => {
    const id = await newContact();
    const res = await blc(
      'start',
      'dataverseChange',
      '--id',
      'cli-start-1',
      '--input',
      changeInput(id, 'Started'),
      '--wait',
    );
    expect(res.code, res.err).toBe(0);
    expect(res.out).toMatch(/^Started dataverseChange as cli-start-1$/m);
    expect(res.out).toMatch(/^status Completed$/m);
    expect(res.out).toMatch(/^phase completed$/m);
    expect(res.out).toMatch(/^step apply 1 operation \(one changeset\): completed$/m);
    expect(res.out).toMatch(
      new RegExp(`^Updated contacts? (${id}|"[^"]+" \\(${id.slice(0, 8)}…\\)): jobtitle → Started\\.$`, 'm'),
    );
    expect(res.out).toMatch(/^Rollback point rp-cli-start-1 \(active\): blc rollback plan rp-cli-start-1$/m);
    expect(res.out).not.toContain('{');
    expect(res.err).toBe('');
    expect((await app.dataverse.retrieve('contacts', id)).jobtitle).toBe('Started');
  });

  it('takes the input from a file, and --json prints the final instance', async () => {
    const id = await newContact();
    const file = path.join(tmp, 'input.json');
    fs.writeFileSync(file, changeInput(id, 'From file'));
    const res = await blc('start', 'dataverseChange', '--input', `@${file}`, '--wait', '--json');
    expect(res.code, res.err).toBe(0);
    // Nothing but the JSON on stdout: the whole of it parses.
    const view = JSON.parse(res.out) as {
      runtimeStatus: string;
      output: { rollbackPointId: string; results: { id: string }[] };
      rollbackPoint: { id: string; status: string };
    };
    expect(view.runtimeStatus).toBe('Completed');
    expect(view.output.rollbackPointId).toMatch(/\S/);
    expect(view.output.results[0].id).toBe(id);
    expect(view.rollbackPoint).toEqual({ id: view.output.rollbackPointId, status: 'active' });
  });

  it('answers a repeated Idempotency-Key with the first instance', async () => {
    const id = await newContact();
    const args = [
      'start',
      'dataverseChange',
      '--input',
      changeInput(id, 'Once'),
      '--idempotency-key',
      'cli-once',
    ];
    const first = await blc(...args, '--json');
    expect(first.code, first.err).toBe(0);
    const again = await blc(...args);
    expect(again.code, again.err).toBe(0);
    expect(again.out.trim()).toBe(`Already started dataverseChange as ${String(JSON.parse(first.out).id)}`);
  });

  it('exits 1 with the failure code when the orchestration fails', async () => {
    const res = await blc('start', 'rollback', '--input', '{"pointId":"rp-not-there"}', '--wait');
    expect(res.code).toBe(1);
    expect(res.out).toMatch(/^status Failed$/m);
    expect(res.err.trim()).toMatch(/^blc: ROLLBACK_POINT_NOT_FOUND: rollback '[^']+' failed: .+$/);
    expect(res.err.trim().split('\n')).toHaveLength(1);
  });

  it('answers bad input and unknown orchestrations with the API code and exit 1', async () => {
    const bad = await blc('start', 'dataverseChange', '--input', '{"operations":"none"}');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^blc: INVALID_INPUT: /);
    const unknown = await blc('start', 'noSuchThing');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/^blc: NOT_FOUND: No public orchestration named 'noSuchThing'/);
    const badJson = await blc('start', 'dataverseChange', '--input', '{nope');
    expect(badJson.code).toBe(2);
    expect(badJson.err).toMatch(/^blc: USAGE: --input is not valid JSON/);
  });

  it('shows the status with steps, as JSON, and with history', async () => {
    const res = await blc('status', 'cli-start-1');
    expect(res.code, res.err).toBe(0);
    expect(res.out).toMatch(/^status:\s+Completed$/m);
    expect(res.out).toMatch(/^phase:\s+completed$/m);
    expect(res.out).toMatch(/^STEP\s+STATE/m);
    expect(res.out).toMatch(
      /^apply 1 operation \(one changeset\)\s+completed \(compensation available through rollback point rp-cli-start-1\)$/m,
    );
    expect(res.out).toMatch(/^rollback point:\s+rp-cli-start-1 \(active\)$/m);
    expect(res.out).not.toMatch(/^(input|output):/m);
    const view = JSON.parse((await blc('status', 'cli-start-1', '--json')).out) as { name: string };
    expect(view.name).toBe('dataverseChange');
    const history = await blc('status', 'cli-start-1', '--history');
    expect(history.out).toMatch(/ExecutionStarted\s+dataverseChange/);
    expect(history.out).toMatch(/ExecutionCompleted/);
    const missing = await blc('status', 'cli-nobody');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^blc: NOT_FOUND: No orchestration instance with id 'cli-nobody'/);
  });
});

describe('blc list', () => {
  it('lists instances as a table and as JSON, filtered by name and status', async () => {
    const table = await blc('list', '--name', 'dataverseChange');
    expect(table.code, table.err).toBe(0);
    expect(table.out).toMatch(/^INSTANCE\s+NAME\s+STATUS\s+PHASE\s+CREATED$/m);
    expect(table.out).toMatch(/^cli-start-1\s+dataverseChange\s+Completed\s+completed\s+/m);
    const res = await blc('list', '--status', 'Failed', '--json');
    const body = JSON.parse(res.out) as { instances: { name: string; runtimeStatus: string }[] };
    expect(body.instances.length).toBeGreaterThan(0);
    expect(body.instances.every((i) => i.runtimeStatus === 'Failed')).toBe(true);
    const paged = JSON.parse((await blc('list', '--top', '1', '--json')).out) as {
      instances: unknown[];
      continuationToken?: string;
    };
    expect(paged.instances).toHaveLength(1);
    expect(paged.continuationToken).toBeTruthy();
    // The table tells how to get the next page, and that command answers the next instance.
    const first = await blc('list', '--top', '1');
    const more = /^More: blc list --next (\S+)$/m.exec(first.out);
    expect(more, first.out).not.toBeNull();
    const next = JSON.parse((await blc('list', '--top', '1', '--next', String(more?.[1]), '--json')).out) as {
      instances: { instanceId: string }[];
    };
    expect(next.instances).toHaveLength(1);
    expect(next.instances[0].instanceId).not.toBe((paged.instances[0] as { instanceId: string }).instanceId);
    // Created-time filters: nothing was created in 2001, everything so far was created before now.
    const past = JSON.parse(
      (await blc('list', '--from', '2001-01-01T00:00:00Z', '--to', '2001-12-31T00:00:00Z', '--json')).out,
    ) as { instances: unknown[] };
    expect(past.instances).toEqual([]);
    const untilNow = JSON.parse(
      (
        await blc(
          'list',
          '--to',
          new Date(Date.now() + 60_000).toISOString(),
          '--name',
          'dataverseChange',
          '--json',
        )
      ).out,
    ) as { instances: { instanceId: string }[] };
    expect(untilNow.instances.map((i) => i.instanceId)).toContain('cli-start-1');
    const bad = await blc('list', '--status', 'Sleeping');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^blc: INVALID_INPUT: /);
  });
});

describe('steering with blc', () => {
  it('raises an event, suspends, resumes, terminates and purges', async () => {
    await startSlow('cli-steer-1');
    await waitForStatus('cli-steer-1', ['Running']);
    const raised = await blc('raise', 'cli-steer-1', 'Approval', '--data', '{"by":"Ada"}');
    expect(raised.code, raised.err).toBe(0);
    expect(raised.out).toMatch(/event Approval sent to cli-steer-1/);
    const suspended = await blc('suspend', 'cli-steer-1', '--reason', 'checking');
    expect(suspended.code, suspended.err).toBe(0);
    expect(suspended.out).toMatch(/^suspend accepted for cli-steer-1$/m);
    await waitForStatus('cli-steer-1', ['Suspended']);
    const early = await blc('purge', 'cli-steer-1');
    expect(early.code).toBe(1);
    expect(early.err).toMatch(/^blc: INSTANCE_RUNNING: /);
    const resumed = await blc('resume', 'cli-steer-1');
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.out).toMatch(/^resume accepted for cli-steer-1$/m);
    const terminated = await blc('terminate', 'cli-steer-1', '--reason', 'not needed', '--json');
    expect(terminated.code, terminated.err).toBe(0);
    expect(JSON.parse(terminated.out)).toMatchObject({ instanceId: 'cli-steer-1', operation: 'terminate' });
    await waitForStatus('cli-steer-1', ['Terminated']);
    const again = await blc('terminate', 'cli-steer-1');
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^blc: INSTANCE_NOT_RUNNING: /);
    const purged = await blc('purge', 'cli-steer-1');
    expect(purged.code, purged.err).toBe(0);
    expect(purged.out).toMatch(/purged cli-steer-1/);
    expect((await blc('status', 'cli-steer-1')).code).toBe(1);
  });

  it('needs the instance id and event name', async () => {
    const res = await blc('raise', 'cli-steer-1');
    expect(res.code).toBe(2);
    expect(res.err).toMatch(/^blc: USAGE: missing <eventName>/);
  });
});

describe('blc rollback', () => {
  async function changeWithPoint(jobtitle: string): Promise<{ contact: string; point: string }> {
    const contact = await newContact();
    const res = await blc(
      'start',
      'dataverseChange',
      '--input',
      changeInput(contact, jobtitle),
      '--wait',
      '--json',
    );
    expect(res.code, res.err).toBe(0);
    return {
      contact,
      point: (JSON.parse(res.out) as { output: { rollbackPointId: string } }).output.rollbackPointId,
    };
  }

  it('lists, shows, plans and executes a rollback point, then refuses a second execution', async () => {
    const { contact, point } = await changeWithPoint('To undo');
    const list = await blc('rollback', 'list', '--status', 'active');
    expect(list.code, list.err).toBe(0);
    expect(list.out).toMatch(new RegExp(`^${point}\\s+active\\s+saga\\s+`, 'm'));
    const listed = JSON.parse((await blc('rollback', 'list', '--json')).out) as { points: { id: string }[] };
    expect(listed.points.map((p) => p.id)).toContain(point);

    const show = await blc('rollback', 'show', point);
    expect(show.code, show.err).toBe(0);
    expect(show.out).toMatch(/^status:\s+active$/m);
    expect(show.out).toMatch(
      new RegExp(
        `^ {2}1\\. restore contacts? (${contact}|"[^"]+" \\(${contact.slice(0, 8)}…\\)): jobtitle → \\(empty\\)$`,
        'm',
      ),
    );

    const plan = await blc('rollback', 'plan', point);
    expect(plan.code, plan.err).toBe(0);
    expect(plan.out).toMatch(new RegExp(`Rolling back ${point} would undo 1 point`));
    expect((await app.dataverse.retrieve('contacts', contact)).jobtitle).toBe('To undo');

    const run = await blc('rollback', 'execute', point, '--wait');
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(/^status Completed$/m);
    expect(run.out).toMatch(new RegExp(`^Rolled back ${point}\\.$`, 'm'));
    const saga = await blc('status', point.replace(/^rp-/, ''));
    expect(saga.out).toMatch(
      new RegExp(`^rollback point:\\s+${point} rolled back at \\S+ by instance \\S+$`, 'm'),
    );
    expect((await app.dataverse.retrieve('contacts', contact)).jobtitle ?? null).toBeNull();

    const again = await blc('rollback', 'execute', point);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^blc: ROLLBACK_POINT_NOT_ACTIVE: /);
  });

  it('passes --cascade to the plan when a later change touched the same record', async () => {
    const { contact, point: first } = await changeWithPoint('First');
    const res = await blc('start', 'dataverseChange', '--input', changeInput(contact, 'Second'), '--wait');
    expect(res.code, res.err).toBe(0);
    const refused = await blc('rollback', 'plan', first);
    expect(refused.code).toBe(1);
    expect(refused.err.trim()).toMatch(
      /^blc: ROLLBACK_DEPENDENCY: .* In blc: add --cascade to undo those later changes too, newest first\.$/,
    );
    const execute = await blc('rollback', 'execute', first, '--wait');
    expect(execute.code).toBe(1);
    expect(execute.err).toMatch(/^blc: ROLLBACK_DEPENDENCY: .*--cascade/);
    expect(execute.out).toBe('');
    const cascade = await blc('rollback', 'plan', first, '--cascade', '--json');
    expect(cascade.code, cascade.err).toBe(0);
    expect((JSON.parse(cascade.out) as { steps: unknown[] }).steps).toHaveLength(2);
  });

  it('refuses a point whose record was edited since, and overwrites that edit with --force', async () => {
    const { contact, point } = await changeWithPoint('Before the edit');
    await app.dataverse.update('contacts', contact, { jobtitle: 'Edited by hand' });
    const refused = await blc('rollback', 'plan', point);
    expect(refused.code).toBe(1);
    expect(refused.err.trim().split('\n')).toEqual([
      expect.stringMatching(/^blc: ROLLBACK_CONFLICT: .*--force/),
    ]);
    expect((await app.dataverse.retrieve('contacts', contact)).jobtitle).toBe('Edited by hand');
    const forced = await blc('rollback', 'execute', point, '--force', '--wait');
    expect(forced.code, forced.err).toBe(0);
    expect(forced.out).toMatch(/^status Completed$/m);
    expect((await app.dataverse.retrieve('contacts', contact)).jobtitle ?? null).toBeNull();
  });

  it('creates a rollback point by hand for the records given', async () => {
    const contact = await newContact();
    const res = await blc(
      'rollback',
      'create',
      '--record',
      `contacts:${contact}`,
      '--description',
      'by hand',
      '--wait',
      '--json',
    );
    expect(res.code, res.err).toBe(0);
    const view = JSON.parse(res.out) as { runtimeStatus: string; output: { id?: string; pointId?: string } };
    expect(view.runtimeStatus).toBe('Completed');
    const listed = JSON.parse(
      (await blc('rollback', 'list', '--resource', `dataverse:contacts:${contact}`, '--json')).out,
    ) as {
      points: { origin: string; description: string }[];
    };
    expect(listed.points).toEqual([expect.objectContaining({ origin: 'manual', description: 'by hand' })]);
    const bad = await blc('rollback', 'create', '--record', 'contacts');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^blc: USAGE: --record must be <table>:<id>/);
  });

  it('runs a rollback that failed again once its cause is fixed', async () => {
    const { contact, point } = await changeWithPoint('Undo fails');
    app.sim.faults.add({
      method: 'PATCH',
      path: `contacts\\(${contact}\\)`,
      kind: 'status',
      status: 400,
      count: 1000,
    });
    const failed = await blc('rollback', 'execute', point, '--wait');
    expect(failed.code).toBe(1);
    expect(failed.err.trim().split('\n')).toHaveLength(1);
    const shown = await blc('rollback', 'show', point);
    expect(shown.out).toMatch(/^status:\s+rollback-failed$/m);
    expect(shown.out).toMatch(/^rollback:\s+failed at \S+ \(instance \S+\): .*400/m);
    app.sim.faults.clear();
    const retried = await blc('rollback', 'run', point, '--wait');
    expect(retried.code, retried.err).toBe(0);
    expect(retried.out).toMatch(new RegExp(`^Rolled back ${point}\\.$`, 'm'));
    expect((await app.dataverse.retrieve('contacts', contact)).jobtitle ?? null).toBeNull();
    expect((await blc('rollback', 'show', point)).out).toMatch(/^status:\s+rolled-back$/m);
  });

  it('explains a missing point and an unknown action', async () => {
    const missing = await blc('rollback', 'show', 'rp-none');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^blc: NOT_FOUND: /);
    const unknown = await blc('rollback', 'undo', 'rp-none');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/^blc: USAGE: unknown rollback action 'undo'/);
  });
});

describe('a dry run of a change', () => {
  it('prints the plan field by field, and no JSON', async () => {
    const id = await newContact();
    const input = JSON.stringify({
      dryRun: true,
      operations: [{ op: 'update', table: 'contacts', id, data: { jobtitle: 'Planned' } }],
    });
    const res = await blc('start', 'dataverseChange', '--input', input, '--wait');
    expect(res.code, res.err).toBe(0);
    expect(res.out).toMatch(/^Plan \(dry run, nothing was written\): 1 operation\(s\)$/m);
    expect(res.out).toMatch(/^ {2}#1 update contacts? .*: would update$/m);
    expect(res.out).toMatch(/^ {7}jobtitle: \(empty\) → Planned$/m);
    expect(res.out).toMatch(/^No problems found: the change can run\.$/m);
    expect(res.out).not.toContain('{');
    expect((await app.dataverse.retrieve('contacts', id)).jobtitle ?? null).toBeNull();
  });

  it('exits 1 with one line when the plan fails', async () => {
    const input = JSON.stringify({
      dryRun: true,
      operations: [{ op: 'create', table: 'nosuchtables', data: { name: 'x' } }],
    });
    const res = await blc('start', 'dataverseChange', '--input', input, '--wait');
    expect(res.code).toBe(1);
    expect(res.err.trim().split('\n')).toEqual([
      expect.stringMatching(/^blc: UNKNOWN_TABLE: .*nosuchtables/),
    ]);
  });
});

describe('errors a person can act on', () => {
  it('names a missing input file, and places bad JSON by file, line and column', async () => {
    const missing = await blc('start', 'dataverseChange', '--input', `@${path.join(tmp, 'nowhere.json')}`);
    expect(missing.code).toBe(2);
    expect(missing.err.trim()).toBe(`blc: USAGE: file not found: ${path.join(tmp, 'nowhere.json')}`);
    const file = path.join(tmp, 'broken.json');
    fs.writeFileSync(file, '{\n  "operations": [\n    { "op": "update", }\n  ]\n}\n');
    const broken = await blc('start', 'dataverseChange', '--input', `@${file}`);
    expect(broken.code).toBe(2);
    expect(broken.err.trim()).toBe(
      `blc: USAGE: --input file ${file} is not valid JSON: line 3, column 23: unexpected "}"`,
    );
  });

  it('says an orchestration needs --input, and which one a typo meant', async () => {
    const none = await blc('start', 'dataverseChange');
    expect(none.code).toBe(1);
    expect(none.err.trim()).toMatch(
      /^blc: INVALID_INPUT: dataverseChange needs an input: give it with --input JSON or --input @file \(.+\)$/,
    );
    const typo = await blc('start', 'dataverseChnage');
    expect(typo.code).toBe(1);
    expect(typo.err).toMatch(
      /^blc: NOT_FOUND: No public orchestration named 'dataverseChnage'\. Did you mean dataverseChange\?/,
    );
  });
});

describe('blc deploy --dry-run', () => {
  it('validates a manifest locally and shows what it would change, sending nothing', async () => {
    const file = path.join(tmp, 'manifest.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        version: '2026.11.cli',
        config: { patch: { greeting: 'hi' } },
        requireApproval: true,
      }),
    );
    const res = await blc('deploy', file, '--dry-run');
    expect(res.code, res.err).toBe(0);
    expect(res.out).toMatch(/^deployment:\s+deploy-2026\.11\.cli$/m);
    expect(res.out).toMatch(/^approval:\s+required/m);
    expect(res.out).toMatch(/^config:\s+patch \(keys: greeting\)$/m);
    const sent = await fetch(`${app.host.url}/api/deployments/deploy-2026.11.cli`, {
      headers: { 'x-functions-key': key },
    });
    expect(sent.status).toBe(404);
    // Without an app at all, too: nothing is sent.
    const offline = await blcRaw([
      'deploy',
      file,
      '--dry-run',
      '--json',
      '--url',
      `http://127.0.0.1:${await freePort()}`,
    ]);
    expect(offline.code).toBe(0);
    expect(JSON.parse(offline.out)).toMatchObject({
      dryRun: true,
      valid: true,
      deploymentId: 'deploy-2026.11.cli',
    });
  });

  it('names the bad fields of an invalid manifest (exit 1) and refuses unreadable ones (exit 2)', async () => {
    const bad = path.join(tmp, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ version: 'has spaces', schedules: { reminders: 'daily' } }));
    const res = await blc('deploy', bad, '--dry-run');
    expect(res.code).toBe(1);
    expect(res.err.trim()).toMatch(/^blc: INVALID_MANIFEST: .*version: .*schedules\.reminders: /);
    expect(res.err.trim().split('\n')).toHaveLength(1);
    const notJson = path.join(tmp, 'not.json');
    fs.writeFileSync(notJson, '{version');
    const parse = await blc('deploy', notJson, '--dry-run');
    expect(parse.code).toBe(2);
    expect(parse.err.trim()).toMatch(
      /^blc: USAGE: the manifest .*not\.json is not valid JSON: line 1, column 2: unexpected "v"$/,
    );
    const missing = await blc('deploy', path.join(tmp, 'nowhere.json'), '--dry-run');
    expect(missing.code).toBe(2);
    expect(missing.err.trim()).toMatch(/^blc: USAGE: file not found: .*nowhere\.json$/);
  });
});

describe('errors and exit codes', () => {
  it('exits 2 for an unknown command, an unknown option or a missing argument', async () => {
    const unknown = await blcRaw(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.err.trim()).toBe("blc: USAGE: unknown command 'frobnicate'; run 'blc --help'");
    const option = await blc('list', '--colour');
    expect(option.code).toBe(2);
    expect(option.err).toMatch(/^blc: USAGE: Unknown option '--colour'/);
    const missing = await blc('status');
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^blc: USAGE: missing <instanceId>/);
  });

  it('exits 3 with one line when the app cannot be reached', async () => {
    const res = await blcRaw(['list', '--url', `http://127.0.0.1:${await freePort()}`, '--key', 'k']);
    expect(res.code).toBe(3);
    expect(res.err.trim()).toMatch(
      /^blc: UNREACHABLE: cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\); is `npm start` running\? \(or give its address with --url or BLC_URL\)$/,
    );
  });

  it('exits 1 with the 401 code when the key is missing or wrong', async () => {
    const none = await blcRaw(['list', '--url', app.host.url]);
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/^blc: UNAUTHORIZED: /);
    const wrong = await blcRaw(['status', 'x', '--url', app.host.url, '--key', 'wrong']);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/^blc: UNAUTHORIZED: /);
  });

  it('takes the key as ?code= in --url, and never prints that code', async () => {
    const listed = await blcRaw(['list', '--url', `${app.host.url}/?code=${encodeURIComponent(key)}`]);
    expect(listed.code, listed.err).toBe(0);
    const wrongCode = 'not-the-key-31337';
    const wrong = await blcRaw(['status', 'x', '--url', `${app.host.url}/api?code=${wrongCode}`]);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/^blc: UNAUTHORIZED: /);
    expect(wrong.out + wrong.err).not.toContain(wrongCode);
  });
});
