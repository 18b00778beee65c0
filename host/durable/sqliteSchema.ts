/**
 * The SQLite backend's schema and its rows: instances, their history (instance + sequence number),
 * the inbox of each orchestration or entity, pending activity work, entity state, timer-trigger
 * schedules and blob-trigger receipts, and opening a file with it. Only the SQLite backend uses it; nothing else knows a
 * table or column name.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type { HistoryEvent } from './history';
import type { ActivityWork, EntityRow, InboxMessage, InstanceRow, RuntimeStatus } from './backend';

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
DROP INDEX IF EXISTS instances_created;
CREATE INDEX IF NOT EXISTS instances_page ON instances(created_at, instance_id);
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
CREATE TABLE IF NOT EXISTS blob_receipts (
  function_name TEXT NOT NULL,
  blob TEXT NOT NULL,
  etag TEXT NOT NULL,
  PRIMARY KEY (function_name, blob)
) WITHOUT ROWID;
`;

/** Tables a file must have to be read as a durable store. */
const REQUIRED_TABLES = ['instances', 'history', 'inbox', 'activities', 'entities'];

/**
 * Opens the store file: read-write in WAL mode with the schema applied, or read-only (WAL lets it
 * read while a host writes) after checking it has the tables. A file that is not a database fails
 * here; the caller reports it, and the handle does not leak.
 */
export function openDatabase(file: string, readOnly: boolean): Database.Database {
  if (!readOnly && file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = readOnly ? new Database(file, { readonly: true, fileMustExist: true }) : new Database(file);
  try {
    if (readOnly) {
      db.pragma('busy_timeout = 5000');
      const names = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .pluck()
        .all() as string[];
      const missing = REQUIRED_TABLES.filter((t) => !names.includes(t));
      if (missing.length)
        throw new Error(`it has no ${missing.join(', ')} table${missing.length > 1 ? 's' : ''}`);
    } else {
      db.pragma('journal_mode = WAL');
      // NORMAL is durable across process crashes in WAL mode; only a power loss can drop the last commits.
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      db.exec(SCHEMA);
    }
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

export interface InstanceDbRow {
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

export function toInstance(r: InstanceDbRow): InstanceRow {
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

export interface InboxDbRow {
  id: number;
  instance_id: string;
  execution_id: string | null;
  event: string;
  visible_at: number;
}

export function toInboxMessage(r: InboxDbRow): InboxMessage {
  return {
    id: r.id,
    instanceId: r.instance_id,
    executionId: r.execution_id,
    event: JSON.parse(r.event) as HistoryEvent,
    visibleAt: r.visible_at,
  };
}

export interface ActivityDbRow {
  id: number;
  instance_id: string;
  execution_id: string;
  task_id: number;
  name: string;
  input: string | null;
  kind: string;
}

export function toActivityWork(r: ActivityDbRow): ActivityWork {
  return {
    id: r.id,
    instanceId: r.instance_id,
    executionId: r.execution_id,
    taskId: r.task_id,
    name: r.name,
    input: r.input,
    kind: r.kind,
  };
}

export interface EntityDbRow {
  entity_id: string;
  state: string | null;
  exists_: number;
  locks: string | null;
}

export function toEntity(r: EntityDbRow): EntityRow {
  return { entityId: r.entity_id, state: r.state, exists: r.exists_ === 1, locks: r.locks };
}
