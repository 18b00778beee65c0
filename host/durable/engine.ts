/**
 * The durable engine, as the host and the HTTP API see it: one object that wires the dispatcher,
 * the episode runner, the entity and activity runners and the client operations to a storage
 * backend, and exposes what callers use. Work goes through the backend's work items, so the
 * in-memory queues are only a cache of what the store holds; after a crash `start()` rebuilds them
 * and nothing accepted is lost. It never serves HTTP and never parses user payloads beyond the wire
 * formats of the Durable extension.
 */
import type { Clock } from '../clock';
import type { WorkerCore } from '../worker/coreApi';
import { ActivityRunner } from './activityRunner';
import type { Backend, InstanceRow, RuntimeStatus } from './backend';
import { ClientOperations } from './clientOperations';
import { Dispatcher } from './dispatcher';
import { EntityRunner } from './entityRunner';
import { EpisodeRunner } from './episodeRunner';
import { FunctionIndex } from './functionIndex';
import { LiveSessionCache, LiveSessionSettings } from './liveSessions';
import { LiveVerifier } from './liveVerify';
import { OrchestratorInvoker } from './orchestratorInvoker';

export { EngineError } from './engineError';
export { newExecutionId, validateInstanceId } from './instanceRecords';

export interface EngineOptions {
  store: Backend;
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

export class Engine {
  /** The storage backend (the port in backend.ts). */
  readonly store: Backend;
  readonly clock: Clock;
  readonly functions: FunctionIndex;
  readonly hubName: string;
  /** Orchestrations kept alive between episodes; anything not here is replayed in full. */
  readonly liveSessions: LiveSessionCache;
  private readonly options: EngineOptions;
  private readonly dispatcher: Dispatcher;
  private readonly activities: ActivityRunner;
  private readonly client: ClientOperations;

  constructor(options: EngineOptions) {
    this.options = options;
    this.store = options.store;
    this.clock = options.clock;
    this.hubName = options.hubName;
    const backend = options.store;
    this.functions = new FunctionIndex(options.core);
    this.liveSessions = new LiveSessionCache(options.liveSessions);
    const notify = (id: string, at: number, isNew?: boolean): void => this.notify(id, at, isNew);
    this.activities = new ActivityRunner({
      backend,
      core: options.core,
      functions: this.functions,
      clock: this.clock,
      maxConcurrent: options.maxConcurrentActivities,
      timeoutMs: options.functionTimeoutMs,
      deliver: (instanceId) => this.notify(instanceId, this.clock.now()),
      onIdle: () => this.dispatcher.checkIdle(),
    });
    const startActivities = this.activities.accept.bind(this.activities);
    const entities = new EntityRunner({
      store: backend,
      core: options.core,
      functions: this.functions,
      clock: this.clock,
      notify,
    });
    const episodes = new EpisodeRunner({
      backend,
      functions: this.functions,
      clock: this.clock,
      liveSessions: this.liveSessions,
      invoker: new OrchestratorInvoker({
        core: options.core,
        upperSchemaVersion: options.upperSchemaVersion,
        liveAllowed: () => this.liveSessions.enabled,
      }),
      liveVerifier: LiveVerifier.fromEnvironment(),
      startActivities,
      notify,
      log: (level, message) => this.log(level, message),
    });
    this.dispatcher = new Dispatcher({
      clock: this.clock,
      maxConcurrent: options.maxConcurrentOrchestrations,
      run: (id) => (id.startsWith('@') ? entities.run(id) : episodes.run(id)),
      nextDue: (id, now) => backend.nextDue(id, now),
      activitiesIdle: () => this.activities.isIdle(),
      log: (level, message) => this.log(level, message),
    });
    this.client = new ClientOperations({
      backend,
      functions: this.functions,
      clock: this.clock,
      liveSessions: this.liveSessions,
      notify,
      startActivities,
    });
  }

  log(level: 'information' | 'warning' | 'error', message: string): void {
    this.options.log?.(level, message);
  }

  /** Rebuilds the in-memory queues from the store and starts dispatching. */
  start(): void {
    this.dispatcher.start(this.store.pendingInboxes());
    this.activities.start();
  }

  async stop(timeoutMs = 5000): Promise<void> {
    this.dispatcher.stop();
    this.liveSessions.clear();
    await this.activities.stop(timeoutMs);
    // Unfinished episodes are safe to abandon: their messages stay in the store and run again.
    await this.dispatcher.settle(timeoutMs);
  }

  /** True when nothing is runnable now (timers in the future may still be pending). */
  isIdle(): boolean {
    return this.dispatcher.isIdle();
  }

  /** True when durable work waits on the clock (timers, retry back-off, delayed messages). */
  hasScheduledWakeups(): boolean {
    return this.dispatcher.hasScheduledWakeups();
  }

  /** Resolves once the engine has nothing runnable; used by the virtual clock and tests. */
  whenIdle(): Promise<void> {
    return this.dispatcher.whenIdle();
  }

  /** Marks an instance (or entity) as having work visible at `visibleAt`. */
  notify(instanceId: string, visibleAt: number, isNew = false): void {
    this.dispatcher.notify(instanceId, visibleAt, isNew);
  }

  // ---- Client operations (used by the HTTP API); see clientOperations.ts

  startNew(
    name: string,
    instanceId: string | undefined,
    input: string | null,
    version?: string,
  ): InstanceRow {
    return this.client.startNew(name, instanceId, input, version);
  }

  startNewGrouped(
    name: string,
    instanceId: string | undefined,
    input: string | null,
    version?: string,
  ): Promise<InstanceRow> {
    return this.client.startNewGrouped(name, instanceId, input, version);
  }

  raiseEvent(instanceId: string, eventName: string, data: string | null): void {
    this.client.raiseEvent(instanceId, eventName, data);
  }

  terminate(instanceId: string, reason: string): void {
    this.client.terminate(instanceId, reason);
  }

  suspend(instanceId: string, reason: string): void {
    this.client.suspend(instanceId, reason);
  }

  resume(instanceId: string, reason: string): void {
    this.client.resume(instanceId, reason);
  }

  rewind(instanceId: string, reason: string): void {
    this.client.rewind(instanceId, reason);
  }

  purge(instanceId: string): number {
    return this.client.purge(instanceId);
  }

  purgeWhere(filter: { createdFrom: number; createdTo?: number; statuses?: RuntimeStatus[] }): number {
    return this.client.purgeWhere(filter);
  }

  signalEntity(name: string, key: string, operation: string, input: string | null): void {
    this.client.signalEntity(name, key, operation, input);
  }

  readEntityState(name: string, key: string): { exists: boolean; state: unknown } {
    return this.client.readEntityState(name, key);
  }
}
