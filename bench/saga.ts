/**
 * Child process of `npm run bench`: Dataverse change sagas against the Dataverse simulator and
 * Azurite (started here, in memory, as `blc up` starts them), on the Life Cockpit app itself.
 * Each saga has 5 operations (2 creates, 3 updates of records made for it), so it plans, snapshots
 * to Blob storage, applies with If-Match and records a rollback point. Reports sagas per second
 * with all started at once, and latency (created -> completed) per saga, then one saga alone on
 * an idle host. Prints one JSON line. Arguments: --sagas=N --dir=DATA_DIR.
 * The simulator runs in a process of its own (simProcess.ts), as Dataverse is another machine: its
 * work must not be counted as the host's.
 */
import { performance } from 'node:perf_hooks';
import { arg, startAppWithSims } from './appWithSims';
import { percentile } from './measure';

async function main(): Promise<void> {
  const sagas = Number(arg('sagas', '100'));
  const dataDir = arg('dir', '');
  const app = await startAppWithSims(dataDir);
  const { host, dataverse } = app;
  try {
    const inputFor = async (tag: string): Promise<string> => {
      const ids: string[] = [];
      for (let k = 0; k < 3; k++) {
        const res = await dataverse.create('contacts', { firstname: `F${k}`, lastname: `${tag}-${k}` });
        ids.push(String(res.id));
      }
      return JSON.stringify({
        description: `bench ${tag}`,
        operations: [
          { op: 'create', table: 'contacts', data: { firstname: 'New', lastname: `${tag}-a` } },
          { op: 'create', table: 'contacts', data: { firstname: 'New', lastname: `${tag}-b` } },
          ...ids.map((id, k) => ({
            op: 'update',
            table: 'contacts',
            id,
            data: { jobtitle: `Job ${tag} ${k}` },
          })),
        ],
      });
    };
    const store = host.engine.store;
    const waitAll = async (ids: string[]): Promise<{ latencies: number[]; last: number }> => {
      const latencies: number[] = [];
      let last = 0;
      const pending = new Set(ids);
      const deadline = Date.now() + 180_000;
      while (pending.size > 0) {
        if (Date.now() > deadline) throw new Error(`${pending.size} sagas unfinished`);
        for (const id of [...pending]) {
          const row = store.getInstance(id);
          if (!row || !['Completed', 'Failed', 'Terminated'].includes(row.status)) continue;
          if (row.status !== 'Completed') throw new Error(`saga ${id} ${row.status}: ${row.output}`);
          pending.delete(id);
          latencies.push(row.updatedAt - row.createdAt);
          last = Math.max(last, row.updatedAt);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      return { latencies, last };
    };

    // Warm-up, then one saga alone on an idle host.
    const warm = ['warm-0', 'warm-1'];
    for (const id of warm) host.engine.startNew('dataverseChange', id, await inputFor(id));
    await waitAll(warm);
    const aloneInput = await inputFor('alone');
    await host.engine.whenIdle();
    host.engine.startNew('dataverseChange', 'alone', aloneInput);
    const alone = await waitAll(['alone']);

    const inputs: string[] = [];
    for (let i = 0; i < sagas; i++) inputs.push(await inputFor(`s${i}`));
    await host.engine.whenIdle();
    const ids = inputs.map((_, i) => `saga-${i}`);
    const t0 = Date.now();
    const p0 = performance.now();
    ids.forEach((id, i) => host.engine.startNew('dataverseChange', id, inputs[i]));
    const burst = await waitAll(ids);
    const seconds = Math.max(1, burst.last - t0) / 1000;
    const split = whereTimeGoes(store, ids);
    const result = {
      sagas,
      operationsEach: 5,
      sagasPerSec: Math.round((sagas / seconds) * 10) / 10,
      totalMs: Math.round(performance.now() - p0),
      latencyMs: {
        p50: percentile(burst.latencies, 50),
        p99: percentile(burst.latencies, 99),
        max: Math.max(...burst.latencies),
      },
      aloneMs: alone.latencies[0],
      // Activity: TaskScheduled -> TaskCompleted (the app's work, its I/O and the activity queue);
      // engine: TaskCompleted -> the next episode's start (what the orchestrator adds per step).
      activityMs: split.activity,
      engineStepMs: split.engine,
      historyEventsPerSaga: store.historyLength('saga-0'),
    };
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    await app.close();
  }
}

/** Per step of every saga: how long the activity took, and how long the engine took to react. */
function whereTimeGoes(
  store: {
    history(
      id: string,
    ): { EventType: number; Timestamp: string; EventId: number; TaskScheduledId?: number }[];
  },
  ids: string[],
): { activity: { p50: number; p99: number }; engine: { p50: number; p99: number } } {
  const activity: number[] = [];
  const engine: number[] = [];
  for (const id of ids) {
    const history = store.history(id);
    const scheduledAt = new Map<number, number>();
    for (let i = 0; i < history.length; i++) {
      const e = history[i];
      const t = Date.parse(e.Timestamp);
      if (e.EventType === 4) scheduledAt.set(e.EventId, t);
      if (e.EventType === 5 && e.TaskScheduledId !== undefined) {
        const s = scheduledAt.get(e.TaskScheduledId);
        if (s !== undefined) activity.push(t - s);
        // The episode that read this completion starts with the OrchestratorStarted before it.
        let j = i;
        while (j >= 0 && history[j].EventType !== 12) j--;
        if (j >= 0) engine.push(Math.max(0, Date.parse(history[j].Timestamp) - t));
      }
    }
  }
  const stat = (xs: number[]): { p50: number; p99: number } => ({
    p50: percentile(xs, 50),
    p99: percentile(xs, 99),
  });
  return { activity: stat(activity), engine: stat(engine) };
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
