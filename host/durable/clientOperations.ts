/**
 * The engine's client operations, as the Durable HTTP API and the app's durable client call them:
 * start, raise an event, terminate, suspend, resume, rewind, purge, signal and read entities. Each
 * checks what it may do, writes through one backend call and wakes the dispatcher; the episode that
 * follows does the rest. Refusals are EngineErrors with a code. It never runs user code.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock';
import {
  isTerminal,
  type ActivityWork,
  type Backend,
  type CreateResult,
  type InstanceRow,
  type NewInstance,
  type RuntimeStatus,
} from './backend';
import { EngineError } from './engineError';
import type { FunctionIndex } from './functionIndex';
import { EventType, type HistoryEvent, event } from './history';
import { newInstance, validateInstanceId } from './instanceRecords';
import type { LiveSessionCache } from './liveSessions';
import { planRewind } from './rewindPlan';
import { parseOrText } from './triggerPayload';

export interface ClientOperationsOptions {
  backend: Backend;
  functions: FunctionIndex;
  clock: Clock;
  liveSessions: LiveSessionCache;
  notify: (id: string, at: number, isNew?: boolean) => void;
  startActivities: (work: ActivityWork[]) => void;
}

export class ClientOperations {
  constructor(private readonly options: ClientOperationsOptions) {}

  startNew(
    name: string,
    instanceId: string | undefined,
    input: string | null,
    version?: string,
  ): InstanceRow {
    const start = this.prepareStart(name, instanceId, input, version);
    return this.started(start, this.options.backend.createInstance(start));
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
    const start = this.prepareStart(name, instanceId, input, version);
    return this.started(start, await this.options.backend.createInstanceGrouped(start));
  }

  /** What a start checks before touching the store: the orchestrator exists and the id is valid. */
  private prepareStart(
    name: string,
    instanceId: string | undefined,
    input: string | null,
    version: string | undefined,
  ): NewInstance {
    const fn = this.options.functions.find('orchestrationTrigger', name);
    if (!fn)
      throw new EngineError(
        'BAD_REQUEST',
        `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function.`,
      );
    const id = instanceId ?? randomUUID().replace(/-/g, '');
    validateInstanceId(id);
    return newInstance({
      instanceId: id,
      name: fn.name,
      input,
      version: version ?? null,
      now: this.options.clock.now(),
    });
  }

  private started(start: NewInstance, result: CreateResult): InstanceRow {
    const { instance } = start;
    if (!result.created)
      throw new EngineError(
        'CONFLICT',
        `An instance with ID '${instance.instanceId}' already exists and is ${result.existing.status}.`,
      );
    this.options.liveSessions.evict(instance.instanceId);
    this.options.notify(instance.instanceId, instance.createdAt, true);
    return instance;
  }

  private requireInstance(instanceId: string): InstanceRow {
    const instance = this.options.backend.getInstance(instanceId);
    if (!instance) throw new EngineError('NOT_FOUND', `No instance with ID '${instanceId}' was found.`);
    return instance;
  }

  private send(instanceId: string, e: HistoryEvent): void {
    const now = this.options.clock.now();
    this.options.backend.addEvents([{ instanceId, event: e, visibleAt: now }]);
    this.options.notify(instanceId, now);
  }

  raiseEvent(instanceId: string, eventName: string, data: string | null): void {
    const instance = this.requireInstance(instanceId);
    if (isTerminal(instance.status)) {
      throw new EngineError(
        'GONE',
        `Instance '${instanceId}' is ${instance.status} and accepts no more events.`,
      );
    }
    this.send(
      instanceId,
      event(EventType.EventRaised, this.options.clock.now(), { Name: eventName, Input: data }),
    );
  }

  terminate(instanceId: string, reason: string): void {
    const instance = this.requireInstance(instanceId);
    if (isTerminal(instance.status))
      throw new EngineError('GONE', `Instance '${instanceId}' is already ${instance.status}.`);
    this.send(instanceId, event(EventType.ExecutionTerminated, this.options.clock.now(), { Input: reason }));
  }

  suspend(instanceId: string, reason: string): void {
    const instance = this.requireInstance(instanceId);
    if (isTerminal(instance.status))
      throw new EngineError('GONE', `Instance '${instanceId}' is already ${instance.status}.`);
    if (instance.status === 'Suspended')
      throw new EngineError('CONFLICT', `Instance '${instanceId}' is already suspended.`);
    this.send(instanceId, event(EventType.ExecutionSuspended, this.options.clock.now(), { Reason: reason }));
  }

  resume(instanceId: string, reason: string): void {
    const instance = this.requireInstance(instanceId);
    if (isTerminal(instance.status))
      throw new EngineError('GONE', `Instance '${instanceId}' is already ${instance.status}.`);
    if (instance.status !== 'Suspended') {
      const pendingSuspend = this.options.backend
        .pendingEvents(instanceId, Number.MAX_SAFE_INTEGER)
        .some((m) => m.event.EventType === EventType.ExecutionSuspended);
      if (!pendingSuspend) throw new EngineError('CONFLICT', `Instance '${instanceId}' is not suspended.`);
    }
    this.send(instanceId, event(EventType.ExecutionResumed, this.options.clock.now(), { Reason: reason }));
  }

  /**
   * Re-runs a failed instance from where it failed: failure events are dropped from history and the
   * failed activities (and failed sub-orchestrations, recursively) run again. The reason is not
   * recorded (the extension keeps it in its own logs only).
   */
  rewind(instanceId: string, _reason: string): void {
    const instance = this.requireInstance(instanceId);
    if (instance.status !== 'Failed') {
      throw new EngineError(
        isTerminal(instance.status) ? 'GONE' : 'PRECONDITION_FAILED',
        `Instance '${instanceId}' is ${instance.status}; only failed instances can be rewound.`,
      );
    }
    const now = this.options.clock.now();
    const { backend, liveSessions } = this.options;
    const plan = planRewind(
      instance,
      now,
      (id) => backend.getInstance(id),
      (id) => backend.history(id),
    );
    for (const step of plan.steps) liveSessions.evict(step.instance.instanceId);
    const work = backend.rewind(plan.steps);
    this.options.startActivities(work);
    for (const id of plan.wake) this.options.notify(id, now);
  }

  purge(instanceId: string): number {
    const instance = this.options.backend.getInstance(instanceId);
    if (!instance) return 0;
    if (!isTerminal(instance.status)) {
      throw new EngineError(
        'CONFLICT',
        `Instance '${instanceId}' is ${instance.status}; only finished instances can be purged.`,
      );
    }
    this.options.liveSessions.evict(instanceId);
    return this.options.backend.purge(instanceId) ? 1 : 0;
  }

  purgeWhere(filter: { createdFrom: number; createdTo?: number; statuses?: RuntimeStatus[] }): number {
    const statuses: RuntimeStatus[] = filter.statuses?.length
      ? filter.statuses
      : ['Completed', 'Failed', 'Terminated', 'Canceled'];
    const purged = this.options.backend.purgeWhere({
      createdFrom: filter.createdFrom,
      createdTo: filter.createdTo,
      statuses,
    });
    for (const id of purged) this.options.liveSessions.evict(id);
    return purged.length;
  }

  signalEntity(name: string, key: string, operation: string, input: string | null): void {
    // As the extension's client does (ThrowIfFunctionDoesNotExist, an ArgumentException its HTTP API
    // answers with 400; the docs say 404): a signal to an entity type the app lacks would never run.
    if (!this.options.functions.find('entityTrigger', name))
      throw new EngineError(
        'BAD_REQUEST',
        `The function '${name}' doesn't exist, is disabled, or is not an entity function.`,
      );
    const entityId = `@${name.toLowerCase()}@${key}`;
    const message = { op: operation, id: randomUUID(), input, signal: true };
    this.send(
      entityId,
      event(EventType.EventRaised, this.options.clock.now(), { Name: 'op', Input: JSON.stringify(message) }),
    );
  }

  readEntityState(name: string, key: string): { exists: boolean; state: unknown } {
    const row = this.options.backend.getEntity(`@${name.toLowerCase()}@${key}`);
    if (!row || !row.exists) return { exists: false, state: undefined };
    return { exists: true, state: row.state === null ? null : parseOrText(row.state) };
  }
}
