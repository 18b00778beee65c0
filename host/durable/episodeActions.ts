/**
 * What each new action of the orchestrator writes in an episode: the history event that records it,
 * with the sequence id the library expects, and the effect the engine starts once it is committed.
 * Pure apart from random ids for entity requests: no I/O, no clock, no user code.
 */
import { randomUUID } from 'node:crypto';
import { type Action, ActionType, type HttpRequestAction, inputAsJsonText } from './actions';
import type { Effect, EpisodeContext, RuntimeState } from './episodeTypes';
import { EventType, type HistoryEvent, event, isoTime } from './history';

export function trackRetryAttempt(runtime: RuntimeState, id: number, action: Action, attempt: number): void {
  runtime.retries[id] = { action, attempt, phase: 'attempt' };
  (runtime.retryAttempts ??= []).push(id);
}

export function takeId(runtime: RuntimeState): number {
  return runtime.nextId++;
}

export function scheduleLeaf(
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

export function sendToEntity(
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

export function scheduleActivity(
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

export function scheduleSubOrchestration(
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
