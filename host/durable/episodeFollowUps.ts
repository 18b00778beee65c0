/**
 * The host's own follow-up work inside an episode: retry timers and re-attempts of tasks with
 * retry, and the polling of durable HTTP calls answered with 202. It orders an episode's new events
 * so the ids the host takes for these come after the ids user code takes, as in the library, and
 * writes each follow-up to the history and effects. Pure: no I/O, no clock, no user code.
 */
import { ActionType, type HttpRequestAction, retryDelayMs } from './actions';
import { scheduleActivity, scheduleSubOrchestration, takeId, trackRetryAttempt } from './episodeActions';
import { DEFAULT_HTTP_POLL_MS, type Effect, type EpisodeContext, type RuntimeState } from './episodeTypes';
import { EventType, type HistoryEvent, event, isoTime } from './history';

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

/** Bookkeeping for completions of tracked tasks, and the host's own follow-up work. */
export function applyFollowUp(
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
