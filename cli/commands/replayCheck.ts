/**
 * `blc replay-check`: replays stored histories against the current build of an app and reports
 * each instance whose history the code no longer reproduces — the instances a deploy would break.
 * It reads the local host's store directly (read-only; a running host may keep running), so it
 * takes an app folder and a data folder rather than --url/--key.
 * Exit codes: 0 every checked instance reproduces, 1 one does not, 2 usage, 3 no store or no app.
 */
import path from 'node:path';
import { BlcError } from '../apiClient';
import {
  FAILING_RESULTS,
  LIVE_STATUSES,
  ReplayCheckError,
  defaultDataDir,
  findStore,
  replayCheck,
  type InstanceCheck,
  type ReplayResult,
} from '../../host/durable/replayCheck';
import { noExtraPositionals, parseCommandLine } from '../commandLine';
import { json, print, table } from '../output';
import { projectRoot } from '../version';
import type { Command } from './types';

const HELP = `Usage: blc replay-check [--app DIR] [--data DIR] [--all] [--instance ID]... [--name ORCH]... [--json]

Replays the stored history of each instance through the app's current (built) orchestrator code and
reports the instances whose history it no longer reproduces: they would fail with a non-determinism
error when they next run. Run it after building and before deploying changed orchestrators.

  --app DIR       The app (default: this project); build it first
  --data DIR      Its data folder: what 'blc up --data' or 'blc serve --data' was given
                  (default: <app>/.data/host, where 'npm start' keeps it, else <app>/.data)
  --all           Also check finished instances (default: only Pending, Running, Suspended)
  --instance ID   Only this instance (repeatable)
  --name ORCH     Only instances of this orchestration (repeatable)
  --json          Print JSON for scripts instead of a table
  -h, --help      Show this help

Exit codes: 0 every checked instance reproduces, 1 one does not, 2 usage error,
3 no readable store or the app cannot be loaded.`;

function parse(argv: string[]) {
  return parseCommandLine(argv, {
    app: { type: 'string' },
    data: { type: 'string' },
    all: { type: 'boolean', default: false },
    instance: { type: 'string', multiple: true },
    name: { type: 'string', multiple: true },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
}

/** `--name a,b` and `--name a --name b` alike. */
function list(values: string[] | undefined): string[] | undefined {
  const items = values
    ?.flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  return items?.length ? items : undefined;
}

function summary(checks: InstanceCheck[]): string {
  if (checks.length === 0) return 'No instances to check.';
  const counts = new Map<ReplayResult, number>();
  for (const c of checks) counts.set(c.result, (counts.get(c.result) ?? 0) + 1);
  const parts = [...counts].map(([result, n]) => `${n} ${result}`).join(', ');
  const failing = checks.filter((c) => FAILING_RESULTS.includes(c.result));
  if (failing.length === 0)
    return `Checked ${checks.length} instance${checks.length === 1 ? '' : 's'}: ${parts}. The current code reproduces every history.`;
  const live = failing.filter((c) => (LIVE_STATUSES as readonly string[]).includes(c.status)).length;
  return `Checked ${checks.length} instance${checks.length === 1 ? '' : 's'}: ${parts}. ${failing.length} not reproduced${
    live ? `; ${live} unfinished, which would fail when ${live === 1 ? 'it runs' : 'they run'} again` : ''
  }.`;
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  if (values.help) {
    print(HELP);
    return 0;
  }
  noExtraPositionals(positionals, 0, 'blc replay-check [options]');
  if (values.all && values.instance?.length)
    throw BlcError.usage('--all and --instance cannot be combined: --instance already picks the instances');
  const appDir = path.resolve(values.app ?? projectRoot());
  const dataDir = path.resolve(values.data ?? defaultDataDir(appDir));

  let report;
  try {
    report = await replayCheck({
      appDir,
      storeFile: findStore(dataDir),
      all: values.all,
      instanceIds: list(values.instance),
      names: list(values.name),
    });
  } catch (err) {
    if (err instanceof ReplayCheckError)
      throw new BlcError(err.code === 'NOT_FOUND' ? 1 : 3, err.code, err.message);
    throw err;
  }
  const failing = report.instances.filter((c) => FAILING_RESULTS.includes(c.result));
  if (values.json) {
    print(
      json({
        app: report.appDir,
        store: report.storeFile,
        ok: failing.length === 0,
        instances: report.instances,
      }),
    );
  } else {
    if (report.instances.length)
      print(
        table(report.instances, [
          { header: 'instance', value: (c) => c.instanceId },
          { header: 'orchestration', value: (c) => c.name },
          { header: 'status', value: (c) => c.status },
          { header: 'result', value: (c) => c.result },
          { header: 'detail', value: (c) => c.detail },
        ]),
      );
    print(summary(report.instances));
  }
  return failing.length === 0 ? 0 : 1;
}

/** The command's entry point; its summary is in cli/blc.ts, which loads this module only to run it. */
export const replayCheckCommand: Command['run'] = run;
