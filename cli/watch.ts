/**
 * The live progress view of `--wait`: polls GET /api/instances/{id} until the instance finishes and
 * shows the saga's phase and each step with its state. On a terminal it redraws the view in place;
 * otherwise (a pipe, a CI log) it prints one line per change (a step that waits for a service that
 * is down shows when its next attempt is). It answers the final view; what it did and the failure
 * are said once, by the caller. With `quiet` (for --json) it only polls.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { InstanceView, StepStatus } from '../lib/contracts/responses';
import { BlcError, type ApiClient } from './apiClient';
import { phaseText, stepState } from './format/instance';

/** An instance and its steps, as GET /api/instances/{id} answers (the app's own declaration). */
export type { InstanceView, StepStatus as StepView } from '../lib/contracts/responses';

const FINAL = ['Completed', 'Failed', 'Terminated', 'Canceled'];

export function isFinal(runtimeStatus: string): boolean {
  return FINAL.includes(runtimeStatus);
}

/** A step as the live view shows it: its state, and a wait for a service that is down. */
function liveState(step: StepStatus): string {
  return stepState(step, { live: true });
}

/** The failure of a finished instance that did not complete, as the error `blc` exits with. */
export function failureOf(view: InstanceView): BlcError | undefined {
  if (view.runtimeStatus === 'Completed') return undefined;
  if (view.runtimeStatus === 'Failed')
    return new BlcError(
      1,
      view.failure?.code ?? 'ORCHESTRATION_FAILED',
      `${view.name} '${view.instanceId}' failed: ${view.failure?.message ?? JSON.stringify(view.output)}`,
    );
  const reason = typeof view.output === 'string' && view.output ? `: ${view.output}` : '';
  return new BlcError(
    1,
    view.runtimeStatus.toUpperCase(),
    `${view.name} '${view.instanceId}' was ${view.runtimeStatus.toLowerCase()}${reason}`,
  );
}

function render(view: InstanceView): string[] {
  const head = `${view.name} ${view.instanceId}: ${view.runtimeStatus}${view.phase ? ` (phase ${phaseText(view)})` : ''}`;
  const steps = view.steps ?? [];
  const width = Math.max(0, ...steps.map((s) => s.name.length));
  return [head, ...steps.map((s) => `  ${s.name.padEnd(width)}  ${liveState(s)}`)];
}

/** The lines to print for what changed between two views (for logs and pipes). */
export function changes(before: InstanceView | undefined, now: InstanceView): string[] {
  const lines: string[] = [];
  if (before?.runtimeStatus !== now.runtimeStatus) lines.push(`status ${now.runtimeStatus}`);
  if (now.phase && before?.phase !== now.phase) lines.push(`phase ${phaseText(now)}`);
  const old = new Map((before?.steps ?? []).map((s) => [s.name, liveState(s)]));
  for (const step of now.steps ?? []) {
    const state = liveState(step);
    if (old.get(step.name) !== state) lines.push(`step ${step.name}: ${state}`);
  }
  return lines;
}

export interface WatchOptions {
  intervalMs?: number;
  /** Give up (exit 1, WAIT_TIMEOUT) after this long; default: wait as long as it runs. */
  timeoutMs?: number;
  /** Print nothing while waiting. */
  quiet?: boolean;
  out?: NodeJS.WriteStream;
}

/** Waits for the instance to finish, showing progress; returns its final view. */
export async function watch(
  client: ApiClient,
  id: string,
  options: WatchOptions = {},
): Promise<InstanceView> {
  const out = options.out ?? process.stdout;
  const tty = out.isTTY === true;
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  let previous: InstanceView | undefined;
  let drawn = 0;
  for (;;) {
    const view = (await client.get<InstanceView>(`instances/${encodeURIComponent(id)}`)).body;
    if (!options.quiet) {
      if (tty) {
        const lines = render(view);
        out.write(`${drawn ? `\x1b[${drawn}A\x1b[0J` : ''}${lines.join('\n')}\n`);
        drawn = lines.length;
      } else {
        for (const line of changes(previous, view)) out.write(`${line}\n`);
      }
    }
    previous = view;
    if (isFinal(view.runtimeStatus)) return view;
    if (Date.now() > deadline)
      throw new BlcError(1, 'WAIT_TIMEOUT', `'${id}' is still ${view.runtimeStatus}; stopped waiting`);
    await delay(options.intervalMs ?? 500);
  }
}
