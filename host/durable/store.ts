/**
 * Durable state in SQLite: instances, their history, the inbox of each orchestration or entity,
 * pending activity work, entity state and timer-trigger schedules. Every change an episode makes is
 * written in one transaction, which is what makes a `kill -9` at any moment safe. This module knows
 * storage only: it never runs user code and never decides what an orchestration does next.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type { HistoryEvent } from './history';
import { BACKSTOP_AUTOCHECKPOINT_PAGES, WalCheckpointer } from './walCheckpointer';

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
  /** Host bookkeeping (sequence ids, retries) as JSON; see orchestrationState.ts. */
  runtime: string | null;
}

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
  /** Opaque continuation token from a previous page. */
  continuation?: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS instances (
  instance_id TEXT PRIMARY KEY,
  execution_id TEXT NOT NULL,
  name TEXT NOT NULL,
  version TEXT,
  status TEXT NOT NULL,
  input TEXT,
  output TEXT,
  custom_status TEXT,
  parent_instance_id TEXT,
  parent_execution_id TEXT,
  parent_task_id INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  runtime TEXT
);
CREATE INDEX IF NOT EXISTS instances_created ON instances(created_at);
CREATE TABLE IF NOT EXISTS history (
  instance_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  event TEXT NOT NULL,
  PRIMARY KEY (instance_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS inbox (
  id INTEGER PRIMARY KEY,
  instance_id TEXT NOT NULL,
  execution_id TEXT,
  event TEXT NOT NULL,
  visible_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS inbox_instance ON inbox(instance_id, id);
CREATE TABLE IF NOT EXISTS activities (
  id INTEGER PRIMARY KEY,
  instance_id TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  task_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  input TEXT,
  kind TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entities (
  entity_id TEXT PRIMARY KEY,
  state TEXT,
  exists_ INTEGER NOT NULL,
  locks TEXT
);
CREATE TABLE IF NOT EXISTS timer_triggers (
  name TEXT PRIMARY KEY,
  last INTEGER NOT NULL,
  next INTEGER NOT NULL,
  last_updated INTEGER NOT NULL
);
`;

interface InstanceDbRow {
  instance_id: string;
  execution_id: string;
  name: string;
  version: string | null;
  status: RuntimeStatus;
  input: string | null;
  output: string | null;
  custom_status: string | null;
  parent_instance_id: string | null;
  parent_execution_id: string | null;
  parent_task_id: number | null;
  created_at: number;
  updated_at: number;
  runtime: string | null;
}

function toInstance(r: InstanceDbRow): InstanceRow {
  return {
    instanceId: r.instance_id,
    executionId: r.execution_id,
    name: r.name,
    version: r.version,
    status: r.status,
    input: r.input,
    output: r.output,
    customStatus: r.custom_status,
    parentInstanceId: r.parent_instance_id,
    parentExecutionId: r.parent_execution_id,
    parentTaskId: r.parent_task_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    runtime: r.runtime,
  };
}

export class Store {
  readonly db: Database.Database;
  private readonly stmts;

  /** `file` ':memory:' keeps everything in memory (lost on exit, by request). */
  constructor(file: string) {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    try {
      this.db.pragma('journal_mode = WAL');
      // NORMAL is durable across process crashes in WAL mode; only a power loss can drop the last commits.
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('busy_timeout = 5000');
      this.db.exec(SCHEMA);
    } catch (err) {
      // A file that is not a database fails here; the caller reports it, the handle must not leak.
      this.db.close();
      throw err;
    }
    const db = this.db;
    this.stmts = {
      getInstance: db.prepare('SELECT * FROM instances WHERE instance_id = ?'),
      executionIdOf: db.prepare('SELECT execution_id FROM instances WHERE instance_id = ?').pluck(),
      upsertInstance:
        db.prepare(`INSERT INTO instances (instance_id, execution_id, name, version, status, input, output,
          custom_status, parent_instance_id, parent_execution_id, parent_task_id, created_at, updated_at, runtime)
        VALUES (@instanceId, @executionId, @name, @version, @status, @input, @output, @customStatus, @parentInstanceId,
          @parentExecutionId, @parentTaskId, @createdAt, @updatedAt, @runtime)
        ON CONFLICT(instance_id) DO UPDATE SET execution_id = excluded.execution_id, name = excluded.name,
          version = excluded.version, status = excluded.status, input = excluded.input, output = excluded.output,
          custom_status = excluded.custom_status, parent_instance_id = excluded.parent_instance_id,
          parent_execution_id = excluded.parent_execution_id, parent_task_id = excluded.parent_task_id,
          created_at = excluded.created_at, updated_at = excluded.updated_at, runtime = excluded.runtime`),
      history: db.prepare('SELECT event FROM history WHERE instance_id = ? ORDER BY seq'),
      historyCount: db.prepare('SELECT COUNT(*) AS n FROM history WHERE instance_id = ?'),
      historyEnd: db.prepare('SELECT MAX(seq) AS last FROM history WHERE instance_id = ?'),
      executionAndHistoryEnd: db.prepare(
        `SELECT execution_id, (SELECT MAX(seq) FROM history WHERE history.instance_id = instances.instance_id) AS last
         FROM instances WHERE instance_id = ?`,
      ),
      appendHistory: db.prepare('INSERT INTO history (instance_id, seq, event) VALUES (?, ?, ?)'),
      deleteHistory: db.prepare('DELETE FROM history WHERE instance_id = ?'),
      inbox: db.prepare('SELECT * FROM inbox WHERE instance_id = ? AND visible_at <= ? ORDER BY id'),
      addInbox: db.prepare(
        'INSERT INTO inbox (instance_id, execution_id, event, visible_at) VALUES (?, ?, ?, ?)',
      ),
      deleteInbox: db.prepare('DELETE FROM inbox WHERE id = ?'),
      deleteInboxFor: db.prepare('DELETE FROM inbox WHERE instance_id = ?'),
      nextDue: db.prepare(
        'SELECT MIN(visible_at) AS due FROM inbox WHERE instance_id = ? AND visible_at > ?',
      ),
      inboxSummary: db.prepare('SELECT instance_id, MIN(visible_at) AS due FROM inbox GROUP BY instance_id'),
      addActivity: db.prepare(
        'INSERT INTO activities (instance_id, execution_id, task_id, name, input, kind) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      deleteActivity: db.prepare('DELETE FROM activities WHERE id = ?'),
      allActivities: db.prepare('SELECT * FROM activities ORDER BY id'),
      deleteActivitiesFor: db.prepare('DELETE FROM activities WHERE instance_id = ?'),
      getEntity: db.prepare('SELECT * FROM entities WHERE entity_id = ?'),
      entitiesNamed: db.prepare(
        'SELECT * FROM entities WHERE substr(entity_id, 1, ?) = ? AND exists_ = 1 ORDER BY entity_id',
      ),
      putEntity: db.prepare(`INSERT INTO entities (entity_id, state, exists_, locks) VALUES (?, ?, ?, ?)
        ON CONFLICT(entity_id) DO UPDATE SET state = excluded.state, exists_ = excluded.exists_, locks = excluded.locks`),
      deleteInstance: db.prepare('DELETE FROM instances WHERE instance_id = ?'),
      getTimer: db.prepare('SELECT * FROM timer_triggers WHERE name = ?'),
      putTimer: db.prepare(`INSERT INTO timer_triggers (name, last, next, last_updated) VALUES (?, ?, ?, ?)
        ON CONFLICT(name) DO UPDATE SET last = excluded.last, next = excluded.next, last_updated = excluded.last_updated`),
    };
  }

  private checkpointer: WalCheckpointer | undefined;

  /**
   * For a long-running host: checkpoints move to a worker thread (see walCheckpointer.ts), and this
   * connection checkpoints only past a much larger log. One-off users of the store skip the thread.
   */
  checkpointInBackground(): void {
    if (this.checkpointer || this.db.memory) return;
    this.checkpointer = new WalCheckpointer(this.db.name);
    this.db.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);
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

  /** One wrapper for every transaction: better-sqlite3 turns nested calls into savepoints. */
  private txWrapper: ((fn: () => unknown) => unknown) | undefined;

  /** Runs `fn` in a transaction (a savepoint when already inside one). */
  transaction<T>(fn: () => T): T {
    this.txWrapper ??= this.db.transaction((f: () => unknown) => f());
    return this.txWrapper(fn) as T;
  }

  getInstance(instanceId: string): InstanceRow | undefined {
    const row = this.stmts.getInstance.get(instanceId) as InstanceDbRow | undefined;
    return row && toInstance(row);
  }

  /** The instance's current execution id (undefined when it does not exist): a cheap "still mine?" check. */
  executionIdOf(instanceId: string): string | undefined {
    return this.stmts.executionIdOf.get(instanceId) as string | undefined;
  }

  putInstance(row: InstanceRow): void {
    this.stmts.upsertInstance.run(row);
  }

  history(instanceId: string): HistoryEvent[] {
    return (this.stmts.history.all(instanceId) as { event: string }[]).map(
      (r) => JSON.parse(r.event) as HistoryEvent,
    );
  }

  /** History as the stored JSON texts, for building a replay payload without re-encoding. */
  historyTexts(instanceId: string): string[] {
    return (this.stmts.history.all(instanceId) as { event: string }[]).map((r) => r.event);
  }

  historyLength(instanceId: string): number {
    return (this.stmts.historyCount.get(instanceId) as { n: number }).n;
  }

  /** The next history sequence number (the length, since seqs are dense); an index lookup, not a count. */
  historyEnd(instanceId: string): number {
    const last = (this.stmts.historyEnd.get(instanceId) as { last: number | null }).last;
    return last === null ? 0 : last + 1;
  }

  /** Execution id and history length in one lookup (whether a live orchestration is still current). */
  executionAndHistoryEnd(instanceId: string): { executionId: string; historyEnd: number } | undefined {
    const r = this.stmts.executionAndHistoryEnd.get(instanceId) as
      { execution_id: string; last: number | null } | undefined;
    return r && { executionId: r.execution_id, historyEnd: r.last === null ? 0 : r.last + 1 };
  }

  appendHistory(instanceId: string, startSeq: number, events: HistoryEvent[]): void {
    // Stored events are replayed as earlier episodes' events, so they are written as played.
    events.forEach((e, i) =>
      this.stmts.appendHistory.run(instanceId, startSeq + i, JSON.stringify({ ...e, IsPlayed: true })),
    );
  }

  replaceHistory(instanceId: string, events: HistoryEvent[]): void {
    this.stmts.deleteHistory.run(instanceId);
    this.appendHistory(instanceId, 0, events);
  }

  inbox(instanceId: string, now: number): InboxMessage[] {
    const rows = this.stmts.inbox.all(instanceId, now) as {
      id: number;
      instance_id: string;
      execution_id: string | null;
      event: string;
      visible_at: number;
    }[];
    return rows.map((r) => ({
      id: r.id,
      instanceId: r.instance_id,
      executionId: r.execution_id,
      event: JSON.parse(r.event) as HistoryEvent,
      visibleAt: r.visible_at,
    }));
  }

  addInbox(msg: NewInboxMessage): number {
    const info = this.stmts.addInbox.run(
      msg.instanceId,
      msg.executionId ?? null,
      JSON.stringify(msg.event),
      msg.visibleAt,
    );
    return Number(info.lastInsertRowid);
  }

  deleteInbox(ids: number[]): void {
    for (const id of ids) this.stmts.deleteInbox.run(id);
  }

  clearInbox(instanceId: string): void {
    this.stmts.deleteInboxFor.run(instanceId);
  }

  /** When the instance's earliest message that is not yet visible becomes visible. */
  nextDue(instanceId: string, now: number): number | undefined {
    return (this.stmts.nextDue.get(instanceId, now) as { due: number | null }).due ?? undefined;
  }

  /** Every instance with messages waiting, and when the earliest becomes visible (for recovery). */
  pendingInboxes(): { instanceId: string; due: number }[] {
    return (this.stmts.inboxSummary.all() as { instance_id: string; due: number }[]).map((r) => ({
      instanceId: r.instance_id,
      due: r.due,
    }));
  }

  addActivity(work: NewActivityWork): ActivityWork {
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

  deleteActivity(id: number): void {
    this.stmts.deleteActivity.run(id);
  }

  allActivities(): ActivityWork[] {
    return (
      this.stmts.allActivities.all() as {
        id: number;
        instance_id: string;
        execution_id: string;
        task_id: number;
        name: string;
        input: string | null;
        kind: string;
      }[]
    ).map((r) => ({
      id: r.id,
      instanceId: r.instance_id,
      executionId: r.execution_id,
      taskId: r.task_id,
      name: r.name,
      input: r.input,
      kind: r.kind,
    }));
  }

  getEntity(entityId: string): EntityRow | undefined {
    const r = this.stmts.getEntity.get(entityId) as
      { entity_id: string; state: string | null; exists_: number; locks: string | null } | undefined;
    return r && { entityId: r.entity_id, state: r.state, exists: r.exists_ === 1, locks: r.locks };
  }

  /** Existing entities whose id is `@<name>@...` (name already lower-cased). */
  entitiesNamed(name: string): EntityRow[] {
    const prefix = `@${name}@`;
    return (
      this.stmts.entitiesNamed.all(prefix.length, prefix) as {
        entity_id: string;
        state: string | null;
        exists_: number;
        locks: string | null;
      }[]
    ).map((r) => ({ entityId: r.entity_id, state: r.state, exists: r.exists_ === 1, locks: r.locks }));
  }

  putEntity(row: EntityRow): void {
    this.stmts.putEntity.run(row.entityId, row.state, row.exists ? 1 : 0, row.locks);
  }

  /** Removes an instance with its history, inbox and pending work. */
  purge(instanceId: string): boolean {
    this.stmts.deleteHistory.run(instanceId);
    this.stmts.deleteInboxFor.run(instanceId);
    this.stmts.deleteActivitiesFor.run(instanceId);
    return this.stmts.deleteInstance.run(instanceId).changes > 0;
  }

  queryInstances(q: InstanceQuery): { rows: InstanceRow[]; continuation?: string } {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.createdFrom !== undefined) {
      where.push('created_at >= ?');
      args.push(q.createdFrom);
    }
    if (q.createdTo !== undefined) {
      where.push('created_at <= ?');
      args.push(q.createdTo);
    }
    if (q.statuses?.length) {
      where.push(`status IN (${q.statuses.map(() => '?').join(',')})`);
      args.push(...q.statuses);
    }
    if (q.instanceIdPrefix) {
      where.push('substr(instance_id, 1, ?) = ?');
      args.push(q.instanceIdPrefix.length, q.instanceIdPrefix);
    }
    // Keyset paging on (created_at, instance_id): stable while instances are added or purged.
    if (q.continuation) {
      let created: number;
      let id: string;
      try {
        [created, id] = JSON.parse(Buffer.from(q.continuation, 'base64url').toString('utf8')) as [
          number,
          string,
        ];
        if (typeof created !== 'number' || typeof id !== 'string') throw new Error('shape');
      } catch {
        throw new InvalidContinuationError('The continuation token is not one this host issued.');
      }
      where.push('(created_at > ? OR (created_at = ? AND instance_id > ?))');
      args.push(created, created, id);
    }
    where.push("instance_id NOT LIKE '@%'");
    const limit = q.top && q.top > 0 ? q.top : 1000;
    const sql = `SELECT * FROM instances ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
      ORDER BY created_at, instance_id LIMIT ?`;
    const rows = (this.db.prepare(sql).all(...args, limit + 1) as InstanceDbRow[]).map(toInstance);
    let continuation: string | undefined;
    if (rows.length > limit) {
      rows.length = limit;
      const last = rows[rows.length - 1];
      continuation = Buffer.from(JSON.stringify([last.createdAt, last.instanceId])).toString('base64url');
    }
    return { rows, continuation };
  }

  getTimerState(name: string): { last: number; next: number; lastUpdated: number } | undefined {
    const r = this.stmts.getTimer.get(name) as
      { last: number; next: number; last_updated: number } | undefined;
    return r && { last: r.last, next: r.next, lastUpdated: r.last_updated };
  }

  setTimerState(name: string, s: { last: number; next: number; lastUpdated: number }): void {
    this.stmts.putTimer.run(name, s.last, s.next, s.lastUpdated);
  }
}

export class InvalidContinuationError extends Error {
  readonly code = 'INVALID_CONTINUATION_TOKEN';
}
