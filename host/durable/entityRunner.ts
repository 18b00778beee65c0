/**
 * Runs durable entities: takes an entity's queued operations, runs them as one batch through the
 * app's entity function, and commits the new state, the answers to calling orchestrations and the
 * signals it sent in one transaction. Implements critical sections: while an orchestration holds an
 * entity's lock, messages from anyone else wait in the inbox, in order.
 */
import type { Clock } from '../clock';
import type { WorkerCore } from '../worker/coreApi';
import { fromTypedData, invokeFunction } from '../worker/invoke';
import type { FunctionIndex } from './functionIndex';
import { EventType, event } from './history';
import { isTerminal, type Backend, type InboxMessage, type NewInboxMessage } from './backend';

interface RequestMessage {
  op?: string;
  id?: string;
  input?: string | null;
  parent?: string;
  signal?: boolean;
  lockset?: string[];
  pos?: number;
}

interface LockHolder {
  requestId: string;
  parent?: string;
}

interface EntityResult {
  entityExists: boolean;
  entityState?: string | null;
  results: { isError: boolean; result?: string }[];
  signals: { target: { name: string; key: string }; name: string; input?: string }[];
}

export interface EntityRunnerOptions {
  store: Backend;
  core: WorkerCore;
  functions: FunctionIndex;
  clock: Clock;
  notify: (id: string, at: number) => void;
}

export function parseEntityId(entityId: string): { name: string; key: string } {
  const second = entityId.indexOf('@', 1);
  return { name: entityId.slice(1, second), key: entityId.slice(second + 1) };
}

export class EntityRunner {
  constructor(private readonly options: EntityRunnerOptions) {}

  async run(entityId: string): Promise<void> {
    const { store, clock } = this.options;
    const now = clock.now();
    const messages = store.pendingEvents(entityId, now);
    if (messages.length === 0) return;
    const row = store.getEntity(entityId) ?? { entityId, state: null, exists: false, locks: null };
    let holder = row.locks ? ((JSON.parse(row.locks) as LockHolder | null) ?? undefined) : undefined;
    let exists = row.exists;
    let state = row.state;
    const consumed: number[] = [];
    const outgoing: NewInboxMessage[] = [];
    let batch: { msg: InboxMessage; request: RequestMessage }[] = [];
    let again = false;

    const runBatch = async (): Promise<void> => {
      if (batch.length === 0) return;
      const current = batch;
      batch = [];
      const result = await this.invoke(
        entityId,
        exists,
        state,
        current.map((b) => b.request),
      );
      exists = result.entityExists;
      state = result.entityExists ? (result.entityState ?? null) : null;
      current.forEach((b, i) => {
        if (b.request.signal || !b.request.parent || !b.request.id) return;
        const r = result.results[i] ?? {
          isError: true,
          result: JSON.stringify('The operation produced no result.'),
        };
        const answer = r.isError
          ? { result: r.result ?? null, exceptionType: 'Error' }
          : { result: r.result ?? null };
        outgoing.push({
          instanceId: b.request.parent,
          event: event(EventType.EventRaised, clock.now(), {
            Name: b.request.id,
            Input: JSON.stringify(answer),
          }),
          visibleAt: clock.now(),
        });
      });
      for (const s of result.signals) {
        if (typeof s.target?.name !== 'string' || s.target.key === undefined) continue;
        const target = `@${s.target.name.toLowerCase()}@${s.target.key}`;
        const message: RequestMessage = {
          op: s.name,
          id: crypto.randomUUID(),
          input: s.input ? s.input : null,
          signal: true,
        };
        outgoing.push({
          instanceId: target,
          event: event(EventType.EventRaised, clock.now(), { Name: 'op', Input: JSON.stringify(message) }),
          visibleAt: clock.now(),
        });
      }
    };

    for (const msg of messages) {
      const request = JSON.parse(msg.event.Input ?? '{}') as RequestMessage;
      const fromHolder =
        holder !== undefined && request.parent !== undefined && request.parent === holder.parent;
      if (msg.event.Name === 'release') {
        consumed.push(msg.id);
        if (holder && (request.id === holder.requestId || fromHolder)) {
          await runBatch();
          holder = undefined;
          // Messages that waited for this lock go first, in order: start again from the inbox head.
          again = true;
          break;
        }
        continue;
      }
      if (holder && !fromHolder) continue; // waits until the lock is released
      if (request.lockset) {
        await runBatch();
        const lockset = request.lockset;
        const pos = request.pos ?? 0;
        consumed.push(msg.id);
        // A requester that has already ended would never release: do not grant it.
        const parent = request.parent ? store.getInstance(request.parent) : undefined;
        if (!parent || isTerminal(parent.status)) continue;
        holder = { requestId: String(request.id), parent: request.parent };
        const at = clock.now();
        if (pos + 1 < lockset.length) {
          outgoing.push({
            instanceId: lockset[pos + 1],
            event: event(EventType.EventRaised, at, {
              Name: 'op',
              Input: JSON.stringify({ ...request, pos: pos + 1 }),
            }),
            visibleAt: at,
          });
        } else if (request.parent) {
          outgoing.push({
            instanceId: request.parent,
            event: event(EventType.EventRaised, at, { Name: String(request.id), Input: '{}' }),
            visibleAt: at,
          });
        }
        continue;
      }
      batch.push({ msg, request });
      consumed.push(msg.id);
    }
    await runBatch();

    store.completeEntityWorkItem({
      entity: { entityId, state, exists, locks: holder ? JSON.stringify(holder) : null },
      consumed,
      messages: outgoing,
    });
    for (const m of outgoing) this.options.notify(m.instanceId, m.visibleAt);
    if (again) this.options.notify(entityId, clock.now());
  }

  private async invoke(
    entityId: string,
    exists: boolean,
    state: string | null,
    requests: RequestMessage[],
  ): Promise<EntityResult> {
    const self = parseEntityId(entityId);
    const fn = this.options.functions.find('entityTrigger', self.name);
    const failAll = (message: string): EntityResult => ({
      entityExists: exists,
      entityState: state,
      results: requests.map(() => ({ isError: true, result: JSON.stringify(message) })),
      signals: [],
    });
    if (!fn) return failAll(`The entity function '${self.name}' doesn't exist.`);
    const payload = {
      self,
      exists,
      state,
      batch: requests.map((r) => ({ name: r.op ?? '', input: r.input ?? null, isSignal: r.signal === true })),
    };
    try {
      const res = await invokeFunction(this.options.core, fn.fn, {
        inputData: [{ name: fn.triggerKey, data: { string: JSON.stringify(payload) } }],
      });
      const value = fromTypedData(res.returnValue) as EntityResult | undefined;
      if (!value || !Array.isArray(value.results))
        return failAll('The entity function returned no entity state.');
      return { ...value, signals: value.signals ?? [] };
    } catch (err) {
      return failAll(err instanceof Error ? err.message : String(err));
    }
  }
}
