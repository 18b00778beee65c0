/**
 * Orchestration instances: `start` (optionally waiting with a live view of the saga's steps),
 * `status`, `list`, and steering: `terminate`, `suspend`, `resume`, `raise`, `purge`. Each is a thin
 * call of the public API (POST /api/orchestrators/..., /api/instances/...); nothing is decided here
 * that the app decides.
 */
import { BlcError } from '../apiClient';
import { COMMON_HELP, flag, jsonArg, parse, positionals, str, type Parsed } from '../args';
import { fields, json, print, table, type Column } from '../output';
import { asChangeOutput, dryRunText, wouldFailMessage } from '../format/change';
import {
  appliedText,
  outcomeLines,
  phaseText,
  pointIdOf,
  rollbackPointText,
  stepState,
} from '../format/instance';
import { failureOf, watch, type InstanceView, type StepView } from '../watch';
import type { Command } from './types';

const enc = encodeURIComponent;

function help(text: string): number {
  print(`${text}\n\n${COMMON_HELP}`);
  return 0;
}

function seconds(p: Parsed, name: string): number | undefined {
  const raw = str(p, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!(n > 0)) throw BlcError.usage(`--${name} must be a number of seconds above 0, got '${raw}'`);
  return n * 1000;
}

/**
 * Waits for an instance and ends as it ended: the few lines of what it did and 0, or the failure
 * (thrown: one line on stderr, exit 1). A dataverseChange dry run prints its plan, and exits 1 when
 * the plan found problems. With --json: the final instance as JSON, and nothing else on stdout.
 */
export async function waitAndFinish(p: Parsed, id: string): Promise<number> {
  const view = await watch(p.client(), id, { quiet: p.json, timeoutMs: seconds(p, 'timeout') });
  if (p.json) print(json(view));
  const failure = failureOf(view);
  if (failure) throw failure;
  const dryRun = view.name === 'dataverseChange' ? asChangeOutput(view.output) : undefined;
  if (!p.json) {
    const lines = dryRun?.dryRun ? dryRunText(dryRun) : outcomeLines(view);
    if (lines.length) print(`\n${lines.join('\n')}`);
  }
  if (dryRun?.dryRun && dryRun.wouldFail) throw new BlcError(1, 'PLAN_INVALID', wouldFailMessage(dryRun));
  return 0;
}

export const WAIT_OPTIONS = {
  wait: { type: 'boolean', default: false },
  timeout: { type: 'string' },
} as const;

const START_HELP = `Usage: blc start <orchestration> [--input JSON|@file] [--id ID | --idempotency-key KEY] [--wait [--timeout S]]

Starts a public orchestration (dataverseChange, configChange, rollback, createRollbackPoint).
  --input JSON|@file  The input, inline or from a file (@- reads stdin)
  --id ID             The instance id (default: a new one); an existing id answers with that instance
  --idempotency-key KEY
                      Sent as Idempotency-Key: the same key again answers with the first instance
  --wait              Show the saga's steps live until it finishes; exit 1 if it does not complete
  --timeout S         With --wait: stop waiting after S seconds (exit 1)`;

async function start(argv: string[]): Promise<number> {
  const p = parse(argv, {
    input: { type: 'string' },
    id: { type: 'string' },
    'idempotency-key': { type: 'string' },
    ...WAIT_OPTIONS,
  });
  if (p.help) return help(START_HELP);
  const [name] = positionals(p, ['<orchestration>'], 'blc start <orchestration> [options]');
  const raw = str(p, 'input');
  const input = raw === undefined ? undefined : await jsonArg(raw, '--input');
  const id = str(p, 'id');
  const idempotencyKey = str(p, 'idempotency-key');
  const answer = await p
    .client()
    .post(`orchestrators/${enc(name)}${id ? `/${enc(id)}` : ''}`, {
      body: input,
      headers: idempotencyKey === undefined ? undefined : { 'idempotency-key': idempotencyKey },
    })
    .catch((err: unknown) => {
      // No input at all: say which option gives it, before what the app found missing.
      if (input === undefined && err instanceof BlcError && err.code === 'INVALID_INPUT')
        throw new BlcError(
          err.exitCode,
          err.code,
          `${name} needs an input: give it with --input JSON or --input @file (${err.message})`,
          err.status,
        );
      throw err;
    });
  const instanceId = String(answer.body.id);
  const replayed = answer.headers.get('idempotent-replayed') === 'true';
  if (flag(p, 'wait')) {
    if (!p.json) print(`${replayed ? 'Already started' : 'Started'} ${name} as ${instanceId}`);
    return waitAndFinish(p, instanceId);
  }
  if (p.json) print(json({ ...answer.body, existing: replayed }));
  else print(`${replayed ? 'Already started' : 'Started'} ${name} as ${instanceId}`);
  return 0;
}

/** The steps; an error the failure line already says is not said again. */
function stepsTable(view: InstanceView, steps: StepView[]): string {
  const pointId = pointIdOf(view);
  const failure = view.failure?.message ?? '';
  const errorOf = (s: StepView): string | undefined => {
    const message = s.compensation?.error?.message ?? s.error?.message;
    return message && !failure.includes(message) ? message : undefined;
  };
  const columns: Column<StepView>[] = [
    { header: 'step', value: (s) => s.name },
    { header: 'state', value: (s) => stepState(s, { pointId }) },
  ];
  if (steps.some(errorOf)) columns.push({ header: 'error', value: errorOf });
  return table(steps, columns);
}

const STATUS_HELP = `Usage: blc status <instanceId> [--history]

Shows an instance: status, saga phase and steps, what it changed, the rollback point it left, and the
failure if it failed (--json: the whole instance, with its input and output).
  --history   Also list its history events`;

async function status(argv: string[]): Promise<number> {
  const p = parse(argv, { history: { type: 'boolean', default: false } });
  if (p.help) return help(STATUS_HELP);
  const [id] = positionals(p, ['<instanceId>'], 'blc status <instanceId> [--history]');
  const view = (
    await p.client().get<InstanceView>(`instances/${enc(id)}`, {
      query: { history: flag(p, 'history') ? 'true' : undefined },
    })
  ).body;
  if (p.json) {
    print(json(view));
    return 0;
  }
  const description = (view.input as { description?: unknown } | null)?.description;
  print(
    fields([
      ['instance', view.instanceId],
      ['name', view.name],
      ['description', typeof description === 'string' && description ? description : undefined],
      ['status', view.runtimeStatus],
      ['phase', phaseText(view)],
      ['applied', appliedText(view)],
      ['created', view.createdTime],
      ['updated', view.lastUpdatedTime],
      ['failure', view.failure ? `${view.failure.code ?? ''} ${view.failure.message}`.trim() : undefined],
      ['rollback point', view.rollbackPoint ? rollbackPointText(view.rollbackPoint) : undefined],
    ]),
  );
  if (view.steps?.length) print(`\n${stepsTable(view, view.steps)}`);
  const change = view.name === 'dataverseChange' ? asChangeOutput(view.output) : undefined;
  const outcome = change?.dryRun ? dryRunText(change) : outcomeLines(view);
  if (outcome.length) print(`\n${outcome.join('\n')}`);
  if (view.history) {
    print(
      `\n${table(view.history, [
        { header: 'time', value: (e) => e.Timestamp },
        { header: 'event', value: (e) => e.EventType },
        { header: 'name', value: (e) => e.FunctionName ?? e.Name },
      ])}`,
    );
  }
  return 0;
}

const LIST_HELP = `Usage: blc list [--status S[,S]] [--name N[,N]] [--from ISO] [--to ISO] [--top N] [--next TOKEN]

Lists instances, newest first.
  --status S     Pending, Running, Completed, Failed, Terminated, Suspended, ... (comma-separated)
  --name N       Orchestration names (comma-separated)
  --from, --to   Created between these ISO 8601 times
  --top N        At most N (1-1000, default 50)
  --next TOKEN   The next page (the token a previous list printed)`;

async function list(argv: string[]): Promise<number> {
  const p = parse(argv, {
    status: { type: 'string' },
    name: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    top: { type: 'string' },
    next: { type: 'string' },
  });
  if (p.help) return help(LIST_HELP);
  positionals(p, [], 'blc list [options]');
  const answer = await p
    .client()
    .get<{ instances: InstanceView[]; continuationToken?: string }>('instances', {
      query: {
        status: str(p, 'status'),
        name: str(p, 'name'),
        createdFrom: str(p, 'from'),
        createdTo: str(p, 'to'),
        top: str(p, 'top'),
        continuationToken: str(p, 'next'),
      },
    });
  if (p.json) {
    print(json(answer.body));
    return 0;
  }
  print(
    table(answer.body.instances, [
      { header: 'instance', value: (i) => i.instanceId },
      { header: 'name', value: (i) => i.name },
      { header: 'status', value: (i) => i.runtimeStatus },
      { header: 'phase', value: (i) => i.phase },
      { header: 'created', value: (i) => i.createdTime },
    ]),
  );
  if (answer.body.continuationToken) print(`More: blc list --next ${answer.body.continuationToken}`);
  return 0;
}

function operation(op: 'terminate' | 'suspend' | 'resume'): Command {
  const usage = `blc ${op} <instanceId> [--reason TEXT]`;
  return {
    summary: `${op[0].toUpperCase()}${op.slice(1)} a running instance`,
    async run(argv) {
      const p = parse(argv, { reason: { type: 'string' } });
      if (p.help) return help(`Usage: ${usage}\n\n  --reason TEXT   Why (kept in the instance's history)`);
      const [id] = positionals(p, ['<instanceId>'], usage);
      const reason = str(p, 'reason');
      const answer = await p.client().post(`instances/${enc(id)}/${op}`, {
        body: reason === undefined ? undefined : { reason },
      });
      print(p.json ? json(answer.body) : `${op} accepted for ${id}`);
      return 0;
    },
  };
}

const RAISE_HELP = `Usage: blc raise <instanceId> <eventName> [--data JSON|@file]

Sends an event to a running instance.
  --data JSON|@file   The event's data (default: null)`;

async function raise(argv: string[]): Promise<number> {
  const p = parse(argv, { data: { type: 'string' } });
  if (p.help) return help(RAISE_HELP);
  const [id, event] = positionals(p, ['<instanceId>', '<eventName>'], 'blc raise <instanceId> <eventName>');
  const raw = str(p, 'data');
  const data = raw === undefined ? undefined : await jsonArg(raw, '--data');
  const answer = await p.client().post(`instances/${enc(id)}/events/${enc(event)}`, { body: data });
  print(p.json ? json(answer.body) : `event ${event} sent to ${id}`);
  return 0;
}

async function purge(argv: string[]): Promise<number> {
  const p = parse(argv);
  if (p.help) return help('Usage: blc purge <instanceId>\n\nDeletes a finished instance and its history.');
  const [id] = positionals(p, ['<instanceId>'], 'blc purge <instanceId>');
  const answer = await p.client().request('DELETE', `instances/${enc(id)}`);
  print(p.json ? json(answer.body) : `purged ${id} (${String(answer.body.instancesDeleted)} instance)`);
  return 0;
}

export const instanceCommands: Record<string, Command> = {
  start: { summary: 'Start an orchestration (--wait shows its steps live)', run: start },
  status: { summary: "Show an instance's status, steps and output", run: status },
  list: { summary: 'List instances (filters: status, name, created time)', run: list },
  terminate: operation('terminate'),
  suspend: operation('suspend'),
  resume: operation('resume'),
  raise: { summary: 'Send an event to a running instance', run: raise },
  purge: { summary: 'Delete a finished instance and its history', run: purge },
};
