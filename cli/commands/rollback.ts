/**
 * `blc rollback list|show|plan|execute|create`: rollback points over the public API
 * (/api/rollback-points), records named as people know them. `plan` is a read and changes nothing;
 * `execute` (or `run`) starts the `rollback` orchestration (`--wait` follows it), also again for a
 * point whose rollback failed; `--cascade` and `--force` are passed through for the app to judge.
 */
import type { RollbackPlan, RollbackPoint, RollbackPointListed } from '../../lib/contracts/responses';
import { BlcError } from '../apiClient';
import { COMMON_HELP, flag, jsonArg, parse, positionals, str, type Parsed } from '../args';
import { actionLines, planLines, rollbackText } from '../format/rollback';
import { resourceText } from '../format/records';
import { fields, json, print, table } from '../output';
import { WAIT_OPTIONS, waitAndFinish } from './instances';
import type { Command } from './types';

const enc = encodeURIComponent;

const HELP = `Usage: blc rollback <list|show|plan|execute|create> [options]

  list [--status S[,S]] [--resource dataverse:<table>:<id>|config:<name>]
  show <pointId>                     The point with its undo plan
  plan <pointId> [--cascade] [--force]
                                     What a rollback would do, or why it would be refused (changes nothing)
  execute <pointId> [--cascade] [--force] [--wait [--timeout S]]
                                     Roll back (starts the rollback orchestration); also retries a
                                     point whose rollback failed, once the cause is fixed ('run' too)
  create [--description TEXT] [--record <table>:<id>]... [--include-config] [--retention-days N]
         [--input JSON|@file] [--wait]
                                     Make a rollback point by hand

  --cascade   Also roll back later points that touched the same resources
  --force     Roll back even where a field changed since (overwrites those changes)

${COMMON_HELP}`;

async function list(p: Parsed): Promise<number> {
  positionals(p, [], 'blc rollback list [--status S] [--resource R]');
  const answer = await p.client().get<{ points: RollbackPointListed[] }>('rollback-points', {
    query: { status: str(p, 'status'), resource: str(p, 'resource') },
  });
  if (p.json) print(json(answer.body));
  else
    print(
      table(answer.body.points, [
        { header: 'point', value: (r) => r.id },
        { header: 'status', value: (r) => r.status },
        { header: 'origin', value: (r) => r.origin },
        { header: 'created', value: (r) => r.createdAt },
        { header: 'resources', value: (r) => r.resources.map(resourceText).join(', ') },
        { header: 'description', value: (r) => r.description },
      ]),
    );
  return 0;
}

async function show(p: Parsed): Promise<number> {
  const [id] = positionals(p, ['<pointId>'], 'blc rollback show <pointId>');
  const point = (await p.client().get<RollbackPoint>(`rollback-points/${enc(id)}`)).body;
  if (p.json) {
    print(json(point));
    return 0;
  }
  print(
    fields([
      ['point', point.id],
      ['status', point.status],
      ['origin', point.origin],
      ['description', point.description],
      ['created', point.createdAt],
      ['expires', point.expiresAt],
      ['saga', point.sagaInstanceId],
      ['rollback', rollbackText(point)],
      ['resources', point.resources.map(resourceText).join(', ')],
    ]),
  );
  print(`\nUndo plan (a rollback runs it in this order):\n${actionLines(point.plan ?? []).join('\n')}`);
  return 0;
}

function options(p: Parsed): Record<string, boolean> {
  return { ...(flag(p, 'cascade') ? { cascade: true } : {}), ...(flag(p, 'force') ? { force: true } : {}) };
}

async function plan(p: Parsed): Promise<number> {
  const [id] = positionals(p, ['<pointId>'], 'blc rollback plan <pointId> [--cascade] [--force]');
  const answer = await p.client().post(`rollback-points/${enc(id)}/plan`, { body: options(p) });
  if (p.json) {
    print(json(answer.body));
    return 0;
  }
  print(planLines(answer.body as unknown as RollbackPlan).join('\n'));
  return 0;
}

async function execute(p: Parsed): Promise<number> {
  const [id] = positionals(p, ['<pointId>'], 'blc rollback execute <pointId> [--cascade] [--force] [--wait]');
  const answer = await p.client().post(`rollback-points/${enc(id)}/execute`, { body: options(p) });
  const instanceId = String(answer.body.id);
  if (flag(p, 'wait')) {
    if (!p.json) print(`Rolling back ${id} as ${instanceId}`);
    return waitAndFinish(p, instanceId);
  }
  print(
    p.json
      ? json(answer.body)
      : `Rolling back ${id} as ${instanceId}; follow it with: blc status ${instanceId}`,
  );
  return 0;
}

async function create(p: Parsed): Promise<number> {
  positionals(p, [], 'blc rollback create [options]');
  const raw = str(p, 'input');
  const input: Record<string, unknown> =
    raw === undefined ? {} : ((await jsonArg(raw, '--input')) as Record<string, unknown>);
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw BlcError.usage('--input must be a JSON object');
  const description = str(p, 'description');
  if (description !== undefined) input.description = description;
  const records = (p.values.record as string[] | undefined) ?? [];
  if (records.length)
    input.records = records.map((r) => {
      const [table, id, ...rest] = r.split(':');
      if (!table || !id || rest.length) throw BlcError.usage(`--record must be <table>:<id>, got '${r}'`);
      return { table, id };
    });
  if (flag(p, 'include-config')) input.includeConfig = true;
  const days = str(p, 'retention-days');
  if (days !== undefined) {
    const n = Number(days);
    if (!Number.isFinite(n)) throw BlcError.usage(`--retention-days must be a number, got '${days}'`);
    input.retentionDays = n;
  }
  const answer = await p.client().post('rollback-points', { body: input });
  const instanceId = String(answer.body.id);
  if (flag(p, 'wait')) {
    if (!p.json) print(`Creating a rollback point as ${instanceId}`);
    return waitAndFinish(p, instanceId);
  }
  print(
    p.json
      ? json(answer.body)
      : `Creating a rollback point as ${instanceId}; follow it with: blc status ${instanceId}`,
  );
  return 0;
}

const ACTIONS: Record<string, (p: Parsed) => Promise<number>> = {
  list,
  show,
  plan,
  execute,
  run: execute,
  create,
};

export const rollbackCommand: Command = {
  summary: 'Rollback points: list, show, plan, execute (or run), create',
  async run(argv) {
    const [action, ...rest] = argv;
    if (action === undefined || action === '--help' || action === '-h' || action === 'help') {
      print(HELP);
      return action === undefined ? 2 : 0;
    }
    const run = ACTIONS[action];
    if (!run)
      throw BlcError.usage(`unknown rollback action '${action}'; use ${Object.keys(ACTIONS).join(', ')}`);
    const p = parse(rest, {
      status: { type: 'string' },
      resource: { type: 'string' },
      cascade: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      description: { type: 'string' },
      record: { type: 'string', multiple: true },
      'include-config': { type: 'boolean', default: false },
      'retention-days': { type: 'string' },
      input: { type: 'string' },
      ...WAIT_OPTIONS,
    });
    if (p.help) {
      print(HELP);
      return 0;
    }
    return run(p);
  },
};
