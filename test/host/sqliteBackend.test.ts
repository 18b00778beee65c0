import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newInstance } from '../../host/durable/instanceRecords';
import { SqliteBackend } from '../../host/durable/sqliteBackend';
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
