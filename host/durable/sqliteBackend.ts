/**
 * The SQLite implementation of the storage port (backend.ts): one better-sqlite3 connection in WAL
 * mode, every statement (sqliteStatements.ts) and every transaction. Each port call that changes
 * state is one transaction (or one savepoint of a group commit), which is what makes a `kill -9` at
 * any moment safe. It never runs user code and never decides what an orchestration does next.
 */
import type Database from 'better-sqlite3';
import { performance } from 'node:perf_hooks';
import {
  isTerminal,
  type ActivityResult,
  type ActivityWork,
  type Backend,
  type BackendStats,
  type CachedInstance,
  type CompletionResult,
  type CreateResult,
  type EntityCompletion,
  type EntityRow,
  type InboxMessage,
  type InstancePage,
  type InstanceQuery,
  type InstanceRow,
  type NewActivityWork,
  type NewInboxMessage,
  type NewInstance,
  type OrchestrationCompletion,
  type OrchestrationWorkItem,
  type ReadOnlyBackend,
  type RewindStep,
} from './backend';
import { GroupCommit } from './groupCommit';
import type { HistoryEvent } from './history';
import {
  openDatabase,
  toActivityWork,
  toEntity,
  toInboxMessage,
  toInstance,
  type ActivityDbRow,
  type EntityDbRow,
  type InboxDbRow,
  type InstanceDbRow,
} from './sqliteSchema';
import { encodeContinuation, instanceQuerySql, prepareStatements, type Statements } from './sqliteStatements';
import { BACKSTOP_AUTOCHECKPOINT_PAGES, WalCheckpointer } from './walCheckpointer';

export interface TimerState {
  last: number;
  next: number;
  lastUpdated: number;
}

export class SqliteBackend implements Backend {
  private readonly db: Database.Database;
  private readonly stmts: Statements;
  private readonly group: GroupCommit;
  private readonly counters = { transactions: 0, msInTransactions: 0, instanceRowsRead: 0 };
  private checkpointer: WalCheckpointer | undefined;
  /** One wrapper for every transaction: better-sqlite3 turns nested calls into savepoints. */
  private txWrapper: ((fn: () => unknown) => unknown) | undefined;
  /** Instance listings prepared once per shape of query (a handful: one per combination of filters). */
  private readonly queryStatements = new Map<string, Database.Statement>();

  /** `file` ':memory:' keeps everything in memory (lost on exit, by request). */
  constructor(file: string, options: { readOnly?: boolean } = {}) {
    this.db = openDatabase(file, options.readOnly === true);
    try {
      this.stmts = prepareStatements(this.db);
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.group = new GroupCommit((fn) => this.transaction(fn));
  }

  /** A read-only connection (WAL lets it read while a host writes): for tools such as the replay check. */
  static openReadOnly(file: string): ReadOnlyBackend {
    return new SqliteBackend(file, { readOnly: true });
  }

  get stats(): BackendStats {
    return {
      ...this.counters,
      groupCommits: this.group.stats.commits,
      groupWrites: this.group.stats.writes,
    };
  }

  // ---------------------------------------------------------------- connection

  /**
   * For a long-running host: checkpoints move to a worker thread (see walCheckpointer.ts), and this
   * connection checkpoints only past a much larger log. One-off users of the store skip the thread.
   */
  checkpointInBackground(options: { restartPages?: number } = {}): void {
    if (this.checkpointer || this.db.memory) return;
    this.checkpointer = new WalCheckpointer(this.db.name, () => this.finishCheckpoint(), options);
    this.db.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);
  }

  /**
   * Copies the few log frames the background thread has not (it asks when the log should start
   * over): a message handler runs between transactions, and a busy checkpoint is simply skipped.
   */
  private finishCheckpoint(): void {
    if (this.db.inTransaction || !this.db.open) return;
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Not this time: the backstop still bounds the log.
    }
  }

  /** The log size (pages) past which this connection checkpoints by itself. */
  walAutocheckpointPages(): number {
    return this.db.pragma('wal_autocheckpoint', { simple: true }) as number;
  }

  /** Runs a pragma on this connection: for experiments (the bench's --pragma), not for the host. */
  pragma(text: string): unknown {
    return this.db.pragma(text);
  }

  /**
   * SQLite's quick_check: [] when the file is sound, else up to `max` descriptions of the damage.
   * It reads every page once, so it belongs at start, not on a request path.
   */
  integrityProblems(max = 3): string[] {
    const rows = this.db.pragma(`quick_check(${Math.max(1, Math.floor(max))})`) as { quick_check: string }[];
    return rows.map((r) => r.quick_check).filter((m) => m !== 'ok');
  }

  close(): void {
    // Its connection closed first, this (last) one checkpoints and removes the log as it closes.
    this.checkpointer?.stop();
    this.checkpointer = undefined;
    this.db.close();
  }

  /** Runs `fn` in a transaction (a savepoint when already inside one), counting outermost ones. */
  private transaction<T>(fn: () => T): T {
    this.txWrapper ??= this.db.transaction((f: () => unknown) => f());
    if (this.db.inTransaction) return this.txWrapper(fn) as T;
    const t = performance.now();
    try {
      return this.txWrapper(fn) as T;
    } finally {
      this.counters.transactions++;
      this.counters.msInTransactions += performance.now() - t;
    }
  }

  // ---------------------------------------------------------------- reads

  getInstance(instanceId: string): InstanceRow | undefined {
    const row = this.stmts.getInstance.get(instanceId) as InstanceDbRow | undefined;
    return row && toInstance(row);
  }

  history(instanceId: string): HistoryEvent[] {
    return this.historyTexts(instanceId).map((text) => JSON.parse(text) as HistoryEvent);
  }

  historyTexts(instanceId: string): string[] {
    return (this.stmts.history.all(instanceId) as { event: string }[]).map((r) => r.event);
  }

  historyLength(instanceId: string): number {
    return (this.stmts.historyCount.get(instanceId) as { n: number }).n;
  }

  /** The next history sequence number (the length, since seqs are dense); an index lookup, not a count. */
  private historyEnd(instanceId: string): number {
    const last = (this.stmts.historyEnd.get(instanceId) as { last: number | null }).last;
    return last === null ? 0 : last + 1;
  }

  pendingEvents(instanceId: string, now: number): InboxMessage[] {
    return (this.stmts.inbox.all(instanceId, now) as InboxDbRow[]).map(toInboxMessage);
  }

  nextDue(instanceId: string, now: number): number | undefined {
    return (this.stmts.nextDue.get(instanceId, now) as { due: number | null }).due ?? undefined;
  }

  pendingInboxes(): { instanceId: string; due: number }[] {
    return (this.stmts.inboxSummary.all() as { instance_id: string; due: number }[]).map((r) => ({
      instanceId: r.instance_id,
      due: r.due,
    }));
  }

  pendingActivityWork(): ActivityWork[] {
    return (this.stmts.allActivities.all() as ActivityDbRow[]).map(toActivityWork);
  }

  getEntity(entityId: string): EntityRow | undefined {
    const r = this.stmts.getEntity.get(entityId) as EntityDbRow | undefined;
    return r && toEntity(r);
  }

  /** Existing entities whose id is `@<name>@...` (name already lower-cased). */
  entitiesNamed(name: string): EntityRow[] {
    const prefix = `@${name}@`;
    return (this.stmts.entitiesNamed.all(prefix.length, prefix) as EntityDbRow[]).map(toEntity);
  }

  queryInstances(q: InstanceQuery): InstancePage {
    const { sql, args, limit } = instanceQuerySql(q);
    const rows = (this.prepared(sql).all(...args) as InstanceDbRow[]).map(toInstance);
    this.counters.instanceRowsRead += rows.length;
    if (rows.length <= limit) return { rows };
    rows.length = limit;
    const last = rows[rows.length - 1];
    return { rows, continuation: encodeContinuation(last.createdAt, last.instanceId, q.newestFirst) };
  }

  countInstances(q: Omit<InstanceQuery, 'top' | 'continuation' | 'newestFirst'>): number {
    const { sql, args } = instanceQuerySql(q, 'count');
    return this.prepared(sql)
      .pluck()
      .get(...args) as number;
  }

  private prepared(sql: string): Database.Statement {
    let statement = this.queryStatements.get(sql);
    if (!statement) {
      // Bounded: a status list of any length is a shape of its own.
      if (this.queryStatements.size >= 64) this.queryStatements.clear();
      statement = this.db.prepare(sql);
      this.queryStatements.set(sql, statement);
    }
    return statement;
  }

  getTimerState(name: string): TimerState | undefined {
    const r = this.stmts.getTimer.get(name) as
      { last: number; next: number; last_updated: number } | undefined;
    return r && { last: r.last, next: r.next, lastUpdated: r.last_updated };
  }

  setTimerState(name: string, s: TimerState): void {
    this.stmts.putTimer.run(name, s.last, s.next, s.lastUpdated);
  }

  /** The ETag of the blob version a blob-triggered function last ran for (its receipt). */
  getBlobReceipt(functionName: string, blob: string): string | undefined {
    const r = this.stmts.getBlobReceipt.get(functionName, blob) as { etag: string } | undefined;
    return r?.etag;
  }

  putBlobReceipt(functionName: string, blob: string, etag: string): void {
    this.stmts.putBlobReceipt.run(functionName, blob, etag);
  }

  // ---------------------------------------------------------------- instances and events

  createInstance(start: NewInstance): CreateResult {
    return this.transaction(() => this.createUnlessRunning(start));
  }

  createInstanceGrouped(start: NewInstance): Promise<CreateResult> {
    return this.group.commit(() => this.createUnlessRunning(start));
  }

  addEvents(messages: NewInboxMessage[]): void {
    if (messages.length === 1) this.addInbox(messages[0]);
    else this.transaction(() => messages.forEach((m) => this.addInbox(m)));
  }

  // ---------------------------------------------------------------- orchestration work

  takeOrchestrationWorkItem(
    instanceId: string,
    now: number,
    cached?: CachedInstance,
  ): OrchestrationWorkItem | undefined {
    let instance: InstanceRow | undefined;
    if (cached) {
      const r = this.stmts.executionAndHistoryEnd.get(instanceId) as
        { execution_id: string; last: number | null } | undefined;
      const historyEnd = r?.last === null || r?.last === undefined ? 0 : r.last + 1;
      if (r?.execution_id === cached.row.executionId && historyEnd === cached.historyLength)
        instance = cached.row;
    }
    const fromCache = instance !== undefined;
    instance ??= this.getInstance(instanceId);
    const newEvents = this.pendingEvents(instanceId, now);
    if (!instance) {
      this.stmts.deleteInboxFor.run(instanceId);
      return undefined;
    }
    return { instance, newEvents, fromCache };
  }

  abandonOrchestrationWorkItem(_item: OrchestrationWorkItem): void {
    // Nothing is leased here: the events stay in the inbox until a completion consumes them.
  }

  completeOrchestrationWorkItem(completion: OrchestrationCompletion): Promise<CompletionResult> {
    return this.group.commit(() => this.writeCompletion(completion));
  }

  completeOrchestrationWorkItemNow(completion: OrchestrationCompletion): CompletionResult {
    return this.transaction(() => this.writeCompletion(completion));
  }

  rewind(steps: RewindStep[]): ActivityWork[] {
    return this.transaction(() => {
      const work: ActivityWork[] = [];
      for (const step of steps) {
        const id = step.instance.instanceId;
        this.stmts.deleteHistory.run(id);
        this.appendHistory(id, 0, step.history);
        for (const w of step.activities) work.push(this.addActivity(w));
        for (const m of step.messages) this.addInbox(m);
        this.stmts.upsertInstance.run(step.instance);
      }
      return work;
    });
  }

  // ---------------------------------------------------------------- activity and entity work

  completeActivityWork(results: ActivityResult[]): Promise<void> {
    return this.group.commit(() => {
      for (const r of results) {
        this.stmts.deleteActivity.run(r.workId);
        this.addInbox(r.message);
      }
    });
  }

  completeEntityWorkItem(c: EntityCompletion): void {
    this.transaction(() => {
      for (const id of c.consumed) this.stmts.deleteInbox.run(id);
      const e = c.entity;
      this.stmts.putEntity.run(e.entityId, e.state, e.exists ? 1 : 0, e.locks);
      for (const m of c.messages) this.addInbox(m);
    });
  }

  // ---------------------------------------------------------------- housekeeping

  purge(instanceId: string): boolean {
    return this.transaction(() => this.purgeRows(instanceId));
  }

  purgeWhere(q: Omit<InstanceQuery, 'top' | 'continuation' | 'newestFirst'>): string[] {
    return this.transaction(() => {
      const purged: string[] = [];
      let continuation: string | undefined;
      do {
        const page = this.queryInstances({ ...q, continuation, top: 500 });
        for (const row of page.rows)
          if (isTerminal(row.status) && this.purgeRows(row.instanceId)) purged.push(row.instanceId);
        continuation = page.continuation;
      } while (continuation);
      return purged;
    });
  }

  // ---------------------------------------------------------------- writes (inside a transaction)

  private writeCompletion(c: OrchestrationCompletion): CompletionResult {
    const result: CompletionResult = {
      written: false,
      activities: [],
      childrenStarted: [],
      childrenRefused: [],
    };
    // Terminated or replaced while user code ran: this outcome no longer applies.
    if (this.stmts.executionIdOf.get(c.instanceId) !== c.executionId) return result;
    result.written = true;
    for (const id of c.consumed) this.stmts.deleteInbox.run(id);
    if ('replace' in c.history) {
      this.stmts.deleteHistory.run(c.instanceId);
      this.appendHistory(c.instanceId, 0, c.history.replace);
    } else {
      const start = c.history.storedLength ?? this.historyEnd(c.instanceId);
      this.appendHistory(c.instanceId, start, c.history.append);
    }
    if (c.clearInbox) this.stmts.deleteInboxFor.run(c.instanceId);
    this.stmts.upsertInstance.run(c.instance);
    for (const out of c.outgoing) {
      if (out.kind === 'message') this.addInbox(out.message);
      else if (out.kind === 'activity') result.activities.push(this.addActivity(out.work));
      else {
        const created = this.createUnlessRunning(out.child);
        if (created.created) result.childrenStarted.push(out.child.instance.instanceId);
        else {
          this.addInbox(out.refusal(created.existing.status));
          result.childrenRefused.push(out.child.instance.instanceId);
        }
      }
    }
    return result;
  }

  private createUnlessRunning(start: NewInstance): CreateResult {
    const { instance } = start;
    const existing = this.getInstance(instance.instanceId);
    if (existing && !isTerminal(existing.status)) return { created: false, existing };
    this.purgeRows(instance.instanceId);
    this.stmts.upsertInstance.run(instance);
    this.addInbox({
      instanceId: instance.instanceId,
      executionId: instance.executionId,
      event: start.started,
      visibleAt: instance.createdAt,
    });
    return { created: true };
  }

  private appendHistory(instanceId: string, startSeq: number, events: HistoryEvent[]): void {
    // Stored events are replayed as earlier episodes' events, so they are written as played.
    events.forEach((e, i) =>
      this.stmts.appendHistory.run(instanceId, startSeq + i, JSON.stringify({ ...e, IsPlayed: true })),
    );
  }

  private addInbox(msg: NewInboxMessage): void {
    this.stmts.addInbox.run(
      msg.instanceId,
      msg.executionId ?? null,
      JSON.stringify(msg.event),
      msg.visibleAt,
    );
  }

  private addActivity(work: NewActivityWork): ActivityWork {
    const info = this.stmts.addActivity.run(
      work.instanceId,
      work.executionId,
      work.taskId,
      work.name,
      work.input,
      work.kind,
    );
    return { ...work, id: Number(info.lastInsertRowid) };
  }

  private purgeRows(instanceId: string): boolean {
    this.stmts.deleteHistory.run(instanceId);
    this.stmts.deleteInboxFor.run(instanceId);
    this.stmts.deleteActivitiesFor.run(instanceId);
    return this.stmts.deleteInstance.run(instanceId).changes > 0;
  }
}
