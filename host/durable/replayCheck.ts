/**
 * Replay check: would the current code still reproduce the stored histories? For each selected
 * instance it replays the recorded history through the app's orchestrator — loaded through the
 * worker shim and invoked through the real `durable-functions` library, exactly as the engine does —
 * and compares the actions the code produces now with the ones the engine recorded as applied. An
 * instance that does not match would fail with a non-determinism error at its next episode, so this
 * is the check to run before deploying changed orchestrator code.
 *
 * It opens the store read-only (WAL lets it read while a host is running) and writes nothing: no
 * history, no work, no activity runs. Only orchestrator code runs, which must be free of I/O anyway.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readLocalSettings } from '../settings';
import { WorkerCore } from '../worker/coreApi';
import { fromTypedData, invokeFunction } from '../worker/invoke';
import { loadApp } from '../worker/loadApp';
import { signature, type OrchestratorState } from './actions';
import { FunctionIndex } from './functionIndex';
import type { InstanceRow, ReadOnlyBackend } from './backend';
import { EventType, type HistoryEvent } from './history';
import { SqliteBackend } from './sqliteBackend';
import { orchestrationTriggerPayload, stateOfThrow } from './triggerPayload';

/** Statuses of instances that will run their orchestrator again: the ones a deploy can break. */
export const LIVE_STATUSES = ['Pending', 'Running', 'Suspended', 'ContinuedAsNew'] as const;

export type ReplayResult =
  /** The current code produces the recorded actions (and ends as recorded, for finished instances). */
  | 'reproduced'
  /** Nothing recorded yet (the first episode has not run): nothing to compare. */
  | 'not started'
  /** The code produces other actions than those recorded. */
  | 'diverged'
  /** The app no longer registers the instance's orchestrator. */
  | 'missing'
  /** Replaying throws an error the history did not record. */
  | 'error';

/** Results that mean the instance would not continue as recorded. */
export const FAILING_RESULTS: readonly ReplayResult[] = ['diverged', 'missing', 'error'];

export interface InstanceCheck {
  instanceId: string;
  name: string;
  status: string;
  result: ReplayResult;
  /** For anything but a plain reproduction: what differs, in one sentence. */
  detail?: string;
  /** How many top-level actions the history recorded. */
  recordedActions: number;
}

export interface ReplayCheckOptions {
  appDir: string;
  /** The durable store file (see findStore). */
  storeFile: string;
  /** Every instance, finished ones too (default: only LIVE_STATUSES). */
  all?: boolean;
  /** Only these instances (any status). */
  instanceIds?: string[];
  /** Only instances of these orchestrations. */
  names?: string[];
}

export interface ReplayReport {
  appDir: string;
  storeFile: string;
  instances: InstanceCheck[];
}

export class ReplayCheckError extends Error {
  constructor(
    readonly code: 'STORE_NOT_FOUND' | 'STORE_UNREADABLE' | 'APP_LOAD_FAILED' | 'NOT_FOUND',
    message: string,
  ) {
    super(message);
    this.name = 'ReplayCheckError';
  }
}

const STORE_FILE = 'durable.sqlite';

/**
 * The store in a data folder: `DIR/durable.sqlite` (`blc serve --data DIR`) or
 * `DIR/host/durable.sqlite` (`blc up --data DIR`, which keeps the host's data in `host/`).
 */
export function findStore(dataDir: string): string {
  const candidates = [path.join(dataDir, STORE_FILE), path.join(dataDir, 'host', STORE_FILE)];
  const found = candidates.find((f) => fs.existsSync(f));
  if (!found)
    throw new ReplayCheckError(
      'STORE_NOT_FOUND',
      `no durable store in ${dataDir} (looked for ${candidates.map((c) => path.relative(dataDir, c)).join(' and ')})`,
    );
  return found;
}

/**
 * The data folder to use when none is given: `blc up`'s (`<app>/.data/host`, what `npm start` runs)
 * when it has a store, else `blc serve`'s default (`<app>/.data`).
 */
export function defaultDataDir(appDir: string): string {
  const up = path.join(appDir, '.data', 'host');
  return fs.existsSync(path.join(up, STORE_FILE)) ? up : path.join(appDir, '.data');
}

/** The store, read-only (WAL lets it read while a host is running). */
function openStore(file: string): ReadOnlyBackend {
  try {
    return SqliteBackend.openReadOnly(file);
  } catch (err) {
    throw new ReplayCheckError(
      'STORE_UNREADABLE',
      `cannot read ${file} as a durable store: ${(err as Error).message}`,
    );
  }
}

/** The instances the options select, oldest first. */
function selectInstances(store: ReadOnlyBackend, file: string, options: ReplayCheckOptions): InstanceRow[] {
  let rows: InstanceRow[];
  if (options.instanceIds?.length) {
    rows = options.instanceIds.map((id) => {
      const row = store.getInstance(id);
      if (!row) throw new ReplayCheckError('NOT_FOUND', `there is no instance '${id}' in ${file}`);
      return row;
    });
  } else {
    rows = [];
    let continuation: string | undefined;
    do {
      const page = store.queryInstances({
        statuses: options.all ? undefined : [...LIVE_STATUSES],
        continuation,
      });
      rows.push(...page.rows);
      continuation = page.continuation;
    } while (continuation);
  }
  if (options.names?.length) {
    const names = new Set(options.names.map((n) => n.toLowerCase()));
    rows = rows.filter((r) => names.has(r.name.toLowerCase()));
  }
  return rows;
}

/** Loads the app as `blc serve` does (settings into the environment, then main), without serving. */
async function loadRegistrations(appDir: string): Promise<WorkerCore> {
  let settings;
  try {
    settings = readLocalSettings(appDir);
  } catch (err) {
    throw new ReplayCheckError('APP_LOAD_FAILED', (err as Error).message);
  }
  for (const [k, v] of Object.entries(settings.Values ?? {}))
    if (process.env[k] === undefined) process.env[k] = String(v);
  const core = new WorkerCore();
  // The replay runs the code again; its logs were written the first time and are not news.
  core.logSink = () => undefined;
  try {
    await loadApp(appDir, core);
  } catch (err) {
    throw new ReplayCheckError('APP_LOAD_FAILED', (err as Error).message);
  }
  return core;
}

export async function replayCheck(options: ReplayCheckOptions): Promise<ReplayReport> {
  const appDir = path.resolve(options.appDir);
  const store = openStore(options.storeFile);
  try {
    const rows = selectInstances(store, options.storeFile, options);
    const core = await loadRegistrations(appDir);
    const functions = new FunctionIndex(core);
    const instances: InstanceCheck[] = [];
    try {
      for (const row of rows) instances.push(await checkInstance(core, functions, store, row));
    } finally {
      // As a worker shutting down: the app's appTerminate hooks release what appStart opened.
      await core.runHooks('appTerminate', { hookData: core.appHookData });
    }
    return { appDir, storeFile: options.storeFile, instances };
  } finally {
    store.close();
  }
}

/** The host's bookkeeping: signatures of the top-level actions the engine applied, in order. */
function recordedActions(row: InstanceRow): string[] | undefined {
  if (!row.runtime) return undefined;
  try {
    const applied = (JSON.parse(row.runtime) as { applied?: unknown }).applied;
    return Array.isArray(applied) ? applied.map(String) : undefined;
  } catch {
    return undefined;
  }
}

async function checkInstance(
  core: WorkerCore,
  functions: FunctionIndex,
  store: ReadOnlyBackend,
  row: InstanceRow,
): Promise<InstanceCheck> {
  const base = { instanceId: row.instanceId, name: row.name, status: row.status };
  const history = store.history(row.instanceId).map((e) => ({ ...e, IsPlayed: true }));
  const recorded = recordedActions(row);
  if (history.length === 0 || !history.some((e) => e.EventType === EventType.OrchestratorStarted))
    return { ...base, result: 'not started', recordedActions: 0 };
  if (!recorded)
    return {
      ...base,
      result: 'error',
      detail: 'the store keeps no record of the actions this instance applied',
      recordedActions: 0,
    };
  const counted = { ...base, recordedActions: recorded.length };

  const fn = functions.find('orchestrationTrigger', row.name);
  const registered = fn && core.functions.get(fn.name);
  if (!fn || !registered)
    return {
      ...counted,
      result: 'missing',
      detail: `the app registers no orchestrator named '${row.name}'`,
    };

  const replay = await replayHistory(core, fn.triggerKey, registered, row, history);
  const ending = recordedEnding(history);

  // The same comparison the engine makes when it replays: recorded prefix against current actions.
  const actions = replay.state?.actions?.[0] ?? [];
  for (let i = 0; i < recorded.length; i++) {
    const current = actions[i] === undefined ? undefined : signature(actions[i]);
    if (current !== recorded[i]) {
      // A throw before reaching the action is an error of its own, reported as such below.
      if (current === undefined && replay.error !== undefined) break;
      return {
        ...counted,
        result: 'diverged',
        detail:
          `action #${i + 1} in the recorded history is ${recorded[i]}, but replaying the current code ` +
          `${current === undefined ? 'produces no such action' : `produces ${current}`}`,
      };
    }
  }

  if (replay.error !== undefined) {
    if (ending?.status === 'Failed' && ending.message === replay.error)
      return { ...counted, result: 'reproduced', detail: 'fails again as recorded' };
    return {
      ...counted,
      result: 'error',
      detail:
        ending?.status === 'Failed'
          ? `replaying throws "${replay.error}", but the history recorded the failure "${ending.message}"`
          : `replaying throws "${replay.error}", which the history did not record`,
    };
  }
  if (ending?.status === 'Completed' && !replay.state?.isDone)
    return {
      ...counted,
      result: 'diverged',
      detail: 'the history recorded completion, but replaying the current code does not finish',
    };
  if (ending?.status === 'Failed' && ending.type !== 'NonDeterministicOrchestrationError')
    return {
      ...counted,
      result: 'diverged',
      detail: `the history recorded the failure "${ending.message}", but replaying the current code does not fail`,
    };
  return { ...counted, result: 'reproduced' };
}

function recordedEnding(
  history: HistoryEvent[],
): { status: string; message?: string; type?: string } | undefined {
  const end = history.find((e) => e.EventType === EventType.ExecutionCompleted);
  if (!end) return undefined;
  return {
    status: end.OrchestrationStatus ?? 'Completed',
    message: end.FailureDetails?.ErrorMessage,
    type: end.FailureDetails?.ErrorType,
  };
}

interface Replay {
  state?: OrchestratorState;
  /** The message of an error the orchestrator threw. */
  error?: string;
}

/** One invocation with the whole recorded history as already played, as the engine builds it. */
async function replayHistory(
  core: WorkerCore,
  triggerKey: string,
  fn: Parameters<typeof invokeFunction>[1],
  row: InstanceRow,
  history: HistoryEvent[],
): Promise<Replay> {
  // As the engine builds it, but starting as a replay: the code sees context.df.isReplaying.
  const payload = orchestrationTriggerPayload(row, [], history, { isReplaying: true });
  try {
    const res = await invokeFunction(core, fn, {
      inputData: [{ name: triggerKey, data: { string: payload } }],
    });
    const state = fromTypedData(res.returnValue) as OrchestratorState | undefined;
    if (!state || typeof state !== 'object' || !Array.isArray(state.actions))
      return { error: 'the orchestrator returned no orchestration state' };
    return { state };
  } catch (err) {
    // The library reports an orchestrator's throw with its state (actions so far) after a marker.
    const thrown = stateOfThrow(err);
    if (thrown)
      return {
        state: thrown.state,
        error: thrown.state.failureDetails?.ErrorMessage ?? thrown.state.error ?? thrown.message,
      };
    return { error: err instanceof Error ? err.message : String(err) };
  }
}
