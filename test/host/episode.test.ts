import { describe, expect, it } from 'vitest';
import { type Action, ActionType, type OrchestratorState } from '../../host/durable/actions';
import type { InstanceRow } from '../../host/durable/backend';
import {
  type EpisodeContext,
  type RuntimeState,
  decideEpisode,
  newRuntimeState,
  orderNewEvents,
} from '../../host/durable/episode';
import { episodeCompletion, terminationCompletion } from '../../host/durable/episodeCompletion';
import { EventType, type HistoryEvent, event } from '../../host/durable/history';
import { triageInbox } from '../../host/durable/inboxTriage';

const NOW = Date.parse('2026-03-01T12:00:00Z');

const activity = (name: string, input?: string): Action => ({
  actionType: ActionType.CallActivity,
  functionName: name,
  input,
});

function ctx(
  runtime: RuntimeState,
  replayed: HistoryEvent[] = [],
  extra: Partial<EpisodeContext> = {},
): EpisodeContext {
  return {
    instanceId: 'i',
    executionId: 'e1',
    orchestrationName: 'flow',
    now: NOW,
    runtime,
    replayed: [event(EventType.OrchestratorStarted, NOW), ...replayed],
    ...extra,
  };
}

function state(
  actions: Action[],
  more: Partial<OrchestratorState> = {},
): { ok: true; state: OrchestratorState } {
  return { ok: true, state: { isDone: false, actions: [actions], schemaVersion: 3, ...more } };
}

describe('decideEpisode', () => {
  it('schedules each new action with the next sequence id and records it as applied', () => {
    const runtime = newRuntimeState();
    const out = decideEpisode(
      ctx(runtime),
      state([
        activity('a', '"x"'),
        {
          actionType: ActionType.WhenAll,
          compoundActions: [
            activity('b'),
            { actionType: ActionType.CreateTimer, fireAt: new Date(NOW + 5000) },
          ],
        },
      ]),
    );
    expect(out.append.map((e) => [e.EventType, e.EventId, e.Name])).toEqual([
      [EventType.OrchestratorStarted, -1, undefined],
      [EventType.TaskScheduled, 0, 'a'],
      [EventType.TaskScheduled, 1, 'b'],
      [EventType.TimerCreated, 2, undefined],
      [EventType.OrchestratorCompleted, -1, undefined],
    ]);
    expect(out.effects).toEqual([
      { kind: 'activity', taskId: 0, name: 'a', input: '"x"' },
      { kind: 'activity', taskId: 1, name: 'b', input: null },
      { kind: 'timer', timerId: 2, fireAt: NOW + 5000 },
    ]);
    expect(out.runtime.applied).toEqual(["activity 'a'", "all(activity 'b', timer)"]);
    expect(out.runtime.nextId).toBe(3);
    expect(out.end).toBeUndefined();
    // The caller's state is not touched: a failed commit must be able to retry from it.
    expect(runtime).toEqual(newRuntimeState());
  });

  it('schedules only the actions after the ones already applied', () => {
    const runtime: RuntimeState = { ...newRuntimeState(), nextId: 1, applied: ["activity 'a'"] };
    const out = decideEpisode(ctx(runtime), state([activity('a'), activity('b')]));
    expect(out.effects).toEqual([{ kind: 'activity', taskId: 1, name: 'b', input: null }]);
  });

  it('fails the instance when a replay no longer produces the recorded actions', () => {
    const runtime: RuntimeState = { ...newRuntimeState(), nextId: 1, applied: ["activity 'a'"] };
    const out = decideEpisode(ctx(runtime), state([activity('renamed'), activity('b')]));
    expect(out.effects).toEqual([]);
    expect(out.end).toMatchObject({
      status: 'Failed',
      failureDetails: { ErrorType: 'NonDeterministicOrchestrationError' },
    });
    expect(out.end?.status === 'Failed' && out.end.output).toContain(
      "action #1 in the recorded history is activity 'a', but replaying the current code produces activity 'renamed'",
    );
    expect(out.append.at(-1)).toMatchObject({
      EventType: EventType.ExecutionCompleted,
      OrchestrationStatus: 'Failed',
    });
  });

  it('does not check again the actions a live state already verified', () => {
    const runtime: RuntimeState = { ...newRuntimeState(), nextId: 1, applied: ["activity 'a'"] };
    const out = decideEpisode(
      ctx(runtime, [], { verifiedActions: 1 }),
      state([activity('renamed'), activity('b')]),
    );
    expect(out.end).toBeUndefined();
    expect(out.effects).toHaveLength(1);
  });

  it('completes with the output, and continues as new with the new input', () => {
    const done = decideEpisode(ctx(newRuntimeState()), state([], { isDone: true, output: { n: 1 } }));
    expect(done.end).toEqual({ status: 'Completed', output: '{"n":1}' });
    expect(done.append.at(-1)).toMatchObject({ EventType: EventType.ExecutionCompleted, Result: '{"n":1}' });

    const again = decideEpisode(
      ctx(newRuntimeState()),
      state([{ actionType: ActionType.ContinueAsNew, input: '{"round":2}' }]),
    );
    expect(again.end).toEqual({ status: 'ContinuedAsNew', input: '{"round":2}' });
  });

  it('records an orchestrator failure with its details and the custom status it had set', () => {
    const out = decideEpisode(ctx(newRuntimeState()), {
      ok: false,
      message: 'boom',
      failureDetails: { ErrorType: 'TypeError', ErrorMessage: 'boom' },
      customStatus: { step: 3 },
    });
    expect(out.end).toEqual({
      status: 'Failed',
      output: "Orchestrator function 'flow' failed: boom",
      failureDetails: { ErrorType: 'TypeError', ErrorMessage: 'boom' },
    });
    expect(out.customStatus).toBe('{"step":3}');
  });

  it('answers a failed attempt of a task with retry with a retry timer, then a new attempt', () => {
    const retry: Action = {
      actionType: ActionType.CallActivityWithRetry,
      functionName: 'flaky',
      retryOptions: { firstRetryIntervalInMilliseconds: 1000, maxNumberOfAttempts: 2 },
    };
    const first = decideEpisode(ctx(newRuntimeState()), state([retry]));
    const failed = event(EventType.TaskFailed, NOW, { TaskScheduledId: 0 });
    const second = decideEpisode(ctx(first.runtime, [failed]), state([retry]));
    expect(second.effects).toEqual([{ kind: 'timer', timerId: 1, fireAt: NOW + 1000 }]);
    const fired = event(EventType.TimerFired, NOW + 1000, { TimerId: 1 });
    const third = decideEpisode(ctx(second.runtime, [fired]), state([retry]));
    expect(third.effects).toEqual([{ kind: 'activity', taskId: 2, name: 'flaky', input: null }]);
    expect(third.runtime.retryAttempts).toEqual([0, 2]);
  });
});

describe('orderNewEvents', () => {
  it('puts the events that make the host take a follow-up id last, keeping the order of the rest', () => {
    const runtime: RuntimeState = {
      ...newRuntimeState(),
      retries: {
        3: { action: activity('flaky'), attempt: 1, phase: 'attempt' },
      },
      http: { 5: { request: { method: 'GET', uri: 'https://x.test/' }, phase: 'request' } },
    };
    const retryFailed = event(EventType.TaskFailed, NOW, { TaskScheduledId: 3 });
    const accepted = event(EventType.TaskCompleted, NOW, {
      TaskScheduledId: 5,
      Result: JSON.stringify({ statusCode: 202, headers: { Location: 'https://x.test/poll' } }),
    });
    const plainA = event(EventType.EventRaised, NOW, { Name: 'a' });
    const plainB = event(EventType.TaskCompleted, NOW, { TaskScheduledId: 9, Result: '1' });
    expect(orderNewEvents([retryFailed, plainA, accepted, plainB], runtime)).toEqual([
      plainA,
      plainB,
      retryFailed,
      accepted,
    ]);
  });

  it('leaves events alone when no follow-up is pending', () => {
    const events = [
      event(EventType.TaskFailed, NOW, { TaskScheduledId: 1 }),
      event(EventType.TimerFired, NOW),
    ];
    expect(orderNewEvents(events, newRuntimeState())).toEqual(events);
  });
});

const ROW: InstanceRow = {
  instanceId: 'child',
  executionId: 'e1',
  name: 'flow',
  version: null,
  status: 'Running',
  input: null,
  output: null,
  customStatus: '"before"',
  parentInstanceId: 'parent',
  parentExecutionId: 'pe',
  parentTaskId: 4,
  createdAt: NOW - 10,
  updatedAt: NOW - 5,
  runtime: null,
};

describe('triageInbox', () => {
  const msg = (id: number, e: HistoryEvent, executionId: string | null = null) => ({
    id,
    instanceId: 'child',
    executionId,
    event: e,
    visibleAt: NOW,
  });

  it('drops messages for another execution and stops at a terminate', () => {
    const t = triageInbox(ROW, [
      msg(1, event(EventType.EventRaised, NOW, { Name: 'old' }), 'e0'),
      msg(2, event(EventType.EventRaised, NOW, { Name: 'go' })),
      msg(3, event(EventType.ExecutionTerminated, NOW, { Input: 'stop' })),
      msg(4, event(EventType.EventRaised, NOW, { Name: 'after' })),
    ]);
    expect(t.consumed).toEqual([1, 2, 3]);
    expect(t.newEvents.map((e) => e.Name)).toEqual(['go']);
    expect(t.terminateReason).toBe('stop');
  });

  it('holds events back while suspended and lets them through after a resume', () => {
    const suspended = triageInbox(ROW, [
      msg(1, event(EventType.ExecutionSuspended, NOW)),
      msg(2, event(EventType.EventRaised, NOW, { Name: 'held' })),
    ]);
    expect(suspended).toMatchObject({ status: 'Suspended', consumed: [1], newEvents: [] });
    const resumed = triageInbox({ ...ROW, status: 'Suspended' }, [
      msg(3, event(EventType.ExecutionResumed, NOW)),
      msg(2, event(EventType.EventRaised, NOW, { Name: 'held' })),
    ]);
    expect(resumed.status).toBe('Running');
    expect(resumed.newEvents.map((e) => [e.Name, e.IsPlayed])).toEqual([['held', false]]);
  });
});

describe('episode completions', () => {
  it('tell the parent of a finished child and release its entity locks, waking both', () => {
    const runtime: RuntimeState = { ...newRuntimeState(), lock: { requestId: 'r1', entities: ['@lock@k'] } };
    const outcome = decideEpisode(ctx(runtime), state([], { isDone: true, output: 7 }));
    const { completion, wake } = episodeCompletion(ROW, [11], outcome, NOW);
    expect(completion).toMatchObject({
      consumed: [11],
      clearInbox: true,
      instance: { status: 'Completed', output: '7' },
    });
    expect(
      completion.outgoing.map(
        (o) => o.kind === 'message' && [o.message.instanceId, o.message.event.EventType],
      ),
    ).toEqual([
      ['parent', EventType.SubOrchestrationInstanceCompleted],
      ['@lock@k', EventType.EventRaised],
    ]);
    expect(wake).toEqual([
      { id: '@lock@k', at: NOW },
      { id: 'parent', at: NOW },
    ]);
  });

  it('start a new execution for continue-as-new, while the old run keeps its own work', () => {
    const outcome = decideEpisode(
      ctx(newRuntimeState()),
      state([activity('last'), { actionType: ActionType.ContinueAsNew, input: '2' }]),
    );
    const { completion } = episodeCompletion(ROW, [], outcome, NOW);
    expect(completion.history).toEqual({ replace: [] });
    expect(completion.clearInbox).toBe(false);
    expect(completion.instance).toMatchObject({ status: 'ContinuedAsNew', input: '2', runtime: null });
    expect(completion.instance.executionId).not.toBe('e1');
    const [start, work] = completion.outgoing;
    expect(start.kind === 'message' && start.message.executionId).toBe(completion.instance.executionId);
    expect(work.kind === 'activity' && work.work.executionId).toBe('e1');
  });

  it('terminate with the reason as output and a failure for the parent', () => {
    const { completion } = terminationCompletion(ROW, 'enough', [1, 2], NOW);
    expect(completion).toMatchObject({
      consumed: [1, 2],
      clearInbox: true,
      instance: { status: 'Terminated', output: '"enough"' },
    });
    const [notice] = completion.outgoing;
    expect(notice.kind === 'message' && notice.message.event).toMatchObject({
      EventType: EventType.SubOrchestrationInstanceFailed,
      TaskScheduledId: 4,
      Reason: "Sub-orchestration 'child' was terminated: enough",
    });
  });
});
