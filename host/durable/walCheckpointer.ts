/**
 * Copies the store's write-ahead log back into the database file from a worker thread, so the
 * host's own thread never does it. SQLite's automatic checkpoint runs inside whichever COMMIT
 * pushes the log past its limit (1,000 pages): copying those pages and syncing the database file
 * took ~7 ms every ~50 ms under the benchmark's load, and every activity waiting for that commit
 * waited with it; it was the largest cause of the step-delay tail. A PASSIVE checkpoint on a second
 * connection never blocks the writer, so the host's connection keeps only a much larger automatic
 * limit as a backstop (should this thread stop or fall behind) and its commits stay small.
 *
 * A PASSIVE checkpoint alone never lets the log start over under steady writes: SQLite rewinds the
 * log only when a write begins with every frame already copied, and a host that commits every few
 * hundred microseconds always adds frames while a checkpoint runs. The log then grew to the
 * backstop, whose checkpoint ran inside one of the host's commits and copied (and synced)
 * everything written since this thread's last pass: 3-7 ms, about three times a second under the
 * bench's paced load. So once the log is past `restartPages`, this thread catches up with further
 * passes and then asks the host's connection to copy the few frames left, between two of its own
 * transactions: the next commit then rewinds the log. (A FULL checkpoint here instead would hold
 * the write lock, and a host transaction that has already read gets SQLITE_BUSY at once rather
 * than waiting. The host's share still syncs both files: 1.2-3 ms here, more on a busy disk, so the
 * stalls are shorter than the backstop's but twice as frequent.)
 */
import { Worker } from 'node:worker_threads';

/** What the host's own connection still checkpoints by itself, in pages (~32 MB of log). */
export const BACKSTOP_AUTOCHECKPOINT_PAGES = 8000;

/** Log size (pages, ~16 MB) past which the log is made to start over (see above). */
export const RESTART_AFTER_PAGES = 4000;

/** The host is asked to finish only when at most this many frames are left (its share stays small). */
const HOST_FINISHES_PAGES = 32;

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
// PASSIVE: copies what no reader still needs, waits for nobody, never blocks the writer.
const passive = () => db.pragma('wal_checkpoint(PASSIVE)')[0];
const tick = () => {
  try {
    let state = passive();
    // Catch up with what was written during the last pass; the host copies what is left.
    for (let pass = 0; state.log >= workerData.restartPages && pass < 5; pass++) {
      // Even with all copied, the host may have written since: its pass has little or nothing to do.
      if (state.log - state.checkpointed <= workerData.hostFinishesPages) {
        parentPort.postMessage('copy the rest');
        break;
      }
      state = passive();
    }
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

  /** `finish` copies the frames left on the host's own connection, outside any of its transactions. */
  constructor(
    file: string,
    finish: () => void,
    options: { intervalMs?: number; idleIntervalMs?: number; restartPages?: number } = {},
  ) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        file,
        intervalMs: options.intervalMs ?? 25,
        idleIntervalMs: options.idleIntervalMs ?? 1000,
        restartPages: options.restartPages ?? RESTART_AFTER_PAGES,
        hostFinishesPages: HOST_FINISHES_PAGES,
        driver: require.resolve('better-sqlite3'),
        done: this.doneFlag.buffer,
      },
      // A small isolate: it only runs a pragma in a loop.
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
    });
    // A failed checkpointer only means the host's own connection checkpoints (the backstop).
    this.worker.on('error', () => undefined);
    this.worker.on('exit', () => (this.exited = true));
    this.worker.on('message', () => {
      if (!this.stopped) finish();
    });
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
