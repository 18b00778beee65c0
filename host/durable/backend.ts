/**
 * The storage port of the durable engine: everything the engine needs from a store, as work items in
 * and outcomes out. Each call that changes state is one atomic step, so a crash at any moment leaves
 * either the whole step or none of it, and the engine never opens a transaction itself. An
 * implementation (sqliteBackend.ts) owns its schema and every statement; it never runs user code and
 * never decides what an orchestration does next. test/host/backendContract.ts is the suite any one
 * must pass.
 */
import type { HistoryEvent } from './history';

export type RuntimeStatus =
  'Pending' | 'Running' | 'Completed' | 'ContinuedAsNew' | 'Failed' | 'Canceled' | 'Terminated' | 'Suspended';

export const TERMINAL_STATUSES: readonly RuntimeStatus[] = ['Completed', 'Failed', 'Terminated', 'Canceled'];

export function isTerminal(status: RuntimeStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export interface InstanceRow {
  instanceId: string;
  executionId: string;
  name: string;
  version: string | null;
  status: RuntimeStatus;
  input: string | null;
  output: string | null;
  customStatus: string | null;
  parentInstanceId: string | null;
  parentExecutionId: string | null;
  parentTaskId: number | null;
  createdAt: number;
  updatedAt: number;
  /** Host bookkeeping (sequence ids, applied actions, retries) as JSON: episode.ts's RuntimeState. */
  runtime: string | null;
}

/** An event waiting in the inbox of an orchestration or entity. */
export interface InboxMessage {
  id: number;
  instanceId: string;
  /** When set, the message belongs to that execution only and is dropped by any other. */
  executionId: string | null;
  event: HistoryEvent;
  visibleAt: number;
}

export interface NewInboxMessage {
  instanceId: string;
  executionId?: string | null;
  event: HistoryEvent;
  visibleAt: number;
}

export interface ActivityWork {
  id: number;
  instanceId: string;
  executionId: string;
  taskId: number;
  name: string;
  input: string | null;
  /** 'activity' or 'http' (a durable HTTP call the host performs itself). */
  kind: string;
}

export type NewActivityWork = Omit<ActivityWork, 'id'>;

export interface EntityRow {
  entityId: string;
  state: string | null;
  exists: boolean;
  /** Lock bookkeeping as JSON (holder and queued lock requests). */
  locks: string | null;
}

export interface InstanceQuery {
  createdFrom?: number;
  createdTo?: number;
  statuses?: RuntimeStatus[];
  instanceIdPrefix?: string;
  top?: number;
  /** Newest first (created time, then instance id, both descending); default oldest first. */
  newestFirst?: boolean;
  /** Opaque continuation token from a previous page of the same order. */
  continuation?: string;
}

export interface InstancePage {
  rows: InstanceRow[];
  continuation?: string;
}

/** A new instance (or a new run replacing a finished one) with the ExecutionStarted event for its inbox. */
export interface NewInstance {
  instance: InstanceRow;
  started: HistoryEvent;
}

export type CreateResult = { created: true } | { created: false; existing: InstanceRow };

/** What an orchestration episode (or a terminate) sends, in the order it sent it. */
export type Outgoing =
  | { kind: 'message'; message: NewInboxMessage }
  | { kind: 'activity'; work: NewActivityWork }
  /**
   * A sub-orchestration: created unless an instance with its id is still running; then `refusal(status)`
   * goes to the parent's inbox instead.
   */
  | { kind: 'child'; child: NewInstance; refusal: (existing: RuntimeStatus) => NewInboxMessage };

/** The outcome of an orchestration work item, committed in one atomic step. */
export interface OrchestrationCompletion {
  instanceId: string;
  /** The execution the work item ran: if the instance is on another one by now, nothing is written. */
  executionId: string;
  /** Inbox ids the episode took. */
  consumed: number[];
  /**
   * Events to add after the stored history, or (for a new execution) the history that replaces it.
   * `storedLength` is the stored history's length as the episode read it, when it did: it saves a lookup
   * (nothing else appends to a running execution's history, and `executionId` guards the rest).
   */
  history: { append: HistoryEvent[]; storedLength?: number } | { replace: HistoryEvent[] };
  /** Drop everything left in the instance's inbox (it has ended). */
  clearInbox: boolean;
  instance: InstanceRow;
  /** Messages, work and children it sends, written after its inbox and row were settled. */
  outgoing: Outgoing[];
}

export interface CompletionResult {
  /** False when the instance was on another execution (terminated or replaced meanwhile). */
  written: boolean;
  /** The activity work now stored, with its ids: hand it to the activity runner. */
  activities: ActivityWork[];
  /** Ids of the children created, and of the ones refused because they were running. */
  childrenStarted: string[];
  childrenRefused: string[];
}

/** Rewinding one failed instance: its new row and history, and the work that re-runs what failed. */
export interface RewindStep {
  instance: InstanceRow;
  history: HistoryEvent[];
  activities: NewActivityWork[];
  messages: NewInboxMessage[];
}

export interface EntityCompletion {
  entity: EntityRow;
  consumed: number[];
  messages: NewInboxMessage[];
}

export interface ActivityResult {
  workId: number;
  /** The TaskCompleted/TaskFailed message for the orchestration. */
  message: NewInboxMessage;
}

/** A work item for one orchestration episode: the instance and the events that arrived for it. */
export interface OrchestrationWorkItem {
  instance: InstanceRow;
  /** Inbox events visible when it was taken, oldest first (possibly none). */
  newEvents: InboxMessage[];
  /** True when `instance` is the cached row given to take (the store still holds exactly that). */
  fromCache: boolean;
}

/** What a live orchestration has read: used instead of reading the row while the store still agrees. */
export interface CachedInstance {
  row: InstanceRow;
  historyLength: number;
}

/** Counters for benchmarks and diagnostics. */
export interface BackendStats {
  /** Outermost transactions committed (a group commit is one). */
  transactions: number;
  /** Wall time spent inside them, their work plus COMMIT. */
  msInTransactions: number;
  /** Group commits, and the writes (episode outcomes, starts, result batches) they carried. */
  groupCommits: number;
  groupWrites: number;
  /** Instance rows the listing (queryInstances) has read: a page costs its size, not the store's. */
  instanceRowsRead: number;
}

/** What can be read without changing anything: the status API, the replay check, tests. */
export interface ReadOnlyBackend {
  getInstance(instanceId: string): InstanceRow | undefined;
  history(instanceId: string): HistoryEvent[];
  historyLength(instanceId: string): number;
  queryInstances(q: InstanceQuery): InstancePage;
  /** How many instances a query selects (no paging). */
  countInstances(q: Omit<InstanceQuery, 'top' | 'continuation' | 'newestFirst'>): number;
  entitiesNamed(name: string): EntityRow[];
  getEntity(entityId: string): EntityRow | undefined;
  /** Messages of an instance visible at `now`, oldest first. */
  pendingEvents(instanceId: string, now: number): InboxMessage[];
  close(): void;
}

export interface Backend extends ReadOnlyBackend {
  readonly stats: Readonly<BackendStats>;

  // ---- instances and events (client operations)
  /** Creates an instance, replacing a finished one with its id; refuses while one is running. */
  createInstance(start: NewInstance): CreateResult;
  /** createInstance, committed with whatever else finishes in this turn (group commit). */
  createInstanceGrouped(start: NewInstance): Promise<CreateResult>;
  /** Adds events to inboxes (raise, terminate, suspend, resume, entity signals), in one step. */
  addEvents(messages: NewInboxMessage[]): void;

  // ---- orchestration work
  /** Instances (and entities) with messages waiting, and when the earliest becomes visible (recovery). */
  pendingInboxes(): { instanceId: string; due: number }[];
  /** When the instance's earliest message not yet visible becomes visible. */
  nextDue(instanceId: string, now: number): number | undefined;
  /**
   * The instance and its events visible at `now`. Undefined when the instance does not exist (its
   * messages are dropped then). The history is not read here: a live orchestration does not need it.
   */
  takeOrchestrationWorkItem(
    instanceId: string,
    now: number,
    cached?: CachedInstance,
  ): OrchestrationWorkItem | undefined;
  /** Stored history as the JSON texts it was written as, for a replay payload without re-encoding. */
  historyTexts(instanceId: string): string[];
  /**
   * Gives a work item back without an outcome (the host failed running it): its events stay in the
   * inbox and are taken again.
   */
  abandonOrchestrationWorkItem(item: OrchestrationWorkItem): void;
  /** Commits an episode's outcome in one step, grouped with the others finishing in this turn. */
  completeOrchestrationWorkItem(completion: OrchestrationCompletion): Promise<CompletionResult>;
  /** The same outcome committed at once (terminations and control-only episodes). */
  completeOrchestrationWorkItemNow(completion: OrchestrationCompletion): CompletionResult;
  /** Rewinds failed instances (a parent with its failed children) in one step. */
  rewind(steps: RewindStep[]): ActivityWork[];

  // ---- activity work
  /** All stored activity work, oldest first (at start: what was accepted before a crash). */
  pendingActivityWork(): ActivityWork[];
  /** Removes finished work and delivers each result to its orchestration, in one grouped step. */
  completeActivityWork(results: ActivityResult[]): Promise<void>;

  // ---- entities
  completeEntityWorkItem(completion: EntityCompletion): void;

  // ---- housekeeping
  /** Removes an instance with its history, inbox and pending work; true when it existed. */
  purge(instanceId: string): boolean;
  /** Purges every finished instance the query selects, in one step; returns the ids purged. */
  purgeWhere(q: Omit<InstanceQuery, 'top' | 'continuation' | 'newestFirst'>): string[];
}

export class InvalidContinuationError extends Error {
  readonly code = 'INVALID_CONTINUATION_TOKEN';
}
