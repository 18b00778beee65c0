/**
 * Scenario 3: the raw SQLite commit rate (better-sqlite3, WAL, synchronous=NORMAL, as the host's
 * store), on scratch databases of its own: the ceiling the engine's commits are held to. It never
 * touches the host's store.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { round } from '../measure';

export interface SqliteResult {
  singleInsertCommitsPerSec: number;
  episodeShapedCommitsPerSec: number;
  singleInsertFullSyncCommitsPerSec: number;
  transactions: number;
}

export function benchSqlite(dir: string): SqliteResult {
  const payload = JSON.stringify({
    EventType: 5,
    EventId: -1,
    IsPlayed: false,
    Timestamp: new Date().toISOString(),
    TaskScheduledId: 3,
    Result: '4',
  });
  const run = (
    file: string,
    synchronous: 'NORMAL' | 'FULL',
    n: number,
    shape: 'single' | 'episode',
  ): number => {
    const db = new Database(path.join(dir, file));
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, k TEXT NOT NULL, v TEXT NOT NULL);
      CREATE TABLE h (k TEXT NOT NULL, seq INTEGER NOT NULL, v TEXT NOT NULL, PRIMARY KEY (k, seq)) WITHOUT ROWID;
      CREATE TABLE s (k TEXT PRIMARY KEY, v TEXT NOT NULL);`);
    const ins = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    const del = db.prepare('DELETE FROM t WHERE id = ?');
    const hist = db.prepare('INSERT INTO h (k, seq, v) VALUES (?, ?, ?)');
    const up = db.prepare('INSERT INTO s (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v');
    const single = db.transaction((i: number) => ins.run(`i${i % 1000}`, payload));
    // Roughly what one orchestration episode commits: take a message, append 4 history rows,
    // update the instance row, add a work item.
    let lastId = 0;
    const episode = db.transaction((i: number) => {
      if (lastId) del.run(lastId);
      const key = `i${i % 1000}`;
      for (let j = 0; j < 4; j++) hist.run(key, i * 4 + j, payload);
      up.run(key, payload);
      lastId = Number(ins.run(key, payload).lastInsertRowid);
    });
    const tx = shape === 'single' ? single : episode;
    for (let i = 0; i < 200; i++) tx(i); // warm-up
    const t0 = performance.now();
    for (let i = 200; i < n + 200; i++) tx(i);
    const rate = n / ((performance.now() - t0) / 1000);
    db.close();
    return round(rate, 0);
  };
  const n = 20_000;
  return {
    transactions: n,
    singleInsertCommitsPerSec: run('normal.sqlite', 'NORMAL', n, 'single'),
    episodeShapedCommitsPerSec: run('episode.sqlite', 'NORMAL', n, 'episode'),
    singleInsertFullSyncCommitsPerSec: run('full.sqlite', 'FULL', 5_000, 'single'),
  };
}
