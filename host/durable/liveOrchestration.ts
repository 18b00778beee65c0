/**
 * Keeps a `durable-functions` orchestration alive between episodes. After a full replay through
 * the worker shim, the library's TaskOrchestrationExecutor (with the user's suspended generator)
 * is kept; the next episode hands it only the events a full replay would have read after the ones
 * it has already seen, and builds the OrchestratorState exactly as the library's own `execute`
 * does. This relies on the internals of durable-functions 3.x, so everything is checked first and
 * any surprise returns `undefined`: the caller then replays in full, which is always correct.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Action, OrchestratorState } from './actions';
import type { HistoryEvent } from './history';
import type { InstanceRow } from './backend';
import type { CoreInvocationContext } from '../worker/coreApi';

/** The parts of the library's TaskOrchestrationExecutor this module uses. */
interface LibraryExecutor {
  actions: unknown[];
  context: { customStatus?: unknown };
  exception: unknown;
  output: unknown;
  orchestratorReturned: boolean;
  schemaVersion: number;
  _isReplaying: boolean;
  processEvent(event: unknown): void;
  isDoneExecuting(): boolean;
  hasCompletedSuccessfully(): boolean;
}

/** Library classes and helpers, taken from the copy of durable-functions the app itself loaded. */
interface LibraryParts {
  OrchestratorState: new (options: Record<string, unknown>) => unknown;
  OrchestrationFailureError: new (error: unknown, state: unknown) => Error;
  TaskFailedError: abstract new (...args: never[]) => { failureDetails: unknown };
  toFailureDetailsPayload: (details: unknown) => unknown;
  parseTimestampsAsDates: (obj: unknown) => void;
}

const SUPPORTED_MAJOR = 3;
const partsByExecutorClass = new WeakMap<object, LibraryParts | null>();

/** The orchestration's library state, and what the host knows it has seen. */
export interface LiveOrchestration {
  executionId: string;
  /** Stored history events the executor has read (the next episode's first event has this seq). */
  historyLength: number;
  /** JSON copies of the actions reported so far (what a full replay would report first). */
  actions: Action[];
  /**
   * Indexes of reported actions holding a timer not yet cancelled: user code may still cancel it,
   * which a full replay would show on the old action, so these are encoded again each episode.
   */
  cancellable: number[];
  executor: LibraryExecutor;
  parts: LibraryParts;
  /** The instance row as the last episode committed it (set by the engine). */
  row?: InstanceRow;
  /**
   * The core context of the invocation the orchestrator's code was started in: that code keeps
   * logging through it in later episodes, so the engine points its log at the current invocation.
   */
  invocation?: CoreInvocationContext;
}

export type LiveEpisodeResult = { ok: true; state: OrchestratorState } | { ok: false; error: Error };

/**
 * Takes hold of the executor behind a completed invocation of a `df.app.orchestration` handler.
 * `state` is the OrchestratorState that invocation returned (already decoded from JSON).
 */
export function captureLive(
  invocationContext: unknown,
  state: OrchestratorState,
  executionId: string,
  historyLength: number,
): LiveOrchestration | undefined {
  const df = (invocationContext as { df?: { taskOrchestratorExecutor?: unknown } } | undefined)?.df;
  const executor = df?.taskOrchestratorExecutor as LibraryExecutor | undefined;
  if (!executor || typeof executor !== 'object' || executor.context !== df) return undefined;
  const parts = libraryParts(executor);
  if (!parts) return undefined;
  const actions = state.actions?.[0];
  if (state.actions.length !== 1 || !Array.isArray(actions)) return undefined;
  if (actions.length !== executor.actions.length || state.isDone) return undefined;
  if (executor.isDoneExecuting()) return undefined;
  const live: LiveOrchestration = {
    executionId,
    historyLength,
    actions: [...actions],
    cancellable: [],
    executor,
    parts,
  };
  trackCancellable(live, 0);
  return live;
}

/**
 * Feeds events the host stored after the ones the executor has read (scheduling events and
 * OrchestratorCompleted, which a full replay would read as already played).
 */
export function feedStored(live: LiveOrchestration, events: HistoryEvent[]): void {
  for (const e of events) {
    live.executor._isReplaying = true;
    live.executor.processEvent(asLibraryEvent(live, e, true));
    live.historyLength++;
    if (live.executor.isDoneExecuting()) throw new Error('orchestration finished on a stored event');
  }
}

/**
 * Runs one episode: `replayed` are the events a full replay would append for this episode
 * (control events, OrchestratorStarted, new events). Returns what `execute` would have returned,
 * or the error it would have thrown. Throws when the library misbehaves (the caller then evicts).
 */
export function runLiveEpisode(live: LiveOrchestration, replayed: HistoryEvent[]): LiveEpisodeResult {
  const ex = live.executor;
  let lastStarted = -1;
  replayed.forEach((e, i) => {
    if (e.EventType === 12) lastStarted = i;
  });
  const before = ex.actions.length;
  for (let i = 0; i < replayed.length; i++) {
    ex._isReplaying = i < lastStarted;
    ex.processEvent(asLibraryEvent(live, replayed[i], false));
    if (ex.isDoneExecuting()) break;
  }
  // The library only ever appends to its action list; anything else means the model no longer holds.
  if (ex.actions.length < before) throw new Error('the library dropped actions');
  const fresh = ex.actions.slice(before);
  const p = live.parts;
  const libraryState = new p.OrchestratorState({
    isDone: ex.hasCompletedSuccessfully(),
    actions: [fresh],
    output: ex.output,
    error: (ex.exception as { message?: string } | undefined)?.message,
    customStatus: ex.context.customStatus,
    schemaVersion: ex.schemaVersion,
    failureDetails:
      ex.exception instanceof p.TaskFailedError
        ? p.toFailureDetailsPayload((ex.exception as { failureDetails: unknown }).failureDetails)
        : undefined,
  });
  if (ex.exception !== undefined)
    return { ok: false, error: new p.OrchestrationFailureError(ex.orchestratorReturned, libraryState) };
  // What the worker would send back: the state as JSON (only the new actions need encoding).
  const decoded = JSON.parse(JSON.stringify(libraryState)) as OrchestratorState;
  const newActions = decoded.actions?.[0] ?? [];
  refreshCancellable(live);
  const first = live.actions.length;
  live.actions.push(...newActions);
  trackCancellable(live, first);
  const all = live.actions.length === 0 ? [[]] : [live.actions];
  live.historyLength += replayed.length;
  return { ok: true, state: { ...decoded, actions: all } };
}

const TIMER = 5;

function hasOpenTimer(action: Action): boolean {
  if (action.actionType === TIMER) return action.isCanceled !== true;
  return (action.compoundActions ?? []).some(hasOpenTimer);
}

function trackCancellable(live: LiveOrchestration, from: number): void {
  for (let i = from; i < live.actions.length; i++)
    if (hasOpenTimer(live.actions[i])) live.cancellable.push(i);
}

/** Encodes again the reported actions whose timers user code may have cancelled since. */
function refreshCancellable(live: LiveOrchestration): void {
  if (live.cancellable.length === 0) return;
  const still: number[] = [];
  for (const i of live.cancellable) {
    const fresh = JSON.parse(JSON.stringify(live.executor.actions[i])) as Action;
    live.actions[i] = fresh;
    if (hasOpenTimer(fresh)) still.push(i);
  }
  live.cancellable = still;
}

/**
 * A stored event as the library sees it in a replay: its own object (decoded from JSON, as a full
 * replay's is, when it has nested objects), timestamps turned into Dates by the library's helper.
 */
function asLibraryEvent(live: LiveOrchestration, e: HistoryEvent, played: boolean): unknown {
  const flat = Object.values(e).every((v) => v === null || typeof v !== 'object');
  const copy = flat
    ? { ...e, IsPlayed: played }
    : (JSON.parse(JSON.stringify({ ...e, IsPlayed: played })) as Record<string, unknown>);
  live.parts.parseTimestampsAsDates(copy);
  return copy;
}

/** Finds the library modules behind an executor, or null when it is not a supported version. */
function libraryParts(executor: LibraryExecutor): LibraryParts | undefined {
  const ctor = (executor as unknown as { constructor: object }).constructor;
  const known = partsByExecutorClass.get(ctor);
  if (known !== undefined) return known ?? undefined;
  let parts: LibraryParts | null = null;
  try {
    parts = loadParts(ctor, executor);
  } catch {
    parts = null;
  }
  partsByExecutorClass.set(ctor, parts);
  return parts ?? undefined;
}

function loadParts(ctor: object, executor: LibraryExecutor): LibraryParts | null {
  const methods = ['processEvent', 'isDoneExecuting', 'hasCompletedSuccessfully', 'tryResumingUserCode'];
  const proto = (ctor as { prototype: Record<string, unknown> }).prototype;
  if (!methods.every((m) => typeof proto?.[m] === 'function')) return null;
  if (!Array.isArray(executor.actions) || typeof executor._isReplaying !== 'boolean') return null;
  const file = Object.values(require.cache).find(
    (m) => (m?.exports as Record<string, unknown> | undefined)?.TaskOrchestrationExecutor === ctor,
  )?.filename;
  if (!file || path.basename(file) !== 'TaskOrchestrationExecutor.js') return null;
  const src = path.resolve(path.dirname(file), '..');
  const pkgFile = path.resolve(src, '..', '..', 'package.json');
  const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8')) as { name?: string; version?: string };
  if (pkg.name !== 'durable-functions') return null;
  if (Number((pkg.version ?? '').split('.')[0]) !== SUPPORTED_MAJOR) return null;
  /* eslint-disable @typescript-eslint/no-require-imports */
  const stateMod = require(path.join(src, 'orchestrations', 'OrchestratorState.js')) as Record<
    string,
    unknown
  >;
  const failureMod = require(path.join(src, 'error', 'OrchestrationFailureError.js')) as Record<
    string,
    unknown
  >;
  const taskFailedMod = require(path.join(src, 'error', 'TaskFailedError.js')) as Record<string, unknown>;
  const utilsMod = require(path.join(src, 'util', 'Utils.js')) as { Utils?: Record<string, unknown> };
  /* eslint-enable @typescript-eslint/no-require-imports */
  const parseTimestamps = utilsMod.Utils?.parseTimestampsAsDates;
  if (
    typeof stateMod.OrchestratorState !== 'function' ||
    typeof failureMod.OrchestrationFailureError !== 'function' ||
    typeof taskFailedMod.TaskFailedError !== 'function' ||
    typeof taskFailedMod.toFailureDetailsPayload !== 'function' ||
    typeof parseTimestamps !== 'function'
  )
    return null;
  const Utils = utilsMod.Utils as Record<string, unknown>;
  return {
    OrchestratorState: stateMod.OrchestratorState as LibraryParts['OrchestratorState'],
    OrchestrationFailureError:
      failureMod.OrchestrationFailureError as LibraryParts['OrchestrationFailureError'],
    TaskFailedError: taskFailedMod.TaskFailedError as LibraryParts['TaskFailedError'],
    toFailureDetailsPayload: taskFailedMod.toFailureDetailsPayload as LibraryParts['toFailureDetailsPayload'],
    parseTimestampsAsDates: (obj) => (parseTimestamps as (o: unknown) => void).call(Utils, obj),
  };
}
