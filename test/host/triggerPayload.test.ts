import { describe, expect, it } from 'vitest';
import { EventType, event } from '../../host/durable/history';
import { orchestrationTriggerPayload, stateOfThrow } from '../../host/durable/triggerPayload';

const NOW = Date.parse('2026-03-01T12:00:00Z');

describe('the orchestration trigger payload', () => {
  const instance = { instanceId: 'i-1', input: '{"n":2}', parentInstanceId: 'parent' };

  it('carries stored history as written, then the new events, with the settings the extension sends', () => {
    const stored = event(EventType.ExecutionStarted, NOW, { IsPlayed: true, Name: 'flow' });
    const fresh = [
      event(EventType.OrchestratorStarted, NOW),
      event(EventType.EventRaised, NOW, { Name: 'go' }),
    ];
    const payload = JSON.parse(
      orchestrationTriggerPayload(instance, [JSON.stringify(stored)], fresh),
    ) as unknown;
    expect(payload).toEqual({
      history: [stored, ...fresh],
      input: { n: 2 },
      instanceId: 'i-1',
      isReplaying: false,
      parentInstanceId: 'parent',
      upperSchemaVersion: 1,
      upperSchemaVersionNew: 3,
      longRunningTimerIntervalDuration: '3.00:00:00',
      maximumShortTimerDuration: '3650.00:00:00',
      defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
    });
  });

  it('is well-formed with no history at all, a non-JSON input, and the caller settings', () => {
    const payload = JSON.parse(
      orchestrationTriggerPayload({ ...instance, input: 'plain text' }, [], [], {
        isReplaying: true,
        upperSchemaVersion: 2,
      }),
    ) as Record<string, unknown>;
    expect(payload).toMatchObject({
      history: [],
      input: 'plain text',
      isReplaying: true,
      upperSchemaVersionNew: 2,
    });
  });
});

describe("the state attached to an orchestrator's throw", () => {
  it('is read back from after the marker, with the message before it', () => {
    const state = { isDone: false, actions: [], schemaVersion: 3, error: 'bad' };
    const err = new Error(`Orchestrator failed $OutOfProcData$:${JSON.stringify(state)}`);
    expect(stateOfThrow(err)).toEqual({ state, message: 'Orchestrator failed' });
  });

  it('is undefined for a plain error or a damaged state', () => {
    expect(stateOfThrow(new Error('plain'))).toBeUndefined();
    expect(stateOfThrow(new Error('x $OutOfProcData$:{not json'))).toBeUndefined();
  });
});
