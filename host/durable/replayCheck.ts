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
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { readLocalSettings } from '../settings';
import { WorkerCore } from '../worker/coreApi';
import { fromTypedData, invokeFunction } from '../worker/invoke';
import { loadApp } from '../worker/loadApp';
import { signature, type OrchestratorState } from './actions';
import { FunctionIndex } from './functionIndex';
import { EventType, type HistoryEvent } from './history';

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

interface StoredInstance {
  instance_id: string;
  name: string;
  status: string;
  input: string | null;
  parent_instance_id: string | null;
  runtime: string | null;
}

/** The few reads the check needs, on a read-only connection (the engine's Store opens read-write). */
class StoreReader {
  private readonly db: Database.Database;

  constructor(readonly file: string) {
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true });
      db.pragma('busy_timeout = 5000');
      const table = db
        .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name IN ('instances', 'history')")
        .all();
      if (table.length !== 2) throw new Error('it has no instances and history tables');
      this.db = db;
    } catch (err) {
      db?.close();
      throw new ReplayCheckError(
        'STORE_UNREADABLE',
        `cannot read ${file} as a durable store: ${(err as Error).message}`,
      );
    }
  }

  select(options: ReplayCheckOptions): StoredInstance[] {
    const columns = 'instance_id, name, status, input, parent_instance_id, runtime';
    let rows: StoredInstance[];
    if (options.instanceIds?.length) {
      const get = this.db.prepare(`SELECT ${columns} FROM instances WHERE instance_id = ?`);
      rows = options.instanceIds.map((id) => {
        const row = get.get(id) as StoredInstance | undefined;
        if (!row) throw new ReplayCheckError('NOT_FOUND', `there is no instance '${id}' in ${this.file}`);
        return row;
      });
    } else {
      rows = this.db
        .prepare(`SELECT ${columns} FROM instances ORDER BY created_at, instance_id`)
        .all() as StoredInstance[];
      if (!options.all) rows = rows.filter((r) => (LIVE_STATUSES as readonly string[]).includes(r.status));
    }
    if (options.names?.length) {
      const names = new Set(options.names.map((n) => n.toLowerCase()));
      rows = rows.filter((r) => names.has(r.name.toLowerCase()));
    }
    return rows;
  }

  history(instanceId: string): HistoryEvent[] {
    return (
      this.db.prepare('SELECT event FROM history WHERE instance_id = ? ORDER BY seq').all(instanceId) as {
        event: string;
      }[]
    ).map((r) => ({ ...(JSON.parse(r.event) as HistoryEvent), IsPlayed: true }));
  }

  close(): void {
    this.db.close();
  }
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
  const reader = new StoreReader(options.storeFile);
  try {
    const rows = reader.select(options);
    const core = await loadRegistrations(appDir);
    const functions = new FunctionIndex(core);
    const instances: InstanceCheck[] = [];
    try {
      for (const row of rows) instances.push(await checkInstance(core, functions, reader, row));
    } finally {
      // As a worker shutting down: the app's appTerminate hooks release what appStart opened.
      await core.runHooks('appTerminate', { hookData: core.appHookData });
    }
    return { appDir, storeFile: options.storeFile, instances };
  } finally {
    reader.close();
  }
}

/** The host's bookkeeping: signatures of the top-level actions the engine applied, in order. */
function recordedActions(row: StoredInstance): string[] | undefined {
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
  reader: StoreReader,
  row: StoredInstance,
): Promise<InstanceCheck> {
  const base = { instanceId: row.instance_id, name: row.name, status: row.status };
  const history = reader.history(row.instance_id);
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

const OUT_OF_PROC_MARKER = '$OutOfProcData$:';

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
  row: StoredInstance,
  history: HistoryEvent[],
): Promise<Replay> {
  const payload = {
    history,
    input: row.input === null ? null : safeParse(row.input),
    instanceId: row.instance_id,
    isReplaying: true,
    parentInstanceId: row.parent_instance_id,
    upperSchemaVersion: 1,
    upperSchemaVersionNew: 3,
    longRunningTimerIntervalDuration: '3.00:00:00',
    maximumShortTimerDuration: '3650.00:00:00',
    defaultHttpAsyncRequestSleepTimeMillseconds: 30_000,
  };
  try {
    const res = await invokeFunction(core, fn, {
      inputData: [{ name: triggerKey, data: { string: JSON.stringify(payload) } }],
    });
    const state = fromTypedData(res.returnValue) as OrchestratorState | undefined;
    if (!state || typeof state !== 'object' || !Array.isArray(state.actions))
      return { error: 'the orchestrator returned no orchestration state' };
    return { state };
  } catch (err) {
    // The library reports an orchestrator's throw with its state (actions so far) after a marker.
    const message = err instanceof Error ? err.message : String(err);
    const marker = message.indexOf(OUT_OF_PROC_MARKER);
    if (marker >= 0) {
      try {
        const state = JSON.parse(message.slice(marker + OUT_OF_PROC_MARKER.length)) as OrchestratorState;
        const error = state.failureDetails?.ErrorMessage ?? state.error ?? message.slice(0, marker).trim();
        return { state, error };
      } catch {
        // fall through: the raw message
      }
    }
    return { error: message };
  }
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
