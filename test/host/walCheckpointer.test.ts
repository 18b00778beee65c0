/**
 * The store's background checkpoints: with the host's own connection checkpointing only past a
 * large log, committed rows must still reach the database file itself (the worker thread copies
 * them), and closing the store must leave no log behind.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newInstance } from '../../host/durable/instanceRecords';
import { SqliteBackend } from '../../host/durable/sqliteBackend';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lc-wal-'));
  dirs.push(dir);
  return path.join(dir, 'durable.sqlite');
}

/**
 * Instances found in the database file alone, as if the log were lost (a copy without it); 0 while
 * the file does not have the table yet (or was copied halfway through a checkpoint).
 */
function instancesInMainFile(file: string): number {
  const copy = `${file}.copy`;
  fs.copyFileSync(file, copy);
  const db = new Database(copy, { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM instances').get() as { n: number }).n;
  } catch {
    return 0;
  } finally {
    db.close();
    fs.rmSync(copy, { force: true });
  }
}

/** How many times the log has started over: the checkpoint sequence number in its header. */
function logRestarts(file: string): number {
  const header = Buffer.alloc(16);
  const fd = fs.openSync(`${file}-wal`, 'r');
  try {
    fs.readSync(fd, header, 0, 16, 0);
  } finally {
    fs.closeSync(fd);
  }
  return header.readUInt32BE(12);
}

function putInstances(store: SqliteBackend, count: number): void {
  for (let i = 0; i < count; i++)
    store.createInstance(newInstance({ instanceId: `i${i}`, name: 'n', input: null, version: null, now: 0 }));
}

describe('background WAL checkpoints', () => {
  it('copy committed rows into the database file without the host connection checkpointing', async () => {
    const file = tempFile();
    const store = new SqliteBackend(file);
    store.checkpointInBackground();
    expect(store.walAutocheckpointPages()).toBeGreaterThan(1000);
    putInstances(store, 50);
    expect(fs.statSync(`${file}-wal`).size).toBeGreaterThan(0);
    let found = 0;
    for (let i = 0; i < 200 && found < 50; i++) {
      await new Promise((r) => setTimeout(r, 25));
      found = instancesInMainFile(file);
    }
    expect(found).toBe(50);
    store.close();
  });

  it('leave no log behind once the store is closed', () => {
    const file = tempFile();
    const store = new SqliteBackend(file);
    store.checkpointInBackground();
    putInstances(store, 10);
    store.close();
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
    expect(instancesInMainFile(file)).toBe(10);
  });

  it('let the log start over while the host keeps committing, long before the backstop', async () => {
    const file = tempFile();
    const store = new SqliteBackend(file);
    // A low threshold so that a few MB of writes show it; the host's is ~8 MB.
    store.checkpointInBackground({ restartPages: 100 });
    const input = JSON.stringify('x'.repeat(4000));
    // Commits back to back, yielding only a turn of the event loop now and then (as a busy host
    // does): a PASSIVE checkpoint alone seldom catches up with these.
    let written = 0;
    for (let i = 0; written < 24 * 1024 * 1024; i++) {
      store.createInstance(newInstance({ instanceId: `i${i}`, name: 'n', input, version: null, now: 0 }));
      written += input.length;
      if (i % 20 === 19) await new Promise((r) => setImmediate(r));
    }
    // Without the host finishing, it started over 1-6 times here (at the backstop, or when a pass
    // happened to catch up on a loaded machine); with it, 30-50 times.
    expect(logRestarts(file)).toBeGreaterThanOrEqual(15);
    store.close();
  });

  it('are not started for an in-memory store', () => {
    const store = new SqliteBackend(':memory:');
    store.checkpointInBackground();
    expect(store.walAutocheckpointPages()).toBe(1000);
    store.close();
  });
});
