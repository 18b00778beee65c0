/**
 * Scenario 5: one 5-step orchestration at a time, started over HTTP (the Durable start webhook) on
 * an idle host; measured from just before the request to the commit that completed it (the
 * store's clock).
 */
import type { RunningHost } from '../../host/host';
import { percentile, takeSamples } from '../measure';
import { TARGETS } from '../options';

export interface IdleLatencyResult {
  runs: number;
  p50Ms: number;
  maxMs: number;
  minMs: number;
  target: number;
  met: boolean;
}

export async function benchIdleLatency(host: RunningHost, runs: number): Promise<IdleLatencyResult> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    await host.engine.whenIdle();
    await new Promise((r) => setTimeout(r, 20));
    const id = `idle-${i}`;
    const t0 = Date.now();
    const res = await fetch(
      `${host.url}/runtime/webhooks/durabletask/orchestrators/benchChain/${id}?code=${encodeURIComponent(host.systemKey)}`,
      { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ steps: 5 }) },
    );
    if (res.status !== 202) throw new Error(`start answered ${res.status}`);
    await res.arrayBuffer();
    for (;;) {
      const row = host.engine.store.getInstance(id);
      if (row?.status === 'Completed') {
        times.push(row.updatedAt - t0);
        break;
      }
      await new Promise((r) => setTimeout(r, 1));
    }
  }
  takeSamples('idle-');
  const p50 = percentile(times, 50);
  return {
    runs,
    p50Ms: p50,
    maxMs: Math.max(...times),
    minMs: Math.min(...times),
    target: TARGETS.idleStartToDoneMs,
    met: p50 < TARGETS.idleStartToDoneMs,
  };
}
