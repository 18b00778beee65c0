/**
 * Scenario 4: what `durable-functions` costs alone (the reference the engine is held to): replaying a
 * completed instance's last episode, and a whole 5-step orchestration with a full replay per episode,
 * both through the host's worker shim with the engine's own trigger payload. No store writes, no
 * activities.
 */
import { performance } from 'node:perf_hooks';
import type { InstanceRow } from '../../host/durable/backend';
import type { HistoryEvent } from '../../host/durable/history';
import { orchestrationTriggerPayload } from '../../host/durable/triggerPayload';
import type { RunningHost } from '../../host/host';
import { fromTypedData, invokeFunction } from '../../host/worker/invoke';
import { round } from '../measure';

export interface ReplayResult {
  steps: number;
  historyEvents: number;
  replays: number;
  replaysPerSec: number;
  usPerReplay: number;
  eventsPerSec: number;
}

export interface LibraryOrchestrationsResult {
  episodes: number;
  orchestrations: number;
  orchestrationsPerSec: number;
  usPerOrchestration: number;
}

function recorded(host: RunningHost, instanceId: string): { instance: InstanceRow; stored: HistoryEvent[] } {
  const instance = host.engine.store.getInstance(instanceId);
  if (!instance) throw new Error(`no instance ${instanceId}`);
  return { instance, stored: host.engine.store.history(instanceId) };
}

function benchChainFunction(host: RunningHost): RunningHost['functions'][number] {
  const fn = host.functions.find((f) => f.name === 'benchChain');
  if (!fn) throw new Error('benchChain is not registered');
  return fn;
}

/** Runs `once` for at least `minMs` (and 5 times), after 20 warm-up runs; returns runs and elapsed ms. */
async function timed(once: () => Promise<unknown>, minMs: number): Promise<{ n: number; elapsed: number }> {
  for (let i = 0; i < 20; i++) await once();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs || n < 5) {
    await once();
    n++;
  }
  return { n, elapsed: performance.now() - t0 };
}

/**
 * Replays a completed instance's last episode through the worker shim, as the engine does: the
 * stored history minus the final OrchestratorCompleted/ExecutionCompleted pair. No store access.
 */
export async function benchReplay(
  host: RunningHost,
  instanceId: string,
  minMs: number,
): Promise<ReplayResult> {
  const { instance, stored } = recorded(host, instanceId);
  const history = stored.slice(0, stored.length - 2);
  const fn = benchChainFunction(host);
  const once = async (): Promise<unknown> => {
    const res = await invokeFunction(host.core, fn.fn, {
      inputData: [
        { name: fn.triggerKey, data: { string: orchestrationTriggerPayload(instance, [], history) } },
      ],
    });
    return fromTypedData(res.returnValue);
  };
  const first = (await once()) as { isDone?: boolean; output?: unknown } | undefined;
  if (!first?.isDone)
    throw new Error(`replay of ${instanceId} did not complete: ${JSON.stringify(first).slice(0, 300)}`);
  const { n, elapsed } = await timed(once, minMs);
  const perSec = n / (elapsed / 1000);
  const steps = (JSON.parse(instance.input ?? '{}') as { steps?: number }).steps ?? 0;
  return {
    steps,
    historyEvents: history.length,
    replays: n,
    replaysPerSec: round(perSec, 0),
    usPerReplay: round((elapsed * 1000) / n, 1),
    eventsPerSec: round(perSec * history.length, 0),
  };
}

/**
 * The library's own limit: a whole 5-step orchestration driven through the worker shim with a full
 * replay per episode (the history each episode would see, rebuilt from a completed instance), no
 * store, no activities. What the engine's end-to-end rate is held to.
 */
export async function benchLibraryOrchestrations(
  host: RunningHost,
  instanceId: string,
  minMs: number,
): Promise<LibraryOrchestrationsResult> {
  const { instance, stored } = recorded(host, instanceId);
  const fn = benchChainFunction(host);
  // Written by the host after the library answered; the library reads them only in later episodes.
  const HOST_WRITTEN = new Set([1, 4, 7, 10, 13, 14]);
  const episodes: string[] = [];
  for (let i = 0; i < stored.length; i++) {
    if (stored[i].EventType !== 12) continue;
    let end = i + 1;
    while (end < stored.length && !HOST_WRITTEN.has(stored[end].EventType)) end++;
    const history = [...stored.slice(0, i), ...stored.slice(i, end).map((e) => ({ ...e, IsPlayed: false }))];
    episodes.push(orchestrationTriggerPayload(instance, [], history));
  }
  const orchestration = async (): Promise<boolean> => {
    let done = false;
    for (const payload of episodes) {
      const res = await invokeFunction(host.core, fn.fn, {
        inputData: [{ name: fn.triggerKey, data: { string: payload } }],
      });
      done = (fromTypedData(res.returnValue) as { isDone?: boolean }).isDone === true;
    }
    return done;
  };
  if (!(await orchestration())) throw new Error('the rebuilt episodes did not complete the orchestration');
  const { n, elapsed } = await timed(orchestration, minMs);
  return {
    episodes: episodes.length,
    orchestrations: n,
    orchestrationsPerSec: round(n / (elapsed / 1000), 0),
    usPerOrchestration: round((elapsed * 1000) / n, 1),
  };
}
