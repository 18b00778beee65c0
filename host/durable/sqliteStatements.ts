/**
 * Every SQL statement of the SQLite backend, prepared once per connection, and the one query built
 * at run time (instance listing with filters and keyset paging). Statements only: when they run, and
 * in which transaction, is sqliteBackend.ts's business.
 */
import type Database from 'better-sqlite3';
import { InvalidContinuationError, type InstanceQuery } from './backend';

export type Statements = ReturnType<typeof prepareStatements>;

export function prepareStatements(db: Database.Database) {
  return {
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
    nextDue: db.prepare('SELECT MIN(visible_at) AS due FROM inbox WHERE instance_id = ? AND visible_at > ?'),
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
    getBlobReceipt: db.prepare('SELECT etag FROM blob_receipts WHERE function_name = ? AND blob = ?'),
    putBlobReceipt: db.prepare(`INSERT INTO blob_receipts (function_name, blob, etag) VALUES (?, ?, ?)
      ON CONFLICT(function_name, blob) DO UPDATE SET etag = excluded.etag`),
  };
}

/** The instance listing for a query (or its count): SQL text, its arguments and the page size. */
export function instanceQuerySql(
  q: InstanceQuery,
  select: 'rows' | 'count' = 'rows',
): { sql: string; args: (string | number)[]; limit: number } {
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
    // The range selects exactly the ids with the prefix, and lets the primary key find them
    // instead of reading every row (the bench polls a count of one run's instances).
    const upper = prefixUpperBound(q.instanceIdPrefix);
    where.push(upper === undefined ? 'instance_id >= ?' : 'instance_id >= ? AND instance_id < ?');
    args.push(q.instanceIdPrefix, ...(upper === undefined ? [] : [upper]));
    where.push('substr(instance_id, 1, ?) = ?');
    args.push(q.instanceIdPrefix.length, q.instanceIdPrefix);
  }
  // Keyset paging on (created_at, instance_id), which the instances_page index holds in order: a
  // page walks the index from the token's position and stops after `limit + 1` rows, and instances
  // added or purged meanwhile never shift a page.
  const newest = q.newestFirst === true;
  if (q.continuation) {
    const [created, id] = decodeContinuation(q.continuation, newest);
    const cmp = newest ? '<' : '>';
    where.push(`(created_at ${cmp} ? OR (created_at = ? AND instance_id ${cmp} ?))`);
    args.push(created, created, id);
  }
  where.push("instance_id NOT LIKE '@%'");
  if (select === 'count')
    return { sql: `SELECT COUNT(*) FROM instances WHERE ${where.join(' AND ')}`, args, limit: 0 };
  const limit = q.top && q.top > 0 ? q.top : 1000;
  const order = newest ? 'created_at DESC, instance_id DESC' : 'created_at, instance_id';
  const sql = `SELECT * FROM instances WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ?`;
  return { sql, args: [...args, limit + 1], limit };
}

/**
 * The least text above every text that starts with `prefix`: its last character, one code point on.
 * Texts compare as UTF-8 bytes, which order as code points do. Undefined when there is none.
 */
function prefixUpperBound(prefix: string): string | undefined {
  const chars = [...prefix];
  const last = chars.pop()?.codePointAt(0);
  if (last === undefined || last >= 0x10ffff || (last >= 0xd800 && last <= 0xdfff)) return undefined;
  // The next code point that is a character (surrogates are not).
  const next = last === 0xd7ff ? 0xe000 : last + 1;
  return chars.join('') + String.fromCodePoint(next);
}

/** A page's end, and its order: a token of one order is refused by the other. */
export function encodeContinuation(createdAt: number, instanceId: string, newestFirst = false): string {
  const position: (number | string)[] = [createdAt, instanceId];
  if (newestFirst) position.push('desc');
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

function decodeContinuation(token: string, newestFirst: boolean): [number, string] {
  try {
    const [created, id, order] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown[];
    if (typeof created !== 'number' || typeof id !== 'string') throw new Error('shape');
    if ((order === 'desc') !== newestFirst) throw new Error('order');
    return [created, id];
  } catch {
    throw new InvalidContinuationError('The continuation token is not one this host issued.');
  }
}
