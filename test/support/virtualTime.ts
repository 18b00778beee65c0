/**
 * Drives an instance on a host with `virtualTime: 'manual'`: whenever the host is idle with a durable
 * timer pending, the instance's custom status is read (nothing can change it until the clock moves)
 * and the clock jumps to the next timer, exactly as `--virtual-time` does on its own. So a test sees
 * every status a person would have seen between timers, not only the ones a poll happened to catch.
 */
import type { RunningHost } from '../../host/host';
import type { VirtualClock } from '../../host/clock';
import { getStatus, type Status } from './durable';

const FINAL = ['Completed', 'Failed', 'Terminated', 'Canceled'];

export interface Driven {
  final: Status;
  /** The custom status at each pause, oldest first, with the host's time then (epoch ms). */
  pauses: { at: number; customStatus: unknown }[];
}

export async function driveToEnd(host: RunningHost, instanceId: string, timeoutMs = 60_000): Promise<Driven> {
  const clock = host.clock as VirtualClock;
  const pauses: Driven['pauses'] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    // Idle with a timer pending: nothing runs until the clock moves, so this status holds until then.
    const paused = host.engine.isIdle() && host.engine.hasScheduledWakeups();
    const status = await getStatus(host, instanceId).catch(() => undefined);
    if (status && FINAL.includes(status.runtimeStatus)) return { final: status, pauses };
    if (status && paused) {
      pauses.push({ at: clock.now(), customStatus: status.customStatus });
      clock.skipToNext();
    } else {
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  throw new Error(`instance ${instanceId} did not finish in ${timeoutMs} ms (${pauses.length} pauses)`);
}
