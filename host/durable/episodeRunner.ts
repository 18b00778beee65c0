/**
 * The episode runner: one orchestration work item from the backend to its committed outcome. The
 * orchestrator runs one of three ways, each a small function with the same result type: on the live
 * state kept from the last episode, on the live state checked against a full replay (when
 * LC_VERIFY_LIVE asks for it), or as a full replay of the stored history. The outcome is decided by
 * episode.ts and committed in one backend call; only then is anything started or woken.
 */
import type { Clock } from '../clock';
import type { ActivityWork, Backend, CompletionResult, InstanceRow, OrchestrationWorkItem } from './backend';
import {
  type EpisodeResult,
  type RuntimeState,
  decideEpisode,
  newRuntimeState,
  orderNewEvents,
} from './episode';
import { type PlannedCompletion, episodeCompletion, terminationCompletion } from './episodeCompletion';
import type { FunctionIndex } from './functionIndex';
import { EventType, type HistoryEvent, event } from './history';
import { triageInbox } from './inboxTriage';
import { type LiveOrchestration, feedStored } from './liveOrchestration';
import type { LiveSessionCache } from './liveSessions';
import type { LiveVerifier } from './liveVerify';
import type { OrchestratorFunction, OrchestratorInvoker } from './orchestratorInvoker';

export interface EpisodeRunnerOptions {
  backend: Backend;
  functions: FunctionIndex;
  clock: Clock;
  liveSessions: LiveSessionCache;
  invoker: OrchestratorInvoker;
  liveVerifier?: LiveVerifier;
  /** Hands committed activity work to the activity runner. */
  startActivities: (work: ActivityWork[]) => void;
  notify: (id: string, at: number) => void;
  log: (level: 'warning', message: string) => void;
}

/** What running the orchestrator produced, however it ran. */
interface EpisodeRun {
  result: EpisodeResult;
  /** The live state to keep once the outcome is committed. */
  live?: LiveOrchestration;
  /** Recorded actions known to match (reported by this same live state before). */
  verifiedActions: number;
  /** The stored history's length the orchestrator ran on (unknown when it did not run). */
  storedLength?: number;
}

export class EpisodeRunner {
  private lastEpisodeTime = 0;

  constructor(private readonly options: EpisodeRunnerOptions) {}

  async run(instanceId: string): Promise<void> {
    const { backend, liveSessions } = this.options;
    // Taken out for the episode: put back only once its outcome is committed.
    let live = liveSessions.take(instanceId);
    const now = this.episodeTime();
    // The live state is trusted only if the store still holds exactly what it has read.
    const cached = live?.row && { row: live.row, historyLength: live.historyLength };
    const item = backend.takeOrchestrationWorkItem(instanceId, now, cached);
    if (!item) return;
    if (!item.fromCache) live = undefined;
    if (item.newEvents.length === 0) {
      if (live) liveSessions.put(instanceId, live);
      return;
    }
    try {
      await this.runItem(item, live, now);
    } catch (err) {
      backend.abandonOrchestrationWorkItem(item);
      throw err;
    }
  }

  /** A timestamp for a new OrchestratorStarted event: never earlier than the previous one. */
  private episodeTime(): number {
    const now = Math.max(this.options.clock.now(), this.lastEpisodeTime);
    this.lastEpisodeTime = now;
    return now;
  }

  private async runItem(
    item: OrchestrationWorkItem,
    live: LiveOrchestration | undefined,
    now: number,
  ): Promise<void> {
    const { instance, newEvents: messages } = item;
    const { instanceId } = instance;
    const triage = triageInbox(instance, messages);
    if (triage.terminateReason !== undefined) {
      this.options.liveSessions.evict(instanceId);
      this.commitNow(terminationCompletion(instance, triage.terminateReason, triage.consumed, now));
      return;
    }
    const skipped = messages.length - triage.consumed.length;
    if (triage.newEvents.length === 0 || triage.status === 'Suspended') {
      // Only control messages (or events held by a suspension): record them, run no user code.
      // Events stay in the inbox, to run after a resume.
      const next =
        triage.status === 'Suspended'
          ? 'Suspended'
          : instance.status === 'Suspended'
            ? 'Running'
            : instance.status;
      this.commitNow({
        completion: {
          instanceId,
          executionId: instance.executionId,
          consumed: triage.consumed.filter((id) => !triage.eventIds.has(id)),
          history: { append: triage.controlEvents },
          clearInbox: false,
          instance: { ...instance, status: next, updatedAt: now },
          outgoing: [],
        },
        wake: [],
      });
      // Events that waited out a suspension now get their turn.
      if (triage.status !== 'Suspended' && skipped > 0)
        this.options.notify(instanceId, this.options.clock.now());
      return;
    }

    const runtime: RuntimeState = instance.runtime
      ? (JSON.parse(instance.runtime) as RuntimeState)
      : newRuntimeState();
    const ordered = orderNewEvents(triage.newEvents, runtime);
    const replayed = [...triage.controlEvents, event(EventType.OrchestratorStarted, now), ...ordered];
    const run = await this.execute(instance, runtime, live, replayed);
    const outcome = decideEpisode(
      {
        instanceId,
        executionId: instance.executionId,
        orchestrationName: instance.name,
        now,
        runtime,
        replayed,
        verifiedActions: run.verifiedActions,
      },
      run.result,
    );
    const planned = episodeCompletion(instance, triage.consumed, outcome, now, run.storedLength);
    const result = await this.options.backend.completeOrchestrationWorkItem(planned.completion);
    if (result.written) {
      const committed = planned.completion.instance;
      if (run.live && committed.status === 'Running' && !outcome.end)
        this.keepLive(instanceId, run.live, committed, outcome.append.slice(replayed.length));
      this.afterCommit(planned, result);
    }
    if (skipped > 0) this.options.notify(instanceId, this.options.clock.now());
  }

  /** Runs the orchestrator: live when the live state answers (and passes verification), else a full replay. */
  private async execute(
    instance: InstanceRow,
    runtime: RuntimeState,
    live: LiveOrchestration | undefined,
    replayed: HistoryEvent[],
  ): Promise<EpisodeRun> {
    const fn = this.options.functions.find('orchestrationTrigger', instance.name);
    if (!fn) {
      return {
        result: {
          ok: false,
          message: `The function '${instance.name}' doesn't exist, is disabled, or is not an orchestrator function.`,
        },
        verifiedActions: 0,
      };
    }
    if (live) {
      const liveRun = await this.runLive(fn, instance, live, replayed);
      // No verifier (the usual case): no further await, the episode's outcome goes on in this tick.
      if (
        liveRun &&
        (!this.options.liveVerifier || (await this.verify(fn, instance, runtime, replayed, liveRun)))
      )
        return liveRun;
    }
    return this.runFullReplay(fn, instance, replayed);
  }

  /** The episode on the live state; undefined when it cannot be trusted. */
  private async runLive(
    fn: OrchestratorFunction,
    instance: InstanceRow,
    live: LiveOrchestration,
    replayed: HistoryEvent[],
  ): Promise<EpisodeRun | undefined> {
    const verifiedActions = live.actions.length;
    // Read before the episode: running it advances the live state's count.
    const storedLength = live.historyLength;
    try {
      const result = await this.options.invoker.continueLive(fn, instance, live, replayed);
      return { result, live, verifiedActions, storedLength };
    } catch (err) {
      this.options.log(
        'warning',
        `Live state of '${instance.instanceId}' dropped; replaying in full: ${describe(err)}`,
      );
      return undefined;
    }
  }

  /** With a verifier: the live answer must equal a full replay's, else the live state is dropped. */
  private async verify(
    fn: OrchestratorFunction,
    instance: InstanceRow,
    runtime: RuntimeState,
    replayed: HistoryEvent[],
    liveRun: EpisodeRun,
  ): Promise<boolean> {
    const verifier = this.options.liveVerifier;
    if (!verifier) return true;
    const played = this.options.backend.historyTexts(instance.instanceId);
    const full = await this.options.invoker.replay(fn, instance, played, replayed, false);
    return verifier.check(
      instance.instanceId,
      instance.name,
      runtime.applied.length,
      liveRun.result,
      full.result,
    );
  }

  private async runFullReplay(
    fn: OrchestratorFunction,
    instance: InstanceRow,
    replayed: HistoryEvent[],
  ): Promise<EpisodeRun> {
    const played = this.options.backend.historyTexts(instance.instanceId);
    const { result, live } = await this.options.invoker.replay(fn, instance, played, replayed, true);
    return { result, live, verifiedActions: 0, storedLength: played.length };
  }

  /** Terminations and control-only episodes commit at once (no user code ran, nothing to group). */
  private commitNow(planned: PlannedCompletion): void {
    const result = this.options.backend.completeOrchestrationWorkItemNow(planned.completion);
    if (result.written) this.afterCommit(planned, result);
  }

  /** Once committed, and not before: start the work, and wake the children and whoever was sent to. */
  private afterCommit(planned: PlannedCompletion, result: CompletionResult): void {
    const { notify } = this.options;
    this.options.startActivities(result.activities);
    const now = this.options.clock.now();
    for (const id of result.childrenStarted) {
      // A child replacing a finished instance of that id must not run on the old one's live state.
      this.options.liveSessions.evict(id);
      notify(id, now);
    }
    if (result.childrenRefused.length) notify(planned.completion.instanceId, now);
    for (const w of planned.wake) notify(w.id, w.at);
  }

  /** After a commit: the live state reads what the host stored after the episode's events, and is kept. */
  private keepLive(
    instanceId: string,
    live: LiveOrchestration,
    row: InstanceRow,
    stored: HistoryEvent[],
  ): void {
    const { liveSessions } = this.options;
    if (!liveSessions.enabled) return;
    try {
      feedStored(live, stored);
      // Nothing else writes a running execution's row, so the next episode can start from this one.
      live.row = row;
      liveSessions.put(instanceId, live);
    } catch (err) {
      this.options.log('warning', `Live state of '${instanceId}' dropped: ${describe(err)}`);
    }
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
