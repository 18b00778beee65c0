/**
 * Turns a decided episode (episode.ts) or a termination into the one atomic completion the backend
 * commits: the instance's new row and history, and what it sends (activity work, timers, children,
 * entity messages, the answer to its parent, lock releases), in the order the engine has always
 * written them. Also says whom to wake once it is committed. Pure: no store, no clock, no user code.
 */
import type { InstanceRow, NewInboxMessage, OrchestrationCompletion, Outgoing } from './backend';
import type { Effect, EpisodeOutcome, RuntimeState } from './episode';
import { EventType, FailureDetails, event } from './history';
import { newExecutionId, newInstance, validateInstanceId } from './instanceRecords';
import { parseOrText } from './triggerPayload';

export interface Wakeup {
  id: string;
  at: number;
}

/** A completion with the wake-ups its messages call for (children are woken from the commit's result). */
export interface PlannedCompletion {
  completion: OrchestrationCompletion;
  wake: Wakeup[];
}

/**
 * The completion of an episode that ran user code; `instance` is the row the work item was taken
 * with, `storedLength` the length of its stored history when the episode read it (if it did).
 */
export function episodeCompletion(
  instance: InstanceRow,
  consumed: number[],
  outcome: EpisodeOutcome,
  now: number,
  storedLength?: number,
): PlannedCompletion {
  const { instanceId } = instance;
  const updated: InstanceRow = {
    ...instance,
    status: 'Running',
    customStatus: outcome.customStatus === undefined ? instance.customStatus : outcome.customStatus,
    updatedAt: now,
    runtime: JSON.stringify(outcome.runtime),
  };
  // Sent before the effects, and woken after them (as a new execution and a parent always were).
  const lead: NewInboxMessage[] = [];
  let history: OrchestrationCompletion['history'];
  const end = outcome.end;
  if (end?.status === 'ContinuedAsNew') {
    const executionId = newExecutionId();
    history = { replace: [] };
    lead.push({
      instanceId,
      executionId,
      event: event(EventType.ExecutionStarted, now, {
        Name: instance.name,
        Input: end.input,
        OrchestrationInstance: { InstanceId: instanceId, ExecutionId: executionId },
      }),
      visibleAt: now,
    });
    Object.assign(updated, {
      executionId,
      status: 'ContinuedAsNew',
      input: end.input,
      output: null,
      customStatus: null,
      runtime: null,
    });
  } else {
    history = { append: outcome.append, storedLength };
    if (end) {
      updated.status = end.status;
      updated.output = end.output;
      const notice = parentNotice(
        updated,
        end.status,
        end.output,
        'failureDetails' in end ? end.failureDetails : undefined,
        now,
      );
      if (notice) lead.push(notice);
    }
  }
  // Work started by a run that continues as new belongs to that run: its results are dropped.
  const owner =
    end?.status === 'ContinuedAsNew' ? { ...updated, executionId: instance.executionId } : updated;
  const sent: Outgoing[] = outcome.effects.map((e) => outgoingOf(owner, e, now));
  if (end) sent.push(...lockReleases(instanceId, outcome.runtime, now).map(asMessage));
  const outgoing = [...lead.map(asMessage), ...sent];
  return {
    completion: {
      instanceId,
      executionId: instance.executionId,
      consumed,
      history,
      clearInbox: end !== undefined && end.status !== 'ContinuedAsNew',
      instance: updated,
      outgoing,
    },
    wake: [...wakeupsOf(sent), ...wakeupsOf(lead.map(asMessage))],
  };
}

/** Terminating an instance: its history ends, its inbox is dropped, its parent and entities are told. */
export function terminationCompletion(
  instance: InstanceRow,
  reason: string,
  consumed: number[],
  now: number,
): PlannedCompletion {
  const output = JSON.stringify(reason);
  const updated: InstanceRow = { ...instance, status: 'Terminated', output, updatedAt: now };
  const messages: NewInboxMessage[] = [];
  const notice = parentNotice(updated, 'Terminated', output, undefined, now);
  if (notice) messages.push(notice);
  if (instance.runtime)
    messages.push(...lockReleases(instance.instanceId, JSON.parse(instance.runtime) as RuntimeState, now));
  const outgoing = messages.map(asMessage);
  return {
    completion: {
      instanceId: instance.instanceId,
      executionId: instance.executionId,
      consumed,
      history: { append: [event(EventType.ExecutionTerminated, now, { Input: JSON.stringify(reason) })] },
      clearInbox: true,
      instance: updated,
      outgoing,
    },
    wake: [
      ...wakeupsOf(outgoing.slice(notice ? 1 : 0)),
      ...(instance.parentInstanceId ? [{ id: instance.parentInstanceId, at: now }] : []),
    ],
  };
}

function asMessage(message: NewInboxMessage): Outgoing {
  return { kind: 'message', message };
}

function wakeupsOf(outgoing: Outgoing[]): Wakeup[] {
  const wake: Wakeup[] = [];
  for (const o of outgoing)
    if (o.kind === 'message') wake.push({ id: o.message.instanceId, at: o.message.visibleAt });
  return wake;
}

/**
 * An orchestration that ends while holding (or waiting for) entity locks releases them, as the
 * extension does, so a crashed critical section never blocks an entity forever.
 */
function lockReleases(instanceId: string, runtime: RuntimeState, now: number): NewInboxMessage[] {
  if (!runtime.lock) return [];
  const { requestId } = runtime.lock;
  return runtime.lock.entities.map((entityId) => ({
    instanceId: entityId,
    event: event(EventType.EventRaised, now, {
      Name: 'release',
      Input: JSON.stringify({ id: requestId, parent: instanceId }),
    }),
    visibleAt: now,
  }));
}

/** What a finished sub-orchestration tells its parent (nothing for a top-level instance). */
function parentNotice(
  child: InstanceRow,
  status: 'Completed' | 'Failed' | 'Terminated',
  output: string,
  failureDetails: FailureDetails | undefined,
  now: number,
): NewInboxMessage | undefined {
  if (!child.parentInstanceId || child.parentTaskId === null) return undefined;
  const taskId = child.parentTaskId;
  const e =
    status === 'Completed'
      ? event(EventType.SubOrchestrationInstanceCompleted, now, { TaskScheduledId: taskId, Result: output })
      : event(EventType.SubOrchestrationInstanceFailed, now, {
          TaskScheduledId: taskId,
          Reason:
            status === 'Failed'
              ? output
              : `Sub-orchestration '${child.instanceId}' was terminated: ${String(parseOrText(output))}`,
          Details: `Message: ${status === 'Failed' ? (failureDetails?.ErrorMessage ?? output) : String(parseOrText(output))}, StackTrace: ${failureDetails?.StackTrace ?? ''}`,
          FailureDetails: failureDetails ?? {
            ErrorType: 'OrchestrationTerminated',
            ErrorMessage: String(parseOrText(output)),
          },
        });
  return {
    instanceId: child.parentInstanceId,
    executionId: child.parentExecutionId,
    event: e,
    visibleAt: now,
  };
}

function subOrchestrationFailed(
  instance: InstanceRow,
  taskId: number,
  reason: string,
  errorType: string,
  errorMessage: string,
  now: number,
): NewInboxMessage {
  return {
    instanceId: instance.instanceId,
    executionId: instance.executionId,
    event: event(EventType.SubOrchestrationInstanceFailed, now, {
      TaskScheduledId: taskId,
      Reason: reason,
      Details: '',
      FailureDetails: { ErrorType: errorType, ErrorMessage: errorMessage },
    }),
    visibleAt: now,
  };
}

function activityWork(
  { instanceId, executionId }: InstanceRow,
  taskId: number,
  name: string,
  input: string | null,
  kind: 'activity' | 'http',
): Outgoing {
  return { kind: 'activity', work: { instanceId, executionId, taskId, name, input, kind } };
}

function outgoingOf(instance: InstanceRow, effect: Effect, now: number): Outgoing {
  const { instanceId, executionId } = instance;
  switch (effect.kind) {
    case 'activity':
      return activityWork(instance, effect.taskId, effect.name, effect.input, 'activity');
    case 'http':
      // A durable HTTP call is activity work the host performs itself.
      return activityWork(
        instance,
        effect.taskId,
        'BuiltIn::HttpActivity',
        JSON.stringify(effect.request),
        'http',
      );
    case 'timer':
      return asMessage({
        instanceId,
        executionId,
        event: event(EventType.TimerFired, effect.fireAt, {
          TimerId: effect.timerId,
          FireAt: new Date(effect.fireAt).toISOString(),
        }),
        visibleAt: effect.fireAt,
      });
    case 'subOrchestration': {
      try {
        validateInstanceId(effect.instanceId);
      } catch (err) {
        const message = (err as Error).message;
        return asMessage(
          subOrchestrationFailed(instance, effect.taskId, message, 'InvalidInstanceIdError', message, now),
        );
      }
      const child = newInstance({
        instanceId: effect.instanceId,
        name: effect.name,
        input: effect.input,
        version: effect.version ?? null,
        parent: { instanceId, executionId, taskId: effect.taskId, name: instance.name },
        now,
      });
      return {
        kind: 'child',
        child,
        refusal: (status) =>
          subOrchestrationFailed(
            instance,
            effect.taskId,
            `An orchestration with instance ID '${effect.instanceId}' already exists and is ${status}.`,
            'OrchestrationAlreadyExistsError',
            `Instance '${effect.instanceId}' already exists.`,
            now,
          ),
      };
    }
    case 'entityMessage':
      return asMessage({
        instanceId: effect.entityId,
        event: event(EventType.EventRaised, now, {
          Name: effect.name,
          Input: JSON.stringify(effect.message),
        }),
        visibleAt: now,
      });
  }
}
