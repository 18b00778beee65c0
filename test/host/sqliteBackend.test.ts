import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newInstance } from '../../host/durable/instanceRecords';
import { SqliteBackend } from '../../host/durable/sqliteBackend';
import { openDatabase } from '../../host/durable/sqliteSchema';
import { encodeContinuation, instanceQuerySql } from '../../host/durable/sqliteStatements';
import { describeBackendContract } from './backendContract';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lc-sqlite-backend-'));
let files = 0;
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describeBackendContract('SQLite in memory', () => new SqliteBackend(':memory:'));
describeBackendContract('SQLite file', () => new SqliteBackend(path.join(dir, `contract-${files++}.sqlite`)));

describe('the SQLite backend opened read-only', () => {
  it('reads what a host connection has committed while that connection stays open', () => {
    const file = path.join(dir, 'shared.sqlite');
    const host = new SqliteBackend(file);
    host.createInstance(newInstance({ instanceId: 'a', name: 'flow', input: null, version: null, now: 1 }));
    const reader = SqliteBackend.openReadOnly(file);
    try {
      expect(reader.getInstance('a')?.name).toBe('flow');
      expect(reader.queryInstances({}).rows.map((r) => r.instanceId)).toEqual(['a']);
      host.createInstance(newInstance({ instanceId: 'b', name: 'flow', input: null, version: null, now: 2 }));
      expect(reader.countInstances({})).toBe(2);
    } finally {
      reader.close();
      host.close();
    }
  });

  it('refuses a database without the store tables, naming them, and creates nothing in it', () => {
    const file = path.join(dir, 'other.sqlite');
    const db = new Database(file);
    db.exec('CREATE TABLE instances (x); CREATE TABLE history (y);');
    db.close();
    expect(() => SqliteBackend.openReadOnly(file)).toThrow('it has no inbox, activities, entities tables');
    const check = new Database(file, { readonly: true });
    const tables = check.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
    check.close();
    expect(tables).toEqual(['instances', 'history']);
  });

  it('refuses a file that does not exist instead of creating it', () => {
    const file = path.join(dir, 'missing.sqlite');
    expect(() => SqliteBackend.openReadOnly(file)).toThrow();
    expect(fs.existsSync(file)).toBe(false);
  });
});

describe('instance listings by id prefix in SQLite', () => {
  const ids = [
    'a',
    'aa',
    'ab',
    'abc',
    'ab\u{10ffff}x',
    'ab\uffff',
    'ac',
    'b',
    'x\ud7fe',
    'x\ud7ff',
    'x\ud7ffz',
    'x\ue000',
  ];

  it('select exactly the ids that start with the prefix, at the edges of the range too', () => {
    const b = new SqliteBackend(':memory:');
    try {
      for (const [i, id] of ids.entries())
        b.createInstance(newInstance({ instanceId: id, name: 'flow', input: null, version: null, now: i }));
      for (const prefix of ['a', 'ab', 'abc', 'x\ud7ff', 'x', 'c', '\u{10ffff}']) {
        const expected = ids.filter((id) => id.startsWith(prefix));
        expect(b.queryInstances({ instanceIdPrefix: prefix }).rows.map((r) => r.instanceId)).toEqual(
          expected,
        );
        expect(b.countInstances({ instanceIdPrefix: prefix })).toBe(expected.length);
      }
    } finally {
      b.close();
    }
  });

  it('find the instances of a prefix through the primary key instead of reading every row', () => {
    const db = openDatabase(':memory:', false);
    try {
      const { sql, args } = instanceQuerySql(
        { instanceIdPrefix: 'run-1-', statuses: ['Completed'] },
        'count',
      );
      const plan = db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...args)
        .map((r) => (r as { detail: string }).detail);
      expect(plan.join('; ')).toMatch(/SEARCH instances USING .*\(instance_id>\? AND instance_id<\?\)/);
    } finally {
      db.close();
    }
  });
});

describe('instance listing pages in SQLite', () => {
  it('walk the paging index from the token and stop after a page, with no sort of every row', () => {
    const db = openDatabase(':memory:', false);
    try {
      const token = encodeContinuation(1, 'x', true);
      for (const q of [
        { top: 50, newestFirst: true },
        { top: 50, newestFirst: true, continuation: token, statuses: ['Running' as const] },
        { top: 50 },
      ]) {
        const { sql, args } = instanceQuerySql(q);
        const plan = db
          .prepare(`EXPLAIN QUERY PLAN ${sql}`)
          .all(...args)
          .map((r) => (r as { detail: string }).detail)
          .join('; ');
        expect(plan).toMatch(/instances USING INDEX instances_page/);
        expect(plan).not.toMatch(/TEMP B-TREE/);
        expect(sql).toMatch(/LIMIT \?$/);
        expect(args[args.length - 1]).toBe(51);
      }
    } finally {
      db.close();
    }
  });
});
