/**
 * One orchestration episode, decided: which new events the library replays and in what order, and,
 * from the OrchestratorState it returns, the history to append, the work to start and the new
 * status. It assigns sequence ids exactly as `durable-functions` does (new actions first, in
 * first-yield order, then host follow-ups such as retry timers), and fails the instance when a
 * replay no longer reproduces the recorded actions. Pure: no I/O, no clock, no user code.
 */
import { randomUUID } from 'node:crypto';
import {
  Action,
  ActionType,
  HttpRequestAction,
  OrchestratorState,
  inputAsJsonText,
  leafActions,
  retryDelayMs,
  signature,
} from './actions';
import { EventType, FailureDetails, HistoryEvent, event, isoTime } from './history';

interface RetryInfo {
  action: Action;
  attempt: number;
  phase: 'attempt' | 'timer';
}

interface HttpInfo {
  request: HttpRequestAction;
  phase: 'request' | 'timer';
  /** For a poll timer: the id the library reserved for the follow-up GET, and where to send it. */
  reservedId?: number;
  location?: string;
}

/** Host bookkeeping per execution, persisted with the instance. */
export interface RuntimeState {
  nextId: number;
  /** Signatures of the top-level actions already applied, in order. */
  applied: string[];
  retries: Record<number, RetryInfo>;
  http: Record<number, HttpInfo>;
  lock?: { requestId: string; entities: string[] };
  /** Ids of every attempt of a task with retry (rewind cannot re-run those faithfully). */
  retryAttempts?: number[];
}

export function newRuntimeState(): RuntimeState {
  return { nextId: 0, applied: [], retries: {}, http: {} };
}

export type Effect =
  | { kind: 'activity'; taskId: number; name: string; input: string | null }
  | { kind: 'http'; taskId: number; request: HttpRequestAction }
  | { kind: 'timer'; timerId: number; fireAt: number }
  | {
      kind: 'subOrchestration';
      taskId: number;
      name: string;
      instanceId: string;
      input: string | null;
      version?: string;
    }
  | { kind: 'entityMessage'; entityId: string; name: string; message: Record<string, unknown> };

export type EpisodeResult =
  | { ok: true; state: OrchestratorState }
  | {
      ok: false;
      message: string;
      failureDetails?: FailureDetails;
      /** The custom status the failing code had set, if the library reported it. */
      customStatus?: unknown;
    };

export interface EpisodeOutcome {
  append: HistoryEvent[];
  runtime: RuntimeState;
  effects: Effect[];
  /** JSON text of the new custom status; undefined leaves the stored one as it was. */
  customStatus: string | null | undefined;
  end?:
    | { status: 'Completed'; output: string }
    | { status: 'Failed'; output: string; failureDetails: FailureDetails }
    | { status: 'ContinuedAsNew'; input: string | null };
}

export const DEFAULT_HTTP_POLL_MS = 30_000;

/**
 * Orders an episode's new events the way the id rules need: events that make the host take a
 * follow-up id (a failed retry attempt, a retry timer with attempts left, an HTTP 202) go last, so
 * ids taken by user code resumed by the other events come first, as in the library.
 */
export function orderNewEvents(events: HistoryEvent[], runtime: RuntimeState): HistoryEvent[] {
  const normal: HistoryEvent[] = [];
  const followUps: HistoryEvent[] = [];
  for (const e of events) (followUpKind(e, runtime) ? followUps : normal).push(e);
  return [...normal, ...followUps];
}

type FollowUp = 'retry-timer' | 'retry-attempt' | 'http-poll';

function followUpKind(e: HistoryEvent, runtime: RuntimeState): FollowUp | undefined {
  if (e.EventType === EventType.TaskFailed || e.EventType === EventType.SubOrchestrationInstanceFailed) {
    const r = runtime.retries[e.TaskScheduledId ?? -1];
    if (r?.phase === 'attempt') return 'retry-timer';
  }
  if (e.EventType === EventType.TimerFired) {
    const r = runtime.retries[e.TimerId ?? -1];
    if (r?.phase === 'timer' && r.attempt < (r.action.retryOptions?.maxNumberOfAttempts ?? 1))
      return 'retry-attempt';
  }
  if (e.EventType === EventType.TaskCompleted) {
    const h = runtime.http[e.TaskScheduledId ?? -1];
    if (h?.phase === 'request' && pollLocation(e) !== undefined) return 'http-poll';
  }
  return undefined;
}

function pollLocation(e: HistoryEvent): { location: string; retryAfterMs?: number } | undefined {
  try {
    const res = JSON.parse(e.Result ?? 'null') as {
      statusCode?: number;
      headers?: Record<string, unknown>;
    } | null;
    if (res?.statusCode !== 202 || !res.headers) return undefined;
    const header = (name: string): string | undefined => {
      const key = Object.keys(res.headers ?? {}).find((k) => k.toLowerCase() === name);
      const v = key === undefined ? undefined : res.headers?.[key];
      return Array.isArray(v) ? String(v[0]) : v === undefined ? undefined : String(v);
    };
    const location = header('location');
    if (!location) return undefined;
    const retryAfter = Number(header('retry-after'));
    return {
      location,
      retryAfterMs: Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : undefined,
    };
  } catch {
    return undefined;
  }
}

export interface EpisodeContext {
  instanceId: string;
  executionId: string;
  orchestrationName: string;
  now: number;
  /** Sequence number of the first appended event. */
  runtime: RuntimeState;
  /** OrchestratorStarted + the new events, in the order they were replayed. */
  replayed: HistoryEvent[];
  /**
   * Leading actions already checked against the recorded ones in an earlier episode of the same
   * live library state (the very same objects, so checking them again cannot fail).
   */
  verifiedActions?: number;
}

export function decideEpisode(ctx: EpisodeContext, result: EpisodeResult): EpisodeOutcome {
  const runtime: RuntimeState = structuredClone(ctx.runtime);
  const append: HistoryEvent[] = [...ctx.replayed];
  const effects: Effect[] = [];
  const now = ctx.now;

  if (!result.ok) {
    append.push(event(EventType.OrchestratorCompleted, now));
    const outcome = failed(ctx, append, runtime, result.message, result.failureDetails);
    if (result.customStatus !== undefined && result.customStatus !== null)
      outcome.customStatus = JSON.stringify(result.customStatus);
    return outcome;
  }
  const state = result.state;
  const actions = state.actions?.[0] ?? [];

  // Replaying must reproduce what was recorded; otherwise ids would point at the wrong tasks.
  for (let i = Math.min(ctx.verifiedActions ?? 0, runtime.applied.length); i < runtime.applied.length; i++) {
    const recorded = runtime.applied[i];
    const current = actions[i] === undefined ? undefined : signature(actions[i]);
    if (current !== recorded) {
      const message =
        `Non-deterministic orchestration detected: action #${i + 1} in the recorded history is ${recorded}, ` +
        `but replaying the current code ${current === undefined ? 'produces no such action' : `produces ${current}`}. ` +
        'Was the orchestrator code changed while this instance was running?';
      append.push(event(EventType.OrchestratorCompleted, now));
      return failed(ctx, append, runtime, message, {
        ErrorType: 'NonDeterministicOrchestrationError',
        ErrorMessage: message,
      });
    }
  }

  let continueAsNew: { input: string | null } | undefined;
  for (const action of actions.slice(runtime.applied.length)) {
    runtime.applied.push(signature(action));
    for (const leaf of leafActions(action)) {
      if (leaf.actionType === ActionType.ContinueAsNew) {
        continueAsNew = { input: inputAsJsonText(leaf) };
        continue;
      }
      scheduleLeaf(ctx, runtime, leaf, append, effects);
    }
  }

  // Once the orchestration is done the library stops reading events; so does the host.
  if (!state.isDone) for (const e of ctx.replayed) applyFollowUp(ctx, runtime, e, append, effects);

  append.push(event(EventType.OrchestratorCompleted, now));
  const customStatus =
    state.customStatus === undefined || state.customStatus === null
      ? null
      : JSON.stringify(state.customStatus);

  if (continueAsNew) {
    return {
      append,
      runtime,
      effects,
      customStatus,
      end: { status: 'ContinuedAsNew', input: continueAsNew.input },
    };
  }
  if (state.isDone) {
    const output = JSON.stringify(state.output ?? null);
    append.push(
      event(EventType.ExecutionCompleted, now, { OrchestrationStatus: 'Completed', Result: output }),
    );
    return { append, runtime, effects, customStatus, end: { status: 'Completed', output } };
  }
  return { append, runtime, effects, customStatus };
}

function failed(
  ctx: EpisodeContext,
  append: HistoryEvent[],
  runtime: RuntimeState,
  message: string,
  failureDetails?: FailureDetails,
): EpisodeOutcome {
  const output = `Orchestrator function '${ctx.orchestrationName}' failed: ${message}`;
  const details = failureDetails ?? { ErrorType: 'Error', ErrorMessage: message };
  append.push(
    event(EventType.ExecutionCompleted, ctx.now, {
      OrchestrationStatus: 'Failed',
      Result: JSON.stringify(output),
      FailureDetails: details,
    }),
  );
  return {
    append,
    runtime,
    effects: [],
    customStatus: undefined,
    end: { status: 'Failed', output, failureDetails: details },
  };
}

function trackRetryAttempt(runtime: RuntimeState, id: number, action: Action, attempt: number): void {
  runtime.retries[id] = { action, attempt, phase: 'attempt' };
  (runtime.retryAttempts ??= []).push(id);
}

function takeId(runtime: RuntimeState): number {
  return runtime.nextId++;
}

function scheduleLeaf(
  ctx: EpisodeContext,
  runtime: RuntimeState,
  leaf: Action,
  append: HistoryEvent[],
  effects: Effect[],
): void {
  const now = ctx.now;
  switch (leaf.actionType) {
    case ActionType.CallActivity:
    case ActionType.CallActivityWithRetry: {
      const id = takeId(runtime);
      if (leaf.actionType === ActionType.CallActivityWithRetry) trackRetryAttempt(runtime, id, leaf, 1);
      scheduleActivity(id, leaf, now, append, effects);
      return;
    }
    case ActionType.CallSubOrchestrator:
    case ActionType.CallSubOrchestratorWithRetry: {
      const id = takeId(runtime);
      if (leaf.actionType === ActionType.CallSubOrchestratorWithRetry)
        trackRetryAttempt(runtime, id, leaf, 1);
      scheduleSubOrchestration(ctx, id, leaf, append, effects);
      return;
    }
    case ActionType.CreateTimer: {
      const id = takeId(runtime);
      const fireAt = new Date(leaf.fireAt ?? now).getTime();
      append.push(event(EventType.TimerCreated, now, { EventId: id, FireAt: isoTime(fireAt) }));
      effects.push({ kind: 'timer', timerId: id, fireAt });
      return;
    }
    case ActionType.WaitForExternalEvent:
      return;
    case ActionType.CallHttp: {
      const id = takeId(runtime);
      const request = leaf.httpRequest as HttpRequestAction;
      if (request.asynchronousPatternEnabled !== false) runtime.http[id] = { request, phase: 'request' };
      append.push(
        event(EventType.TaskScheduled, now, {
          EventId: id,
          Name: 'BuiltIn::HttpActivity',
          Input: JSON.stringify(request),
        }),
      );
      effects.push({ kind: 'http', taskId: id, request });
      return;
    }
    case ActionType.CallEntity:
    case ActionType.SignalEntity: {
      const id = takeId(runtime);
      const signal = leaf.actionType === ActionType.SignalEntity;
      const message: Record<string, unknown> = {
        op: leaf.operation,
        id: randomUUID(),
        input: leaf.input === undefined ? null : JSON.stringify(leaf.input),
        parent: ctx.instanceId,
        ...(signal ? { signal: true } : {}),
      };
      sendToEntity(id, String(leaf.instanceId), 'op', message, now, append, effects);
      return;
    }
    case ActionType.LockEntities: {
      const id = takeId(runtime);
      const lockset = (leaf.lockSet ?? []).map((e) => `@${e.name.toLowerCase()}@${e.key}`);
      const requestId = String(leaf.lockRequestId);
      runtime.lock = { requestId, entities: lockset };
      const message = { id: requestId, lockset, pos: 0, parent: ctx.instanceId };
      if (lockset.length) sendToEntity(id, lockset[0], 'op', message, now, append, effects);
      return;
    }
    case ActionType.ReleaseEntities: {
      const held = runtime.lock?.entities ?? [];
      for (const entityId of held) {
        const id = takeId(runtime);
        sendToEntity(
          id,
          entityId,
          'release',
          { id: runtime.lock?.requestId, parent: ctx.instanceId },
          now,
          append,
          effects,
        );
      }
      runtime.lock = undefined;
      return;
    }
    default:
      return;
  }
}

function sendToEntity(
  id: number,
  entityId: string,
  name: string,
  message: Record<string, unknown>,
  now: number,
  append: HistoryEvent[],
  effects: Effect[],
): void {
  append.push(
    event(EventType.EventSent, now, {
      EventId: id,
      Name: name,
      InstanceId: entityId,
      Input: JSON.stringify(message),
    }),
  );
  effects.push({ kind: 'entityMessage', entityId, name, message });
}

function scheduleActivity(
  id: number,
  action: Action,
  now: number,
  append: HistoryEvent[],
  effects: Effect[],
): void {
  const input = inputAsJsonText(action);
  append.push(event(EventType.TaskScheduled, now, { EventId: id, Name: action.functionName, Input: input }));
  effects.push({ kind: 'activity', taskId: id, name: String(action.functionName), input });
}

function scheduleSubOrchestration(
  ctx: EpisodeContext,
  id: number,
  action: Action,
  append: HistoryEvent[],
  effects: Effect[],
): void {
  const instanceId = action.instanceId || `${ctx.executionId}:${id}`;
  const input = inputAsJsonText(action);
  append.push(
    event(EventType.SubOrchestrationInstanceCreated, ctx.now, {
      EventId: id,
      Name: action.functionName,
      InstanceId: instanceId,
      Input: input,
      ...(action.version ? { Version: action.version } : {}),
    }),
  );
  effects.push({
    kind: 'subOrchestration',
    taskId: id,
    name: String(action.functionName),
    instanceId,
    input,
    version: action.version,
  });
}

/** Bookkeeping for completions of tracked tasks, and the host's own follow-up work. */
function applyFollowUp(
  ctx: EpisodeContext,
  runtime: RuntimeState,
  e: HistoryEvent,
  append: HistoryEvent[],
  effects: Effect[],
): void {
  const now = ctx.now;
  const kind = followUpKind(e, runtime);
  if (
    e.EventType === EventType.TaskCompleted ||
    e.EventType === EventType.SubOrchestrationInstanceCompleted
  ) {
    delete runtime.retries[e.TaskScheduledId ?? -1];
  }
  if (kind === 'retry-timer') {
    const r = runtime.retries[e.TaskScheduledId as number];
    delete runtime.retries[e.TaskScheduledId as number];
    const id = takeId(runtime);
    const fireAt =
      now +
      retryDelayMs(
        r.action.retryOptions ?? { firstRetryIntervalInMilliseconds: 0, maxNumberOfAttempts: 1 },
        r.attempt,
      );
    runtime.retries[id] = { ...r, phase: 'timer' };
    append.push(event(EventType.TimerCreated, now, { EventId: id, FireAt: isoTime(fireAt) }));
    effects.push({ kind: 'timer', timerId: id, fireAt });
    return;
  }
  if (kind === 'retry-attempt') {
    const r = runtime.retries[e.TimerId as number];
    delete runtime.retries[e.TimerId as number];
    const id = takeId(runtime);
    trackRetryAttempt(runtime, id, r.action, r.attempt + 1);
    if (r.action.actionType === ActionType.CallActivityWithRetry)
      scheduleActivity(id, r.action, now, append, effects);
    else scheduleSubOrchestration(ctx, id, r.action, append, effects);
    return;
  }
  if (e.EventType === EventType.TimerFired && runtime.retries[e.TimerId ?? -1]) {
    // The last retry timer: the library now fails the task; nothing more to schedule.
    delete runtime.retries[e.TimerId as number];
    return;
  }
  if (kind === 'http-poll') {
    const h = runtime.http[e.TaskScheduledId as number];
    delete runtime.http[e.TaskScheduledId as number];
    const poll = pollLocation(e);
    const timerId = takeId(runtime);
    const reservedId = takeId(runtime);
    const fireAt = now + (poll?.retryAfterMs ?? DEFAULT_HTTP_POLL_MS);
    runtime.http[timerId] = { request: h.request, phase: 'timer', reservedId, location: poll?.location };
    append.push(event(EventType.TimerCreated, now, { EventId: timerId, FireAt: isoTime(fireAt) }));
    effects.push({ kind: 'timer', timerId, fireAt });
    return;
  }
  if (e.EventType === EventType.TaskCompleted || e.EventType === EventType.TaskFailed) {
    delete runtime.http[e.TaskScheduledId ?? -1];
    return;
  }
  if (e.EventType === EventType.TimerFired) {
    const h = runtime.http[e.TimerId ?? -1];
    if (h?.phase === 'timer' && h.reservedId !== undefined) {
      delete runtime.http[e.TimerId as number];
      const request: HttpRequestAction = {
        ...h.request,
        method: 'GET',
        uri: h.location ?? h.request.uri,
        content: undefined,
      };
      runtime.http[h.reservedId] = { request, phase: 'request' };
      append.push(
        event(EventType.TaskScheduled, now, {
          EventId: h.reservedId,
          Name: 'BuiltIn::HttpActivity',
          Input: JSON.stringify(request),
        }),
      );
      effects.push({ kind: 'http', taskId: h.reservedId, request });
    }
  }
}
