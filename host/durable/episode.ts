/**
 * One orchestration episode, decided: which new events the library replays and in what order, and,
 * from the OrchestratorState it returns, the history to append, the work to start and the new
 * status. It assigns sequence ids exactly as `durable-functions` does (new actions first, in
 * first-yield order, then host follow-ups such as retry timers), and fails the instance when a
 * replay no longer reproduces the recorded actions. Pure: no I/O, no clock, no user code.
 */
import { ActionType, inputAsJsonText, leafActions, signature } from './actions';
import { scheduleLeaf } from './episodeActions';
import { applyFollowUp } from './episodeFollowUps';
import type { Effect, EpisodeContext, EpisodeOutcome, EpisodeResult, RuntimeState } from './episodeTypes';
import { EventType, FailureDetails, HistoryEvent, event } from './history';

export { orderNewEvents } from './episodeFollowUps';
export { DEFAULT_HTTP_POLL_MS, newRuntimeState } from './episodeTypes';
export type { Effect, EpisodeContext, EpisodeOutcome, EpisodeResult, RuntimeState } from './episodeTypes';

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
        'Was the orchestrator code changed while this instance was running? ' +
        // The Durable Task Framework's name for the same fact, so a search for Azure's error text finds this.
        `(Azure: Non-Deterministic workflow detected: the replay execution does not match action #${i + 1} of the history.)`;
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
