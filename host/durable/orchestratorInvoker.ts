/**
 * Runs the app's orchestrator for one episode, the two ways the engine can: a full replay (the
 * registered handler invoked with the whole history, through the real `durable-functions` library),
 * or on a live state kept from an earlier episode (liveOrchestration.ts), through the invocation
 * hooks when the app has any. Either way the answer is an EpisodeResult; a throw from the
 * orchestrator is an outcome, never an exception. It reads and writes no store.
 */
import type { CoreInvocationContext, WorkerCore } from '../worker/coreApi';
import { fromTypedData, invokeFunction } from '../worker/invoke';
import type { OrchestratorState } from './actions';
import type { InstanceRow } from './backend';
import type { EpisodeResult } from './episode';
import type { HistoryEvent } from './history';
import {
  type LiveEpisodeResult,
  type LiveOrchestration,
  captureLive,
  runLiveEpisode,
} from './liveOrchestration';
import { orchestrationTriggerPayload, stateOfThrow } from './triggerPayload';

export interface OrchestratorFunction {
  name: string;
  triggerKey: string;
}

export interface InvokerOptions {
  core: WorkerCore;
  upperSchemaVersion?: number;
  /** Whether a full replay may keep its orchestration live afterwards. */
  liveAllowed: () => boolean;
}

export class OrchestratorInvoker {
  constructor(private readonly options: InvokerOptions) {}

  /** A full replay: `played` is the stored history (JSON texts), `events` this episode's. */
  async replay(
    fn: OrchestratorFunction,
    instance: InstanceRow,
    played: string[],
    events: HistoryEvent[],
    keepLive: boolean,
  ): Promise<{ result: EpisodeResult; live?: LiveOrchestration }> {
    const { core } = this.options;
    const registered = core.functions.get(fn.name);
    if (!registered)
      return { result: { ok: false, message: `Orchestrator '${fn.name}' is not registered.` } };
    const payload = orchestrationTriggerPayload(instance, played, events, {
      upperSchemaVersion: this.options.upperSchemaVersion,
    });
    try {
      const res = await invokeFunction(core, registered, {
        inputData: [{ name: fn.triggerKey, data: { string: payload } }],
      });
      const state = fromTypedData(res.returnValue) as OrchestratorState | undefined;
      if (!state || typeof state !== 'object' || !Array.isArray(state.actions)) {
        return {
          result: {
            ok: false,
            message:
              'The orchestrator returned no orchestration state; is it registered with df.app.orchestration?',
          },
        };
      }
      const live =
        keepLive && this.options.liveAllowed()
          ? captureLive(res.context, state, instance.executionId, played.length + events.length)
          : undefined;
      if (live && res.coreContext) {
        // The orchestrator's code goes on running (and logging) in later episodes: expected, not a
        // stray call after the invocation ended, which is all this state tells the model.
        res.coreContext.state = 'postInvocationHooks';
        live.invocation = res.coreContext;
      }
      return { result: { ok: true, state }, live };
    } catch (err) {
      return { result: orchestratorFailure(err) };
    }
  }

  /** One episode on the live state. Throws when the live state cannot be trusted (replay in full then). */
  async continueLive(
    fn: OrchestratorFunction,
    instance: InstanceRow,
    live: LiveOrchestration,
    events: HistoryEvent[],
  ): Promise<EpisodeResult> {
    const { core } = this.options;
    const hooked = core.hasHooks('preInvocation') || core.hasHooks('postInvocation');
    const r = hooked ? await this.liveThroughHooks(fn, instance, live, events) : runLiveEpisode(live, events);
    return r.ok ? { ok: true, state: r.state } : orchestratorFailure(r.error);
  }

  /**
   * A live episode in an app with invocation hooks: still an invocation through the programming
   * model, so the hooks see every episode as they would with full replays; the handler they wrap
   * runs the live state instead of the library's replay. Its trigger payload carries only this
   * episode's events (the hooks get the episode, the library needs nothing more).
   */
  private async liveThroughHooks(
    fn: OrchestratorFunction,
    instance: InstanceRow,
    live: LiveOrchestration,
    events: HistoryEvent[],
  ): Promise<LiveEpisodeResult> {
    const { core } = this.options;
    const registered = core.functions.get(fn.name);
    if (!registered) throw new Error(`Orchestrator '${fn.name}' is not registered.`);
    let r: LiveEpisodeResult | undefined;
    let current: CoreInvocationContext | undefined;
    const callback = (): unknown => {
      if (r) throw new Error('the handler ran twice');
      // What the code logs in this episode belongs to this invocation (hooks and all).
      const first = live.invocation;
      const firstLog = first?.log;
      if (first && current) first.log = current.log;
      try {
        r = runLiveEpisode(live, events);
      } finally {
        if (first && firstLog) first.log = firstLog;
      }
      if (!r.ok) throw r.error;
      return r.state;
    };
    const payload = orchestrationTriggerPayload(instance, [], events, {
      upperSchemaVersion: this.options.upperSchemaVersion,
    });
    try {
      await invokeFunction(
        core,
        { ...registered, callback },
        {
          inputData: [{ name: fn.triggerKey, data: { string: payload } }],
          onCoreContext: (c) => (current = c),
        },
      );
    } catch (err) {
      // The orchestrator's own failure is an outcome; anything else (a hook's) is a doubt.
      if (!(r && !r.ok && err === r.error)) throw err;
    }
    if (!r) throw new Error('the invocation hooks did not run the orchestrator');
    return r;
  }
}

/** Turns a throw from the orchestrator handler into the failure the extension would record. */
export function orchestratorFailure(err: unknown): EpisodeResult {
  const message = err instanceof Error ? err.message : String(err);
  const thrown = stateOfThrow(err);
  if (thrown) {
    const { state } = thrown;
    const details = state.failureDetails;
    return {
      ok: false,
      message: state.error ?? thrown.message,
      failureDetails: details
        ? { ErrorType: details.ErrorType, ErrorMessage: details.ErrorMessage, StackTrace: details.StackTrace }
        : { ErrorType: 'Error', ErrorMessage: state.error ?? '' },
      customStatus: state.customStatus,
    };
  }
  return {
    ok: false,
    message,
    failureDetails: {
      ErrorType: err instanceof Error ? err.name : 'Error',
      ErrorMessage: message,
      StackTrace: err instanceof Error ? err.stack : undefined,
    },
  };
}
