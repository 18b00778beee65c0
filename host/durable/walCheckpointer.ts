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
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const done = new Int32Array(workerData.done);
const db = new Database(workerData.file, { fileMustExist: true });
let timer;
let finished = false;
const finish = () => {
  if (finished) return;
  finished = true;
  clearTimeout(timer);
  try { db.close(); } catch {}
  Atomics.store(done, 0, 1);
  Atomics.notify(done, 0);
  parentPort.close();
};
parentPort.on('message', finish);
let interval = workerData.intervalMs;
let lastLog = -1;
const tick = () => {
  try {
    // PASSIVE: copies what no reader still needs, waits for nobody, never blocks the writer.
    const [state] = db.pragma('wal_checkpoint(PASSIVE)');
    // Nothing written since the last look: an idle host needs no checkpoint 40 times a second.
    const idle = state.log === lastLog && state.checkpointed === state.log;
    interval = idle ? Math.min(interval * 2, workerData.idleIntervalMs) : workerData.intervalMs;
    lastLog = state.log;
  } catch {}
  timer = setTimeout(tick, interval);
};
tick();
`;

export class WalCheckpointer {
  private readonly worker: Worker;
  private readonly doneFlag = new Int32Array(new SharedArrayBuffer(4));
  private stopped = false;
  private exited = false;

  constructor(file: string, intervalMs = 25, idleIntervalMs = 1000) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        file,
        intervalMs,
        idleIntervalMs,
        driver: require.resolve('better-sqlite3'),
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
    // A message, not a flag read on the next tick: an idle checkpointer may sleep for a second.
    this.worker.postMessage('stop');
    if (!this.exited) Atomics.wait(this.doneFlag, 0, 0, timeoutMs);
    void this.worker.terminate();
  }
}
