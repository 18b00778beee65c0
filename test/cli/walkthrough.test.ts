/**
 * The README's "Try it" walkthrough, exactly as written: `blc up` runs as `npm start` runs it (own
 * folder, free ports), and the commands of the README's code block run one after the other as child
 * processes, from a folder that holds only the examples and the data — so blc must find the app's key
 * by itself, as it does for a new user. Each command's outcome is checked in blc's output and in the
 * Dataverse simulator. The commands are read from README.md, so the two cannot drift apart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBlc } from '../support/blc';

const ROOT = path.resolve(__dirname, '..', '..');
const BLC = path.join(ROOT, 'bin', 'blc.js');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'blc-walkthrough-'));

/** The commands of the code block under "## Try it", without the `npx blc` in front. */
function readmeCommands(): string[][] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Try it'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README.md has no sh code block under "## Try it"');
  return block
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter(Boolean)
    .map((line) => {
      // Plain words only, so splitting on spaces is what a shell would do.
      expect(line).toMatch(/^npx blc [\w@./ -]+$/);
      return line.split(/\s+/).slice(2);
    });
}

/** This environment without settings that would make blc up use a configured service instead. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(DATAVERSE_|GRAPH_|AzureWebJobs|BLC_|LIFECOCKPIT_|MAIL_SENDER|PRACTICE_OWNER)/.test(k)) env[k] = v;
  return { ...env, ...extra };
}

let up: ChildProcess;
let banner = '';
let apiUrl = '';
let dataverseUrl = '';

beforeAll(async () => {
  // What a user's project folder offers the commands: the examples (and, once up, the data).
  fs.symlinkSync(path.join(ROOT, 'docs'), path.join(work, 'docs'), 'dir');
  up = spawn(process.execPath, [BLC, 'up', '--port', '0', '--data', path.join(work, '.data')], {
    cwd: ROOT,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  up.stdout?.on('data', (d: Buffer) => (banner += d.toString()));
  up.stderr?.on('data', (d: Buffer) => (banner += d.toString()));
  const deadline = Date.now() + 60_000;
  while (!banner.includes('Stop with Ctrl+C.')) {
    if (up.exitCode !== null || Date.now() > deadline) throw new Error(`blc up did not start:\n${banner}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  apiUrl = /API\s+(http:\/\/\S+)\/api/.exec(banner)?.[1] ?? '';
  dataverseUrl = /Dataverse\s+(http:\/\/\S+)/.exec(banner)?.[1] ?? '';
}, 90_000);

afterAll(async () => {
  if (up && up.exitCode === null) {
    const exited = new Promise((r) => up.once('exit', r));
    up.kill('SIGTERM');
    await exited;
  }
  fs.rmSync(work, { recursive: true, force: true });
}, 30_000);

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** Everything the walkthrough's commands printed on stdout, to hold the README's samples against. */
let printed = '';

/** One README command, run where a user runs it; only the URL is told (the port is a free one). */
async function run(args: string[]): Promise<Run> {
  const result = await runBlc(args, { cwd: work, env: cleanEnv({ BLC_URL: apiUrl }) });
  printed += result.out;
  return result;
}

/** The output samples (```text blocks) under "## Try it", line by line. */
function readmeSamples(): string[] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## Try it');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  // A sample inside a list item is indented with it; its lines are what blc prints without that indent.
  return [...section.matchAll(/^( *)```text\n([\s\S]*?)^\1```/gm)]
    .flatMap((m) => m[2].split('\n').map((line) => line.slice(m[1].length)))
    .filter(Boolean);
}

/**
 * A record as the README shows it (`account "Lindqvist Physio" (672e4d65…)`) or as blc prints one
 * whose output carries no names (`accounts <GUID>`), replaced by one placeholder: the GUIDs differ
 * from run to run.
 */
function sameRecords(text: string): string {
  return text.replace(
    /\b[a-z_]+ (?:"[^"]*" \([0-9a-f]{8}…\)|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})/g,
    '<record>',
  );
}

/** A record of the simulator by alternate key, or undefined when there is none. */
async function record(
  entitySet: string,
  key: string,
  select: string,
): Promise<Record<string, unknown> | undefined> {
  const res = await fetch(`${dataverseUrl}/${entitySet}(${key})?$select=${select}`, {
    headers: { Authorization: 'Bearer local', Accept: 'application/json' },
  });
  if (res.status === 404) return undefined;
  expect(res.status).toBe(200);
  const body = (await res.json()) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(body).filter(([k]) => !k.startsWith('@')));
}

const emma = (): Promise<Record<string, unknown> | undefined> =>
  record('contacts', "emailaddress1='emma.visser@mail.example'", 'jobtitle');
const daan = (): Promise<Record<string, unknown> | undefined> =>
  record('contacts', "emailaddress1='daan.jansen@mail.example'", 'jobtitle');
const account = (number: string): Promise<Record<string, unknown> | undefined> =>
  record('accounts', `accountnumber='${number}'`, 'name,address1_city,telephone1');

/** The steps table of `status`: step name → state (the table ends at the first empty line). */
function steps(out: string): Record<string, string> {
  const rows = out.slice(out.indexOf('\nSTEP')).trim().split('\n\n')[0].split('\n').slice(1);
  return Object.fromEntries(
    rows.map((row) => {
      const [name, state] = row.split(/\s{2,}/);
      return [name, state];
    }),
  );
}

describe("the README's walkthrough", () => {
  it('completes a saga, fails and compensates another, and executes a rollback point', async () => {
    const commands = readmeCommands();
    const text = commands.map((c) => c.join(' '));
    // The steps checked below, in the README's order (a new step needs its check here).
    expect(text).toEqual([
      'start dataverseChange --id try-new-organisation --input @docs/examples/new-organisation.json --wait',
      'status try-new-organisation',
      'start dataverseChange --id try-failing-plan --input @docs/examples/failing-change-dry-run.json --wait',
      'start dataverseChange --id try-failing-change --input @docs/examples/failing-change.json --wait',
      'start dataverseChange --id try-forced-change --input @docs/examples/failing-change-forced.json --wait',
      'status try-forced-change',
      'rollback list',
      'rollback plan rp-try-new-organisation',
      'rollback execute rp-try-new-organisation --wait',
      'rollback show rp-try-new-organisation',
    ]);
    // blc up prints the same commands (those it shows are the README's), and, since this app is
    // neither on blc's default port nor keeps its key in this project, the line that tells blc.
    const key = (
      JSON.parse(fs.readFileSync(path.join(work, '.data', 'host', 'keys.json'), 'utf8')) as {
        default: string;
      }
    ).default;
    expect(banner).toContain(`  export BLC_URL=${apiUrl} BLC_KEY=${key}\n`);
    for (const line of banner.split('\n').filter((l) => l.trim().startsWith('npx blc ')))
      if (!line.includes('blc list')) expect(text).toContain(line.trim().replace(/^npx blc /, ''));

    const emmaBefore = await emma();
    const daanBefore = await daan();
    const northwindBefore = await account('ACC-1003');
    expect(emmaBefore).toBeDefined();
    expect(await account('ACC-2001')).toBeUndefined();

    // 1. A saga completes: the records exist and the saga recorded its rollback point.
    const completed = await run(commands[0]);
    expect(completed.code, completed.err).toBe(0);
    expect(completed.out).toMatch(/^Started dataverseChange as try-new-organisation$/m);
    expect(completed.out).toMatch(/^step apply 3 operations \(one changeset\): completed$/m);
    // Then what changed, records by name (by GUID for a result that carries no names), and no JSON.
    expect(completed.out).toMatch(
      /^Created accounts? (\S+|"Lindqvist Physio" \(\w{8}…\)), accounts? (\S+|"Lindqvist Physio – Zeist" \(\w{8}…\)); updated contacts? (\S+|"Emma Visser" \(\w{8}…\)): jobtitle → Practice manager, Lindqvist Physio\.$/m,
    );
    expect(completed.out).toMatch(
      /^Rollback point rp-try-new-organisation \(active\): blc rollback plan rp-try-new-organisation$/m,
    );
    expect(completed.out).not.toContain('{');
    expect(await account('ACC-2001')).toMatchObject({ name: 'Lindqvist Physio', address1_city: 'Utrecht' });
    expect(await account('ACC-2002')).toMatchObject({ address1_city: 'Zeist' });
    expect(await emma()).toMatchObject({ jobtitle: 'Practice manager, Lindqvist Physio' });
    const status = await run(commands[1]);
    expect(status.code, status.err).toBe(0);
    expect(status.out).toMatch(/^status:\s+Completed$/m);
    expect(status.out).toMatch(/^phase:\s+completed$/m);
    expect(steps(status.out)['record rollback point']).toBe('completed');
    expect(status.out).toMatch(/^applied:\s+as one changeset \(all or nothing\)$/m);
    expect(steps(status.out)['apply 3 operations (one changeset)']).toBe(
      'completed (compensation available through rollback point rp-try-new-organisation)',
    );
    expect(status.out).toMatch(/^rollback point:\s+rp-try-new-organisation \(active\)$/m);

    // 2. The failing change: its dry run finds the typo, the real run is refused before writing, and
    // forced past its plan it fails at its third operation and undoes the first two.
    const examples = ['failing-change', 'failing-change-dry-run', 'failing-change-forced'].map(
      (f) =>
        JSON.parse(fs.readFileSync(path.join(ROOT, 'docs', 'examples', `${f}.json`), 'utf8')) as {
          operations: unknown[];
        },
    );
    for (const e of examples.slice(1)) expect(e.operations).toEqual(examples[0].operations);
    const dryRun = await run(commands[2]);
    expect(dryRun.code, dryRun.err).toBe(1);
    expect(dryRun.out).toMatch(
      /^ +problem: telephone: UNKNOWN_COLUMN: accounts has no column 'telephone' \(did you mean 'telephone1'\?\)$/m,
    );
    expect(dryRun.out.trim().split('\n').at(-1)).toBe(
      'Problems: 1; this change would fail. Fix the input before running it.',
    );
    expect(dryRun.err).toMatch(/^blc: PLAN_INVALID: /m);
    const refused = await run(commands[3]);
    expect(refused.code).toBe(1);
    expect(refused.err.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^blc: PLAN_INVALID: .*This change would fail, so nothing was written\. Problem: #3 accounts\.telephone: accounts has no column 'telephone'.*"skipPlanChecks": true/,
      ),
    ]);
    expect(await daan()).toEqual(daanBefore);
    expect(await account('ACC-2003')).toBeUndefined();
    const failed = await run(commands[4]);
    expect(failed.code).toBe(1);
    expect(failed.err.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^blc: SAGA_COMPENSATED: .*failed at step 'update accounts #3'.*The property 'telephone' does not exist on type 'Microsoft\.Dynamics\.CRM\.account'.*Compensated: upsert accounts #2, update contacts #1\.$/,
      ),
    ]);
    const failedStatus = await run(commands[5]);
    expect(failedStatus.code, failedStatus.err).toBe(0);
    expect(failedStatus.out).toMatch(/^status:\s+Failed$/m);
    expect(failedStatus.out).toMatch(/^phase:\s+compensated$/m);
    expect(failedStatus.out).toMatch(
      /^failure:\s+SAGA_COMPENSATED Saga 'dataverseChange' failed at step 'update accounts #3'/m,
    );
    expect(steps(failedStatus.out)).toMatchObject({
      'update contacts #1': 'compensated',
      'upsert accounts #2': 'compensated',
      'update accounts #3': 'failed',
    });
    expect(await daan()).toEqual(daanBefore);
    expect(await account('ACC-2003')).toBeUndefined();
    expect(await account('ACC-1003')).toEqual(northwindBefore);

    // 3. The first saga's rollback point: listed, planned, executed; its records are gone or restored.
    const list = await run(commands[6]);
    expect(list.code, list.err).toBe(0);
    expect(list.out).toMatch(/^rp-try-new-organisation\s+active\s+saga\s/m);
    expect(list.out).not.toMatch(/try-failing-(plan|change)|try-forced-change/);
    const plan = await run(commands[7]);
    expect(plan.code, plan.err).toBe(0);
    // Newest change first: Emma's job title, then the two organisations.
    expect(plan.out).toMatch(/^ {2}1\. restore contacts? .*: jobtitle → \(empty\)$/m);
    expect(plan.out.match(/^ {2}[23]\. delete accounts? /gm)).toHaveLength(2);
    expect(await account('ACC-2001')).toBeDefined(); // a plan changes nothing
    const executed = await run(commands[8]);
    expect(executed.code, executed.err).toBe(0);
    expect(executed.out).toMatch(/^step undo 3\/3 of rp-try-new-organisation: completed$/m);
    expect(executed.out).toMatch(/^Rolled back rp-try-new-organisation\.$/m);
    expect(await account('ACC-2001')).toBeUndefined();
    expect(await account('ACC-2002')).toBeUndefined();
    expect(await emma()).toEqual(emmaBefore);
    const shown = await run(commands[9]);
    expect(shown.code, shown.err).toBe(0);
    expect(shown.out).toMatch(/^status:\s+rolled-back$/m);
    expect(shown.out).toMatch(/^rollback:\s+rolled back at \S+ by instance \S+$/m);

    // 4. What the README shows blc printing, it printed (records compared by place, not by GUID).
    const samples = readmeSamples();
    expect(samples.length).toBeGreaterThan(0);
    const lines = sameRecords(printed).split('\n');
    for (const sample of samples) expect(lines).toContain(sameRecords(sample));
  }, 180_000);
});
