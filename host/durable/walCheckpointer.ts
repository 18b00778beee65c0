/**
 * Copies the store's write-ahead log back into the database file from a worker thread, so the
 * host's own thread never does it. SQLite's automatic checkpoint runs inside whichever COMMIT
 * pushes the log past its limit (1,000 pages): copying those pages and syncing the database file
 * took ~7 ms every ~50 ms under the benchmark's load, and every activity waiting for that commit
 * waited with it; it was the largest cause of the step-delay tail. A PASSIVE checkpoint on a second
 * connection never blocks the writer, so the host's connection keeps only a much larger automatic
 * limit as a backstop (should this thread stop or fall behind) and its commits stay small.
 */
import { Worker } from 'node:worker_threads';

/** What the host's own connection still checkpoints by itself, in pages (~32 MB of log). */
export const BACKSTOP_AUTOCHECKPOINT_PAGES = 8000;

// Plain JavaScript run by the worker (eval), so it works alike from dist/ and from the TS sources.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const done = new Int32Array(workerData.done);
const db = new Database(workerData.file, { fileMustExist: true });
let timer;
const finish = () => {
  clearTimeout(timer);
  try { db.close(); } catch {}
  Atomics.store(done, 0, 1);
  Atomics.notify(done, 0);
};
const stop = new Int32Array(workerData.stop);
const tick = () => {
  if (Atomics.load(stop, 0) === 1) return finish();
  try {
    // PASSIVE: copies what no reader still needs, waits for nobody, never blocks the writer.
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {}
  timer = setTimeout(tick, workerData.intervalMs);
};
tick();
`;

export class WalCheckpointer {
  private readonly worker: Worker;
  private readonly stopFlag = new Int32Array(new SharedArrayBuffer(4));
  private readonly doneFlag = new Int32Array(new SharedArrayBuffer(4));
  private stopped = false;
  private exited = false;

  constructor(file: string, intervalMs = 25) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        file,
        intervalMs,
        driver: require.resolve('better-sqlite3'),
        stop: this.stopFlag.buffer,
        done: this.doneFlag.buffer,
      },
      // A small isolate: it only runs a pragma in a loop.
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
    });
    // A failed checkpointer only means the host's own connection checkpoints (the backstop).
    this.worker.on('error', () => undefined);
    this.worker.on('exit', () => (this.exited = true));
    this.worker.unref();
  }

  /** Stops the thread and waits (bounded) until its connection is closed, so the last close can clean up. */
  stop(timeoutMs = 2000): void {
    if (this.stopped) return;
    this.stopped = true;
    Atomics.store(this.stopFlag, 0, 1);
    if (!this.exited) Atomics.wait(this.doneFlag, 0, 0, timeoutMs);
    void this.worker.terminate();
  }
}
