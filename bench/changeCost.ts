/**
 * Child process of `npm run bench -- --only=changeCost`: what one Dataverse change costs, atomic (one
 * $batch of reads, one changeset) against operation by operation (`atomic: false`), for a change of
 * 5 and of 50 operations (two in five create a record, the rest update one made for it). Per change,
 * one at a time on an idle host after the table metadata is cached: the Dataverse requests the
 * simulator received, the activities the orchestration dispatched, its episodes and its wall time
 * (start to completed), with the app's request pacing off. The Life Cockpit app on the local host
 * with the simulator (its own process) and Azurite, as saga.ts runs it. Prints one JSON line.
 * Arguments: --runs=N --dir=DATA_DIR.
 */
import { performance } from 'node:perf_hooks';
import { EventType } from '../host/durable/history';
import { arg, startAppWithSims } from './appWithSims';
import { percentile } from './measure';
import type { ChangeCostResult, ChangeCostRow } from './scenarios/changeCost';

const median = (values: number[]): number => percentile(values, 50);

async function main(): Promise<void> {
  const runs = Math.max(1, Number(arg('runs', '5')));
  const dataDir = arg('dir', '');
  // Unpaced, so wall time is the path's own: at the default budget the per-operation runs spend the
  // 500-request burst within this bench and then go at ~17 requests/s (see the report's note).
  const app = await startAppWithSims(dataDir, { DATAVERSE_REQUESTS_PER_5_MIN: '0' });
  const { host, sim, dataverse } = app;
  const store = host.engine.store;
  try {
    const inputFor = async (tag: string, operations: number, atomic: boolean): Promise<string> => {
      const ops: unknown[] = [];
      for (let k = 0; k < operations; k++) {
        if (k % 5 < 2) {
          ops.push({ op: 'create', table: 'contacts', data: { firstname: 'New', lastname: `${tag}-${k}` } });
          continue;
        }
        const res = await dataverse.create('contacts', { firstname: `F${k}`, lastname: `${tag}-${k}` });
        ops.push({
          op: 'update',
          table: 'contacts',
          id: String(res.id),
          data: { jobtitle: `Job ${tag} ${k}` },
        });
      }
      return JSON.stringify({ description: `bench ${tag}`, atomic, operations: ops });
    };
    const runOne = async (
      id: string,
      input: string,
    ): Promise<Omit<ChangeCostRow, 'operations' | 'atomic' | 'runs' | 'wallMs'> & { ms: number }> => {
      await host.engine.whenIdle();
      const before = await sim.requests();
      const t0 = performance.now();
      host.engine.startNew('dataverseChange', id, input);
      for (;;) {
        const row = store.getInstance(id);
        if (row && ['Completed', 'Failed', 'Terminated'].includes(row.status)) {
          if (row.status !== 'Completed') throw new Error(`change ${id} ${row.status}: ${row.output}`);
          break;
        }
        await new Promise((r) => setTimeout(r, 2));
      }
      const ms = performance.now() - t0;
      const dataverseRequests = (await sim.requests()) - before;
      const history = store.history(id) as { EventType: number }[];
      return {
        ms,
        dataverseRequests,
        activityDispatches: history.filter((e) => e.EventType === EventType.TaskScheduled).length,
        episodes: history.filter((e) => e.EventType === EventType.OrchestratorStarted).length,
      };
    };

    // Warm-up: the table metadata cached, the app's code paths loaded, for both paths.
    for (const atomic of [true, false])
      await runOne(`warm-${atomic}`, await inputFor(`warm${atomic}`, 5, atomic));

    const rows: ChangeCostRow[] = [];
    for (const operations of [5, 50]) {
      for (const atomic of [false, true]) {
        const measured = [];
        for (let i = 0; i < runs; i++) {
          const tag = `c${operations}-${atomic ? 'a' : 'p'}-${i}`;
          measured.push(await runOne(tag, await inputFor(tag, operations, atomic)));
        }
        const ms = measured.map((m) => m.ms);
        rows.push({
          operations,
          atomic,
          runs,
          // The same on every run (the change and the cache are alike): the median guards against a stray retry.
          dataverseRequests: median(measured.map((m) => m.dataverseRequests)),
          activityDispatches: median(measured.map((m) => m.activityDispatches)),
          episodes: median(measured.map((m) => m.episodes)),
          wallMs: {
            p50: Math.round(median(ms) * 10) / 10,
            min: Math.round(Math.min(...ms) * 10) / 10,
            max: Math.round(Math.max(...ms) * 10) / 10,
          },
        });
      }
    }
    process.stdout.write(JSON.stringify({ rows } satisfies ChangeCostResult) + '\n');
  } finally {
    await app.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
