/**
 * Child process of `npm run bench` (run with --expose-gc): RSS of a host holding many instances
 * that wait for an external event. Starts them, waits until every one has run its first episode and
 * the engine is idle, collects garbage, measures, then wakes a sample of them to show they still
 * work. Prints one JSON line. Arguments: --count=N --dir=DATA_DIR --app=APP_DIR.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startHost } from '../host/host';

function arg(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}

async function main(): Promise<void> {
  const count = Number(arg('count', '10000'));
  const dataDir = arg('dir', '');
  const appDir = arg('app', path.resolve(__dirname, '..', '..', 'bench', 'app'));
  const host = await startHost({ appDir, port: 0, dataDir, quiet: true });
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) host.engine.startNew('benchWaiter', `wait-${i}`, null);
  const count$ = (status: 'Running' | 'Completed'): number =>
    host.engine.store.countInstances({ statuses: [status], instanceIdPrefix: 'wait-' });
  for (;;) {
    await host.engine.whenIdle();
    if (count$('Running') >= count) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const startMs = performance.now() - t0;
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 50));
  }
  const m = process.memoryUsage();
  // The waiting ones still work: wake a sample (some live, most replayed from the store).
  const sample = Math.min(100, count);
  for (let i = 0; i < sample; i++)
    host.engine.raiseEvent(`wait-${Math.floor((i * count) / sample)}`, 'go', String(i));
  while (count$('Completed') < sample) await new Promise((r) => setTimeout(r, 20));
  const result = {
    instances: count,
    startAndSettleMs: Math.round(startMs),
    rssMB: Math.round((m.rss / 1048576) * 10) / 10,
    heapUsedMB: Math.round((m.heapUsed / 1048576) * 10) / 10,
    rssBeforeMB: Math.round((rssBefore / 1048576) * 10) / 10,
    liveSessions: host.engine.liveSessions.size,
    gcExposed: gc !== undefined,
    wokenAndCompleted: sample,
  };
  await host.close();
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
