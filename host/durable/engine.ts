/**
 * The durable engine: takes orchestration, entity and activity work from the store, runs it through
 * the app's own registered handlers (so replay is done by the real `durable-functions` library) and
 * commits each step's results in one transaction. In-memory queues are only a cache of what the
 * store holds; after a crash `start()` rebuilds them, so nothing accepted is lost. It never serves
 * HTTP and never parses user payloads beyond the wire formats of the Durable extension.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock';
import type { CoreInvocationContext, WorkerCore } from '../worker/coreApi';
import { fromTypedData, invokeFunction } from '../worker/invoke';
import type { OrchestratorState } from './actions';
import { ActivityRunner } from './activityRunner';
import { CommitBatcher } from './commitBatcher';
import { EntityRunner } from './entityRunner';
import {
  DEFAULT_HTTP_POLL_MS,
  Effect,
  EpisodeResult,
  RuntimeState,
  decideEpisode,
  newRuntimeState,
  orderNewEvents,
} from './episode';
import { FunctionIndex } from './functionIndex';
import {
  LiveEpisodeResult,
  LiveOrchestration,
  captureLive,
  feedStored,
  runLiveEpisode,
} from './liveOrchestration';
import { LiveSessionCache, LiveSessionSettings } from './liveSessions';
import { LiveVerifier } from './liveVerify';
import { EventType, FailureDetails, HistoryEvent, event, scheduledById } from './history';
import { InstanceRow, RuntimeStatus, Store, isTerminal } from './store';

export interface EngineOptions {
  store: Store;
  core: WorkerCore;
  clock: Clock;
  hubName: string;
  maxConcurrentOrchestrations: number;
  maxConcurrentActivities: number;
  /** host.json functionTimeout, applied to activities. */
  functionTimeoutMs?: number;
  /** Called for engine-level problems that have no caller to report to. */
  log?: (level: 'information' | 'warning' | 'error', message: string) => void;
  /** Schema the library is told the host supports; V4 (3) enables entity locks. */
  upperSchemaVersion?: number;
  /** Live orchestrations (extended sessions); see liveSessions.ts for the defaults. */
  liveSessions?: Partial<LiveSessionSettings>;
}

interface Wakeup {
  id: string;
  at: number;
}

export class EngineError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'CONFLICT' | 'GONE' | 'BAD_REQUEST' | 'PRECONDITION_FAILED',
    message: string,
  ) {
    super(message);
  }
}

const OUT_OF_PROC_MARKER = '$OutOfProcData$:';
/** SQLite has no message-visibility limit, so timers never need splitting into segments. */
const MAX_SHORT_TIMER = '3650.00:00:00';

export class Engine {
  readonly store: Store;
  readonly clock: Clock;
  readonly functions: FunctionIndex;
  readonly hubName: string;
  private readonly core: WorkerCore;
  private readonly options: EngineOptions;
  /** Instances with new events for work already under way: served before new starts. */
  private readonly ready = new Set<string>();
  /** Instances whose first episode has not run yet; admitted only when no started work is waiting. */
  private readonly readyNew = new Set<string>();
  private readonly running = new Set<string>();
  /** Instances that got new messages while an episode was running. */
  private readonly dirty = new Set<string>();
  /** One clock wakeup per instance, for its earliest future message; later ones are re-armed after each run. */
  private readonly scheduledWakeups = new Map<string, { at: number; cancel: () => void }>();
  private readonly mayHaveFutureMessages = new Set<string>();
  private readonly hostFailures = new Map<string, number>();
  private readonly activities: ActivityRunner;
  private readonly entities: EntityRunner;
  /** Orchestrations kept alive between episodes; anything not here is replayed in full. */
  readonly liveSessions: LiveSessionCache;
  /** Group commit of episode and activity-result writes. */
  readonly commits: CommitBatcher;
  private readonly liveVerifier = LiveVerifier.fromEnvironment();
  private pumpScheduled = false;
  private stopped = true;
  private lastEpisodeTime = 0;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(options: EngineOptions) {
    this.options = options;
    this.store = options.store;
    this.clock = options.clock;
    this.core = options.core;
    this.hubName = options.hubName;
    this.functions = new FunctionIndex(options.core);
    this.liveSessions = new LiveSessionCache(options.liveSessions);
    this.commits = new CommitBatcher(this.store, () => this.activities.discardStaged());
    this.activities = new ActivityRunner({
      store: this.store,
      core: this.core,
      functions: this.functions,
      clock: this.clock,
      maxConcurrent: options.maxConcurrentActivities,
      timeoutMs: options.functionTimeoutMs,
      deliver: (instanceId) => this.notify(instanceId, this.clock.now()),
      commit: (write) => this.commits.commit(write),
      onIdle: () => this.checkIdle(),
    });
    this.entities = new EntityRunner({
      store: this.store,
      core: this.core,
      functions: this.functions,
      clock: this.clock,
      notify: (id, at) => this.notify(id, at),
    });
  }

  log(level: 'information' | 'warning' | 'error', message: string): void {
    this.options.log?.(level, message);
  }

  /** Rebuilds the in-memory queues from the store and starts dispatching. */
  start(): void {
    this.stopped = false;
    for (const { instanceId, due } of this.store.pendingInboxes()) {
      this.mayHaveFutureMessages.add(instanceId);
      this.notify(instanceId, due);
    }
    this.activities.start();
  }

  async stop(timeoutMs = 5000): Promise<void> {
    this.stopped = true;
    this.liveSessions.clear();
    for (const w of this.scheduledWakeups.values()) w.cancel();
    this.scheduledWakeups.clear();
    await this.activities.stop(timeoutMs);
    // Unfinished episodes are safe to abandon: their messages stay in the store and run again.
    const deadline = Date.now() + timeoutMs;
    while (this.running.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  }

  /** True when nothing is runnable now (timers in the future may still be pending). */
  isIdle(): boolean {
    return (
      this.ready.size === 0 && this.readyNew.size === 0 && this.running.size === 0 && this.activities.isIdle()
    );
  }

  /** True when durable work waits on the clock (timers, retry back-off, delayed messages). */
  hasScheduledWakeups(): boolean {
    return this.scheduledWakeups.size > 0;
  }

  /** Resolves once the engine has nothing runnable; used by the virtual clock and tests. */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private checkIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters.splice(0);
    for (const w of waiters) w();
  }

  /** Marks an instance (or entity) as having work visible at `visibleAt`. */
  notify(instanceId: string, visibleAt: number, isNew = false): void {
    if (this.stopped) return;
    const now = this.clock.now();
    if (visibleAt > now) {
      this.mayHaveFutureMessages.add(instanceId);
      const existing = this.scheduledWakeups.get(instanceId);
      if (existing && existing.at <= visibleAt) return;
      existing?.cancel();
      const cancel = this.clock.schedule(visibleAt, () => {
        this.scheduledWakeups.delete(instanceId);
        this.notify(instanceId, this.clock.now());
      });
      this.scheduledWakeups.set(instanceId, { at: visibleAt, cancel });
      return;
    }
    if (this.running.has(instanceId)) {
      this.dirty.add(instanceId);
      return;
    }
    (isNew ? this.readyNew : this.ready).add(instanceId);
    this.schedulePump();
  }

  /**
   * A failure of the host itself (not of user code) leaves the messages in the inbox; try again with
   * a growing delay, so a transient problem heals and a persistent one does not spin.
   */
  private retryAfterHostFailure(id: string, err: unknown): void {
    const failures = (this.hostFailures.get(id) ?? 0) + 1;
    this.hostFailures.set(id, failures);
    const delayMs = Math.min(1000 * 2 ** (failures - 1), 60_000);
    this.log(
      'error',
      `Episode of '${id}' failed in the host (attempt ${failures}; retrying in ${delayMs} ms): ${describe(err)}`,
    );
    this.notify(id, this.clock.now() + delayMs);
  }

  private armNextWakeup(instanceId: string): void {
    const next = this.store.nextDue(instanceId, this.clock.now());
    if (next === undefined) this.mayHaveFutureMessages.delete(instanceId);
    else this.notify(instanceId, next);
  }

  private takeReady(): string | undefined {
    for (const queue of [this.ready, this.readyNew]) {
      for (const id of queue) {
        queue.delete(id);
        return id;
      }
    }
    return undefined;
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.stopped) return;
    while (this.running.size < this.options.maxConcurrentOrchestrations) {
      const id = this.takeReady();
      if (id === undefined) break;
      if (this.running.has(id)) {
        this.dirty.add(id);
        continue;
      }
      this.running.add(id);
      const work = id.startsWith('@') ? this.entities.run(id) : this.runEpisode(id);
      work
        .then(() => this.hostFailures.delete(id))
        .catch((err: unknown) => this.retryAfterHostFailure(id, err))
        .finally(() => {
          this.running.delete(id);
          if (this.dirty.delete(id)) this.notify(id, this.clock.now());
          if (this.mayHaveFutureMessages.has(id)) this.armNextWakeup(id);
          this.schedulePump();
          this.checkIdle();
        });
    }
    this.checkIdle();
  }

  /**
   * An episode's writes, committed with the others of this turn (group commit); activity work it
   * staged is dropped if its savepoint rolls back.
   */
  private commitEpisode(write: () => void): Promise<void> {
    let mark = 0;
    return this.commits.commit(
      () => {
        mark = this.activities.stagedMark();
        write();
      },
      () => this.activities.discardStagedFrom(mark),
    );
  }

  /** A transaction that may stage activity work: staged work is dropped if the transaction rolls back. */
  private transactionWithWork(fn: () => void): void {
    try {
      this.store.transaction(fn);
    } catch (err) {
      this.activities.discardStaged();
      throw err;
    }
  }

  /** A timestamp for a new OrchestratorStarted event: never earlier than the previous one. */
  private episodeTime(): number {
    const now = Math.max(this.clock.now(), this.lastEpisodeTime);
    this.lastEpisodeTime = now;
    return now;
  }

  private async runEpisode(instanceId: string): Promise<void> {
    // Taken out for the episode: put back only once its outcome is committed.
    let live = this.liveSessions.take(instanceId);
    let instance: InstanceRow | undefined;
    if (live) {
      // The live state is trusted only if the store still holds exactly what it has read.
      const stored = this.store.executionAndHistoryEnd(instanceId);
      if (stored?.executionId === live.executionId && stored.historyEnd === live.historyLength)
        instance = live.row;
      else live = undefined;
    }
    instance ??= this.store.getInstance(instanceId);
    const now = this.episodeTime();
    const messages = this.store.inbox(instanceId, now);
    if (!instance) {
      this.store.clearInbox(instanceId);
      return;
    }
    if (messages.length === 0) {
      if (live) this.liveSessions.put(instanceId, live);
      return;
    }

    let status: RuntimeStatus = instance.status;
    const consumed: number[] = [];
    const controlEvents: HistoryEvent[] = [];
    const newEvents: HistoryEvent[] = [];
    let terminateReason: string | undefined;
    /** Inbox ids of the events (not control messages) taken for this episode. */
    const eventIds = new Set<number>();

    for (const msg of messages) {
      const e = msg.event;
      if (isTerminal(status) || (msg.executionId && msg.executionId !== instance.executionId)) {
        consumed.push(msg.id);
        continue;
      }
      if (e.EventType === EventType.ExecutionTerminated) {
        consumed.push(msg.id);
        terminateReason = e.Input ?? '';
        break;
      }
      if (e.EventType === EventType.ExecutionSuspended) {
        consumed.push(msg.id);
        if (status !== 'Suspended') controlEvents.push(e);
        status = 'Suspended';
        continue;
      }
      if (e.EventType === EventType.ExecutionResumed) {
        consumed.push(msg.id);
        if (status === 'Suspended') {
          controlEvents.push(e);
          status = 'Running';
        }
        continue;
      }
      // While suspended, events wait in the inbox until resume (or terminate).
      if (status === 'Suspended') continue;
      consumed.push(msg.id);
      eventIds.add(msg.id);
      newEvents.push({ ...e, IsPlayed: false });
    }

    if (terminateReason !== undefined) {
      this.terminateNow(instance, terminateReason, consumed, now);
      return;
    }

    const runtime: RuntimeState = instance.runtime
      ? (JSON.parse(instance.runtime) as RuntimeState)
      : newRuntimeState();
    const skipped = messages.length - consumed.length;
    if (newEvents.length === 0 || status === 'Suspended') {
      // Only control messages (or events held by a suspension): record them, run no user code.
      // Events stay in the inbox, to run after a resume.
      this.store.transaction(() => {
        this.store.appendHistory(instanceId, this.store.historyLength(instanceId), controlEvents);
        this.store.deleteInbox(consumed.filter((id) => !eventIds.has(id)));
        const next: RuntimeStatus =
          status === 'Suspended'
            ? 'Suspended'
            : instance.status === 'Suspended'
              ? 'Running'
              : instance.status;
        this.store.putInstance({ ...instance, status: next, updatedAt: now });
      });
      // Events that waited out a suspension now get their turn.
      if (status !== 'Suspended' && skipped > 0) this.notify(instanceId, this.clock.now());
      return;
    }

    const fn = this.functions.find('orchestrationTrigger', instance.name);
    const ordered = orderNewEvents(newEvents, runtime);
    const replayed = [...controlEvents, event(EventType.OrchestratorStarted, now), ...ordered];
    // Any doubt that the live state is exactly the stored history's: replay in full instead.
    if (!fn) live = undefined;
    let result: EpisodeResult | undefined;
    let historyLength = 0;
    /** Actions known to match the recorded ones (reported by this same live state before). */
    let verifiedActions = 0;
    if (live && fn) {
      verifiedActions = live.actions.length;
      historyLength = live.historyLength;
      result = await this.continueLive(instance, fn.name, fn.triggerKey, live, replayed);
      if (!result) live = undefined;
    }
    if (live && result && fn && this.liveVerifier) {
      const full = await this.invokeOrchestrator(
        fn.name,
        fn.triggerKey,
        instance,
        this.store.historyTexts(instanceId),
        replayed,
        false,
      );
      if (!this.liveVerifier.check(instanceId, instance.name, runtime.applied.length, result, full.result)) {
        result = full.result;
        live = undefined;
      }
    }
    if (live && result) {
      // the live state answered for this episode
    } else if (!fn) {
      historyLength = this.store.historyEnd(instanceId);
      result = {
        ok: false,
        message: `The function '${instance.name}' doesn't exist, is disabled, or is not an orchestrator function.`,
      };
    } else {
      verifiedActions = 0;
      const oldHistory = this.store.historyTexts(instanceId);
      historyLength = oldHistory.length;
      const invoked = await this.invokeOrchestrator(fn.name, fn.triggerKey, instance, oldHistory, replayed);
      result = invoked.result;
      live = invoked.live;
    }
    const outcome = decideEpisode(
      {
        instanceId,
        executionId: instance.executionId,
        orchestrationName: instance.name,
        now,
        runtime,
        replayed,
        verifiedActions,
      },
      result,
    );

    const wake: Wakeup[] = [];
    let committed: InstanceRow | undefined;
    await this.commitEpisode(() => {
      // Terminated or replaced while user code ran: this episode's outcome no longer applies.
      if (this.store.executionIdOf(instanceId) !== instance.executionId) return;
      // Nothing else writes a running execution's row (terminate, suspend and resume are episodes
      // too; rewind, purge and replacing need a finished instance), so it is as read at the start.
      const current = instance;
      this.store.deleteInbox(consumed);
      const updated: InstanceRow = {
        ...current,
        status: 'Running',
        customStatus: outcome.customStatus === undefined ? current.customStatus : outcome.customStatus,
        updatedAt: now,
        runtime: JSON.stringify(outcome.runtime),
      };
      if (outcome.end?.status === 'ContinuedAsNew') {
        const executionId = newExecutionId();
        this.store.replaceHistory(instanceId, []);
        this.store.addInbox({
          instanceId,
          executionId,
          event: event(EventType.ExecutionStarted, now, {
            Name: instance.name,
            Input: outcome.end.input,
            OrchestrationInstance: { InstanceId: instanceId, ExecutionId: executionId },
          }),
          visibleAt: now,
        });
        Object.assign(updated, {
          executionId,
          status: 'ContinuedAsNew',
          input: outcome.end.input,
          output: null,
          customStatus: null,
          runtime: null,
        });
      } else {
        this.store.appendHistory(instanceId, historyLength, outcome.append);
        if (outcome.end) {
          updated.status = outcome.end.status;
          updated.output = outcome.end.output;
          this.store.clearInbox(instanceId);
          this.notifyParent(
            updated,
            outcome.end.status,
            outcome.end.output,
            'failureDetails' in outcome.end ? outcome.end.failureDetails : undefined,
            now,
          );
        }
      }
      this.store.putInstance(updated);
      // Work started by a run that continues as new belongs to that run: its results are dropped.
      const owner =
        outcome.end?.status === 'ContinuedAsNew'
          ? { ...updated, executionId: instance.executionId }
          : updated;
      for (const effect of outcome.effects) this.applyEffect(owner, effect, now, wake);
      if (outcome.end) this.releaseLocks(instanceId, outcome.runtime, now, wake);
      committed = updated;
    });
    if (live && committed?.status === 'Running' && !outcome.end) {
      this.keepLive(instanceId, live, committed, outcome.append.slice(replayed.length));
    }
    this.afterCommit(committed, wake);
    if (skipped > 0) this.notify(instanceId, this.clock.now());
  }

  /** One episode on the live state; undefined when it cannot be trusted (then replay in full). */
  private async continueLive(
    instance: InstanceRow,
    name: string,
    triggerKey: string,
    live: LiveOrchestration,
    replayed: HistoryEvent[],
  ): Promise<EpisodeResult | undefined> {
    try {
      const hooked = this.core.hasHooks('preInvocation') || this.core.hasHooks('postInvocation');
      const r = hooked
        ? await this.liveThroughHooks(instance, name, triggerKey, live, replayed)
        : runLiveEpisode(live, replayed);
      return r.ok ? { ok: true, state: r.state } : orchestratorFailure(r.error);
    } catch (err) {
      this.log(
        'warning',
        `Live state of '${instance.instanceId}' dropped; replaying in full: ${describe(err)}`,
      );
      return undefined;
    }
  }

  /**
   * A live episode in an app with invocation hooks: still an invocation through the programming
   * model, so the hooks see every episode as they would with full replays; the handler they wrap
   * runs the live state instead of the library's replay. Its trigger payload carries only this
   * episode's events (the hooks get the episode, the library needs nothing more).
   */
  private async liveThroughHooks(
    instance: InstanceRow,
    name: string,
    triggerKey: string,
    live: LiveOrchestration,
    replayed: HistoryEvent[],
  ): Promise<LiveEpisodeResult> {
    const fn = this.core.functions.get(name);
    if (!fn) throw new Error(`Orchestrator '${name}' is not registered.`);
    let r: LiveEpisodeResult | undefined;
    let current: CoreInvocationContext | undefined;
    const callback = (): unknown => {
      if (r) throw new Error('the handler ran twice');
      // What the code logs in this episode belongs to this invocation (hooks and all).
      const first = live.invocation;
      const firstLog = first?.log;
      if (first && current) first.log = current.log;
      try {
        r = runLiveEpisode(live, replayed);
      } finally {
        if (first && firstLog) first.log = firstLog;
      }
      if (!r.ok) throw r.error;
      return r.state;
    };
    try {
      await invokeFunction(
        this.core,
        { ...fn, callback },
        {
          inputData: [
            { name: triggerKey, data: { string: payloadText([], replayed, this.triggerFields(instance)) } },
          ],
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

  /** The trigger payload's fields besides the history, as the extension sends them. */
  private triggerFields(instance: InstanceRow): Record<string, unknown> {
    return {
      input: instance.input === null ? null : safeParse(instance.input),
      instanceId: instance.instanceId,
      isReplaying: false,
      parentInstanceId: instance.parentInstanceId,
      upperSchemaVersion: 1,
      upperSchemaVersionNew: this.options.upperSchemaVersion ?? 3,
      longRunningTimerIntervalDuration: '3.00:00:00',
      maximumShortTimerDuration: MAX_SHORT_TIMER,
      defaultHttpAsyncRequestSleepTimeMillseconds: DEFAULT_HTTP_POLL_MS,
    };
  }

  /** After a commit: the live state reads what the host stored after the episode's events, and is kept. */
  private keepLive(
    instanceId: string,
    live: LiveOrchestration,
    row: InstanceRow,
    stored: HistoryEvent[],
  ): void {
    if (!this.liveSessions.enabled) return;
    try {
      feedStored(live, stored);
      // Nothing else writes a running execution's row, so the next episode can start from this one.
      live.row = row;
      this.liveSessions.put(instanceId, live);
    } catch (err) {
      this.log('warning', `Live state of '${instanceId}' dropped: ${describe(err)}`);
    }
  }

  private async invokeOrchestrator(
    name: string,
    triggerKey: string,
    instance: InstanceRow,
    oldHistory: string[],
    newEvents: HistoryEvent[],
    keepLive = true,
  ): Promise<{ result: EpisodeResult; live?: LiveOrchestration }> {
    const fn = this.core.functions.get(name);
    if (!fn) return { result: { ok: false, message: `Orchestrator '${name}' is not registered.` } };
    const payload = this.triggerFields(instance);
    try {
      const res = await invokeFunction(this.core, fn, {
        inputData: [{ name: triggerKey, data: { string: payloadText(oldHistory, newEvents, payload) } }],
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
      const liveAllowed = keepLive && this.liveSessions.enabled;
      const live = liveAllowed
        ? captureLive(res.context, state, instance.executionId, oldHistory.length + newEvents.length)
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

  private terminateNow(instance: InstanceRow, reason: string, consumed: number[], now: number): void {
    this.liveSessions.evict(instance.instanceId);
    const output = reason;
    const wake: Wakeup[] = [];
    this.store.transaction(() => {
      this.store.deleteInbox(consumed);
      this.store.clearInbox(instance.instanceId);
      const length = this.store.historyLength(instance.instanceId);
      this.store.appendHistory(instance.instanceId, length, [
        event(EventType.ExecutionTerminated, now, { Input: JSON.stringify(reason) }),
      ]);
      const updated: InstanceRow = {
        ...instance,
        status: 'Terminated',
        output: JSON.stringify(output),
        updatedAt: now,
      };
      this.store.putInstance(updated);
      this.notifyParent(updated, 'Terminated', JSON.stringify(output), undefined, now);
      if (instance.runtime)
        this.releaseLocks(instance.instanceId, JSON.parse(instance.runtime) as RuntimeState, now, wake);
    });
    for (const w of wake) this.notify(w.id, w.at);
    if (instance.parentInstanceId) this.notify(instance.parentInstanceId, now);
  }

  /**
   * An orchestration that ends while holding (or waiting for) entity locks releases them, as the
   * extension does, so a crashed critical section never blocks an entity forever.
   */
  private releaseLocks(instanceId: string, runtime: RuntimeState, now: number, wake: Wakeup[]): void {
    if (!runtime.lock) return;
    for (const entityId of runtime.lock.entities) {
      const message = { id: runtime.lock.requestId, parent: instanceId };
      this.store.addInbox({
        instanceId: entityId,
        event: event(EventType.EventRaised, now, { Name: 'release', Input: JSON.stringify(message) }),
        visibleAt: now,
      });
      wake.push({ id: entityId, at: now });
    }
  }

  private notifyParent(
    child: InstanceRow,
    status: 'Completed' | 'Failed' | 'Terminated',
    output: string,
    failureDetails: FailureDetails | undefined,
    now: number,
  ): void {
    if (!child.parentInstanceId || child.parentTaskId === null) return;
    const taskId = child.parentTaskId;
    const e =
      status === 'Completed'
        ? event(EventType.SubOrchestrationInstanceCompleted, now, { TaskScheduledId: taskId, Result: output })
        : event(EventType.SubOrchestrationInstanceFailed, now, {
            TaskScheduledId: taskId,
            Reason:
              status === 'Failed'
                ? output
                : `Sub-orchestration '${child.instanceId}' was terminated: ${safeParse(output)}`,
            Details: `Message: ${status === 'Failed' ? (failureDetails?.ErrorMessage ?? output) : String(safeParse(output))}, StackTrace: ${failureDetails?.StackTrace ?? ''}`,
            FailureDetails: failureDetails ?? {
              ErrorType: 'OrchestrationTerminated',
              ErrorMessage: String(safeParse(output)),
            },
          });
    this.store.addInbox({
      instanceId: child.parentInstanceId,
      executionId: child.parentExecutionId,
      event: e,
      visibleAt: now,
    });
  }

  private applyEffect(instance: InstanceRow, effect: Effect, now: number, wake: Wakeup[]): void {
    const { instanceId, executionId } = instance;
    switch (effect.kind) {
      case 'activity':
        this.activities.enqueue({
          instanceId,
          executionId,
          taskId: effect.taskId,
          name: effect.name,
          input: effect.input,
          kind: 'activity',
        });
        return;
      case 'http':
        this.activities.enqueue({
          instanceId,
          executionId,
          taskId: effect.taskId,
          name: 'BuiltIn::HttpActivity',
          input: JSON.stringify(effect.request),
          kind: 'http',
        });
        return;
      case 'timer':
        this.store.addInbox({
          instanceId,
          executionId,
          event: event(EventType.TimerFired, effect.fireAt, {
            TimerId: effect.timerId,
            FireAt: new Date(effect.fireAt).toISOString(),
          }),
          visibleAt: effect.fireAt,
        });
        wake.push({ id: instanceId, at: effect.fireAt });
        return;
      case 'subOrchestration': {
        let invalid: string | undefined;
        try {
          validateInstanceId(effect.instanceId);
        } catch (err) {
          invalid = (err as Error).message;
        }
        const existing = invalid ? undefined : this.store.getInstance(effect.instanceId);
        if (invalid || (existing && !isTerminal(existing.status))) {
          this.store.addInbox({
            instanceId,
            executionId,
            event: event(EventType.SubOrchestrationInstanceFailed, now, {
              TaskScheduledId: effect.taskId,
              Reason:
                invalid ??
                `An orchestration with instance ID '${effect.instanceId}' already exists and is ${existing?.status}.`,
              Details: '',
              FailureDetails: {
                ErrorType: invalid ? 'InvalidInstanceIdError' : 'OrchestrationAlreadyExistsError',
                ErrorMessage: invalid ?? `Instance '${effect.instanceId}' already exists.`,
              },
            }),
            visibleAt: now,
          });
          wake.push({ id: instanceId, at: now });
          return;
        }
        wake.push({ id: effect.instanceId, at: now });
        this.createInstance({
          instanceId: effect.instanceId,
          name: effect.name,
          input: effect.input,
          version: effect.version ?? null,
          parent: { instanceId, executionId, taskId: effect.taskId, name: instance.name },
          now,
        });
        return;
      }
      case 'entityMessage':
        this.store.addInbox({
          instanceId: effect.entityId,
          event: event(EventType.EventRaised, now, {
            Name: effect.name,
            Input: JSON.stringify(effect.message),
          }),
          visibleAt: now,
        });
        wake.push({ id: effect.entityId, at: now });
        return;
    }
  }

  private afterCommit(instance: InstanceRow | undefined, wake: Wakeup[]): void {
    this.activities.flushQueued();
    for (const w of wake) this.notify(w.id, w.at);
    if (!instance) return;
    const now = this.clock.now();
    if (instance.status === 'ContinuedAsNew') this.notify(instance.instanceId, now);
    if (isTerminal(instance.status) && instance.parentInstanceId) this.notify(instance.parentInstanceId, now);
  }

  /** Writes a new (or replacing) instance and its ExecutionStarted message. Call inside a transaction. */
  createInstance(args: {
    instanceId: string;
    name: string;
    input: string | null;
    version: string | null;
    parent?: { instanceId: string; executionId: string; taskId: number; name: string };
    now: number;
  }): InstanceRow {
    this.liveSessions.evict(args.instanceId);
    const executionId = newExecutionId();
    this.store.purge(args.instanceId);
    const row: InstanceRow = {
      instanceId: args.instanceId,
      executionId,
      name: args.name,
      version: args.version,
      status: 'Pending',
      input: args.input,
      output: null,
      customStatus: null,
      parentInstanceId: args.parent?.instanceId ?? null,
      parentExecutionId: args.parent?.executionId ?? null,
      parentTaskId: args.parent?.taskId ?? null,
      createdAt: args.now,
      updatedAt: args.now,
      runtime: null,
    };
    this.store.putInstance(row);
    this.store.addInbox({
      instanceId: args.instanceId,
      executionId,
      event: event(EventType.ExecutionStarted, args.now, {
        Name: args.name,
        Input: args.input,
        Version: args.version ?? '',
        OrchestrationInstance: { InstanceId: args.instanceId, ExecutionId: executionId },
        ParentInstance: args.parent
          ? {
              Name: args.parent.name,
              OrchestrationInstance: {
                InstanceId: args.parent.instanceId,
                ExecutionId: args.parent.executionId,
              },
              TaskScheduleId: args.parent.taskId,
            }
          : null,
      }),
      visibleAt: args.now,
    });
    return row;
  }

  // ---- Client operations (used by the HTTP API) ----

  startNew(
    name: string,
    instanceId: string | undefined,
    input: string | null,
    version?: string,
  ): InstanceRow {
    const start = this.prepareStart(name, instanceId);
    const now = this.clock.now();
    const row = this.store.transaction(() => this.createUnlessRunning(start, input, version, now));
    this.notify(start.id, now, true);
    return row;
  }

  /**
   * startNew through the group commit: resolves once the instance is durable, sharing the commit
   * with whatever else finishes in this turn (a burst of HTTP starts costs a few commits, not one each).
   */
  async startNewGrouped(
    name: string,
    instanceId: string | undefined,
    input: string | null,
    version?: string,
  ): Promise<InstanceRow> {
    const start = this.prepareStart(name, instanceId);
    let row: InstanceRow | undefined;
    await this.commits.commit(() => {
      row = this.createUnlessRunning(start, input, version, this.clock.now());
    });
    const started = row as InstanceRow;
    this.notify(start.id, started.createdAt, true);
    return started;
  }

  /** What a start checks before touching the store: the orchestrator exists and the id is valid. */
  private prepareStart(name: string, instanceId: string | undefined): { id: string; name: string } {
    const fn = this.functions.find('orchestrationTrigger', name);
    if (!fn)
      throw new EngineError(
        'BAD_REQUEST',
        `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function.`,
      );
    const id = instanceId ?? randomUUID().replace(/-/g, '');
    validateInstanceId(id);
    return { id, name: fn.name };
  }

  /** Inside a transaction: creates the instance, unless one with its id is still running. */
  private createUnlessRunning(
    start: { id: string; name: string },
    input: string | null,
    version: string | undefined,
    now: number,
  ): InstanceRow {
    const existing = this.store.getInstance(start.id);
    if (existing && !isTerminal(existing.status)) {
      throw new EngineError(
        'CONFLICT',
        `An instance with ID '${start.id}' already exists and is ${existing.status}.`,
      );
    }
    return this.createInstance({
      instanceId: start.id,
      name: start.name,
      input,
      version: version ?? null,
      now,
    });
  }

  private requireInstance(instanceId: string): InstanceRow {
    const instance = this.store.getInstance(instanceId);
    if (!instance) throw new EngineError('NOT_FOUND', `No instance with ID '${instanceId}' was found.`);
    return instance;
  }

  private sendControl(instanceId: string, e: HistoryEvent): void {
    const now = this.clock.now();
    this.store.addInbox({ instanceId, event: e, visibleAt: now });
    this.notify(instanceId, now);
  }

  raiseEvent(instanceId: string, eventName: string, data: string | null): void {
    const instance = this.requireInstance(instanceId);
    if (isTerminal(instance.status)) {
      throw new EngineError(
        'GONE',
        `Instance '${instanceId}' is ${instance.status} and accepts no more events.`,
      );
    }
    this.sendControl(
      instanceId,
      event(EventType.EventRaised, this.clock.now(), { Name: eventName, Input: data }),
    );
  }

  terminate(instanceId: string, reason: string): void {
    const instance = this.requireInstance(instanceId);
    if (isTerminal(instance.status))
      throw new EngineError('GONE', `Instance '${instanceId}' is already ${instance.status}.`);
    this.sendControl(instanceId, event(EventType.ExecutionTerminated, this.clock.now(), { Input: reason }));
  }

  suspend(instanceId: string, reason: string): void {
    const instance = this.requireInstance(instanceId);
    if (isTerminal(instance.status))
      throw new EngineError('GONE', `Instance '${instanceId}' is already ${instance.status}.`);
    if (instance.status === 'Suspended')
      throw new EngineError('CONFLICT', `Instance '${instanceId}' is already suspended.`);
    this.sendControl(instanceId, event(EventType.ExecutionSuspended, this.clock.now(), { Reason: reason }));
  }

  resume(instanceId: string, reason: string): void {
    const instance = this.requireInstance(instanceId);
    if (isTerminal(instance.status))
      throw new EngineError('GONE', `Instance '${instanceId}' is already ${instance.status}.`);
    if (instance.status !== 'Suspended') {
      const pendingSuspend = this.store
        .inbox(instanceId, Number.MAX_SAFE_INTEGER)
        .some((m) => m.event.EventType === EventType.ExecutionSuspended);
      if (!pendingSuspend) throw new EngineError('CONFLICT', `Instance '${instanceId}' is not suspended.`);
    }
    this.sendControl(instanceId, event(EventType.ExecutionResumed, this.clock.now(), { Reason: reason }));
  }

  /**
   * Re-runs a failed instance from where it failed: failure events are dropped from history and the
   * failed activities (and failed sub-orchestrations, recursively) run again.
   */
  rewind(instanceId: string, reason: string): void {
    const instance = this.requireInstance(instanceId);
    if (instance.status !== 'Failed') {
      if (isTerminal(instance.status))
        throw new EngineError(
          'GONE',
          `Instance '${instanceId}' is ${instance.status}; only failed instances can be rewound.`,
        );
      throw new EngineError(
        'PRECONDITION_FAILED',
        `Instance '${instanceId}' is ${instance.status}; only failed instances can be rewound.`,
      );
    }
    const now = this.clock.now();
    const toNotify: string[] = [];
    this.liveSessions.evict(instanceId);
    this.transactionWithWork(() => this.rewindInTransaction(instance, reason, now, toNotify));
    this.activities.flushQueued();
    for (const id of toNotify) this.notify(id, now);
  }

  private rewindInTransaction(instance: InstanceRow, reason: string, now: number, toNotify: string[]): void {
    this.liveSessions.evict(instance.instanceId);
    const history = this.store.history(instance.instanceId);
    const scheduled = scheduledById(history);
    const retried = new Set(
      (instance.runtime ? (JSON.parse(instance.runtime) as RuntimeState) : newRuntimeState()).retryAttempts,
    );
    const kept: HistoryEvent[] = [];
    let rerun = 0;
    for (const e of history) {
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
          const kind = s.Name === 'BuiltIn::HttpActivity' ? 'http' : 'activity';
          this.activities.enqueue({
            instanceId: instance.instanceId,
            executionId: instance.executionId,
            taskId: s.EventId,
            name: String(s.Name),
            input: s.Input ?? null,
            kind,
          });
          rerun++;
        }
        continue;
      }
      if (e.EventType === EventType.SubOrchestrationInstanceFailed) {
        const s = scheduled.get(e.TaskScheduledId ?? -1);
        const child = s?.InstanceId ? this.store.getInstance(s.InstanceId) : undefined;
        if (child?.status === 'Failed') {
          this.rewindInTransaction(child, reason, now, toNotify);
          rerun++;
          continue;
        }
        // A child that cannot be re-run (terminated, or never started) keeps its failure.
        kept.push(e);
        continue;
      }
      kept.push(e);
    }
    this.store.replaceHistory(instance.instanceId, kept);
    if (rerun === 0) {
      this.store.addInbox({
        instanceId: instance.instanceId,
        event: event(EventType.GenericEvent, now, { Name: 'rewind' }),
        visibleAt: now,
      });
      toNotify.push(instance.instanceId);
    }
    this.store.putInstance({ ...instance, status: 'Running', output: null, updatedAt: now });
  }

  purge(instanceId: string): number {
    const instance = this.store.getInstance(instanceId);
    if (!instance) return 0;
    if (!isTerminal(instance.status)) {
      throw new EngineError(
        'CONFLICT',
        `Instance '${instanceId}' is ${instance.status}; only finished instances can be purged.`,
      );
    }
    this.liveSessions.evict(instanceId);
    return this.store.transaction(() => (this.store.purge(instanceId) ? 1 : 0));
  }

  purgeWhere(filter: { createdFrom: number; createdTo?: number; statuses?: RuntimeStatus[] }): number {
    const statuses = (filter.statuses?.length ? filter.statuses : undefined) ?? [
      'Completed',
      'Failed',
      'Terminated',
      'Canceled',
    ];
    let deleted = 0;
    this.store.transaction(() => {
      let continuation: string | undefined;
      do {
        const page = this.store.queryInstances({
          createdFrom: filter.createdFrom,
          createdTo: filter.createdTo,
          statuses,
          continuation,
          top: 500,
        });
        for (const row of page.rows) {
          this.liveSessions.evict(row.instanceId);
          if (isTerminal(row.status) && this.store.purge(row.instanceId)) deleted++;
        }
        continuation = page.continuation;
      } while (continuation);
    });
    return deleted;
  }

  signalEntity(name: string, key: string, operation: string, input: string | null): void {
    const entityId = `@${name.toLowerCase()}@${key}`;
    const now = this.clock.now();
    const message = { op: operation, id: randomUUID(), input, signal: true };
    this.store.addInbox({
      instanceId: entityId,
      event: event(EventType.EventRaised, now, { Name: 'op', Input: JSON.stringify(message) }),
      visibleAt: now,
    });
    this.notify(entityId, now);
  }

  readEntityState(name: string, key: string): { exists: boolean; state: unknown } {
    const row = this.store.getEntity(`@${name.toLowerCase()}@${key}`);
    if (!row || !row.exists) return { exists: false, state: undefined };
    return { exists: true, state: row.state === null ? null : safeParse(row.state) };
  }
}

export function newExecutionId(): string {
  return randomUUID().replace(/-/g, '');
}

export function validateInstanceId(id: string): void {
  if (!id || id.length > 256)
    throw new EngineError('BAD_REQUEST', 'Instance IDs must be between 1 and 256 characters.');
  // Control and format characters (bidi overrides, zero-width, BOM), line separators and lone
  // surrogates are refused too: listings show ids to people, and these make one id look like another.
  if (/[/\\?#\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u.test(id) || id.startsWith('@')) {
    // The id is left out of the message: it is the text that could garble a log or a terminal.
    throw new EngineError(
      'BAD_REQUEST',
      'The instance ID contains characters that are not allowed (/ \\ ? #, control or invisible formatting characters, or a leading @).',
    );
  }
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

/** Turns a throw from the orchestrator handler into the failure the extension would record. */
function orchestratorFailure(err: unknown): EpisodeResult {
  const message = err instanceof Error ? err.message : String(err);
  const marker = message.indexOf(OUT_OF_PROC_MARKER);
  if (marker >= 0) {
    try {
      const state = JSON.parse(message.slice(marker + OUT_OF_PROC_MARKER.length)) as OrchestratorState;
      const details = state.failureDetails;
      return {
        ok: false,
        message: state.error ?? message.slice(0, marker).trim(),
        failureDetails: details
          ? {
              ErrorType: details.ErrorType,
              ErrorMessage: details.ErrorMessage,
              StackTrace: details.StackTrace,
            }
          : { ErrorType: 'Error', ErrorMessage: state.error ?? '' },
        customStatus: state.customStatus,
      };
    } catch {
      // fall through: report the raw message
    }
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

/**
 * The orchestration trigger payload as text. Stored history is kept as the JSON text it was
 * written as (already marked IsPlayed), so replaying a long history costs no parse or re-encode.
 */
function payloadText(oldHistory: string[], newEvents: HistoryEvent[], rest: Record<string, unknown>): string {
  const events = oldHistory.length
    ? [oldHistory.join(','), ...newEvents.map((e) => JSON.stringify(e))]
    : newEvents.map((e) => JSON.stringify(e));
  return `{"history":[${events.join(',')}],${JSON.stringify(rest).slice(1)}`;
}
