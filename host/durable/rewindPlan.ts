/**
 * What rewinding a failed instance writes: for it and, recursively, each failed sub-orchestration,
 * the history without its failures, the activity work that re-runs the failed activities, and a
 * wake-up message when nothing is re-run. Decided from reads alone (the backend writes the steps
 * in one call); refuses, with a coded error, what cannot be rewound faithfully.
 */
import type { InstanceRow, RewindStep } from './backend';
import { EngineError } from './engineError';
import { type RuntimeState, newRuntimeState } from './episode';
import { EventType, type HistoryEvent, event, scheduledById } from './history';

export interface RewindPlan {
  /** Children before their parents, as they are found. */
  steps: RewindStep[];
  /** Instances to wake once written (those with nothing re-run). */
  wake: string[];
}

export function planRewind(
  instance: InstanceRow,
  now: number,
  getInstance: (id: string) => InstanceRow | undefined,
  history: (id: string) => HistoryEvent[],
): RewindPlan {
  const plan: RewindPlan = { steps: [], wake: [] };
  addSteps(plan, instance, now, getInstance, history);
  return plan;
}

function addSteps(
  plan: RewindPlan,
  instance: InstanceRow,
  now: number,
  getInstance: (id: string) => InstanceRow | undefined,
  history: (id: string) => HistoryEvent[],
): void {
  const events = history(instance.instanceId);
  const scheduled = scheduledById(events);
  const retried = new Set(
    (instance.runtime ? (JSON.parse(instance.runtime) as RuntimeState) : newRuntimeState()).retryAttempts,
  );
  const step: RewindStep = {
    instance: { ...instance, status: 'Running', output: null, updatedAt: now },
    history: [],
    activities: [],
    messages: [],
  };
  let rerun = 0;
  for (const e of events) {
    if (e.EventType === EventType.ExecutionCompleted) continue;
    if (
      (e.EventType === EventType.TaskFailed || e.EventType === EventType.SubOrchestrationInstanceFailed) &&
      retried.has(e.TaskScheduledId ?? -1)
    ) {
      throw new EngineError(
        'PRECONDITION_FAILED',
        `Instance '${instance.instanceId}' failed in a task with retries; rewinding it would replay the retries out of order. Start it again instead.`,
      );
    }
    if (e.EventType === EventType.TaskFailed) {
      const s = scheduled.get(e.TaskScheduledId ?? -1);
      if (s) {
        step.activities.push({
          instanceId: instance.instanceId,
          executionId: instance.executionId,
          taskId: s.EventId,
          name: String(s.Name),
          input: s.Input ?? null,
          kind: s.Name === 'BuiltIn::HttpActivity' ? 'http' : 'activity',
        });
        rerun++;
      }
      continue;
    }
    if (e.EventType === EventType.SubOrchestrationInstanceFailed) {
      const s = scheduled.get(e.TaskScheduledId ?? -1);
      const child = s?.InstanceId ? getInstance(s.InstanceId) : undefined;
      if (child?.status === 'Failed') {
        addSteps(plan, child, now, getInstance, history);
        rerun++;
        continue;
      }
      // A child that cannot be re-run (terminated, or never started) keeps its failure.
      step.history.push(e);
      continue;
    }
    step.history.push(e);
  }
  if (rerun === 0) {
    step.messages.push({
      instanceId: instance.instanceId,
      event: event(EventType.GenericEvent, now, { Name: 'rewind' }),
      visibleAt: now,
    });
    plan.wake.push(instance.instanceId);
  }
  plan.steps.push(step);
}
