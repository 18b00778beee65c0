/**
 * What a host found left over from its last run when it started: the orchestrations that had not
 * finished (they carry on, since their work is in the store) and the ones suspended (they wait for
 * a resume). Counted from the store before the engine takes any work, and said in one line a person
 * reads at startup. It never changes the store.
 */
import type { ReadOnlyBackend } from './durable/backend';

export interface Recovered {
  /** Orchestrations pending, running or continuing as new at the last stop: the engine resumes them. */
  resumed: number;
  /** Orchestrations suspended at the last stop: they stay suspended until resumed. */
  suspended: number;
}

export function countRecovered(store: ReadOnlyBackend): Recovered {
  return {
    resumed: store.countInstances({ statuses: ['Pending', 'Running', 'ContinuedAsNew'] }),
    suspended: store.countInstances({ statuses: ['Suspended'] }),
  };
}

const orchestrations = (n: number): string => `${n} orchestration${n === 1 ? '' : 's'}`;

/** The startup line, or undefined when nothing was left over (a first start, or a clean one). */
export function recoveredLine(r: Recovered): string | undefined {
  if (r.resumed === 0 && r.suspended === 0) return undefined;
  const parts: string[] = [];
  if (r.resumed > 0) parts.push(`Resumed ${orchestrations(r.resumed)} left running at the last stop.`);
  if (r.suspended > 0)
    parts.push(
      `${r.resumed > 0 ? '' : 'No orchestration was left running; '}${orchestrations(r.suspended)} ${r.suspended === 1 ? 'stays' : 'stay'} suspended until resumed.`,
    );
  return parts.join(' ');
}
