/**
 * The orchestration trigger's wire format, both ways, as the Durable extension speaks it: the payload
 * the host hands the orchestrator function (history plus the extension's settings), and the state
 * the library attaches to an orchestrator's throw. The engine, the replay check and the bench all
 * build the payload here, so its constants cannot drift apart. Pure: no I/O, no user code.
 */
import type { OrchestratorState } from './actions';
import { DEFAULT_HTTP_POLL_MS } from './episode';
import type { HistoryEvent } from './history';

/** Schema the library is told the host supports by default; V4 (3) enables entity locks. */
export const DEFAULT_UPPER_SCHEMA_VERSION = 3;
/** SQLite has no message-visibility limit, so timers never need splitting into segments. */
const MAX_SHORT_TIMER = '3650.00:00:00';
const LONG_TIMER_INTERVAL = '3.00:00:00';
/** What precedes the orchestrator's state in the message of an error thrown by the library. */
const OUT_OF_PROC_MARKER = '$OutOfProcData$:';

export interface TriggerInstance {
  instanceId: string;
  /** The instance input as stored (JSON text), or null. */
  input: string | null;
  parentInstanceId: string | null;
}

export interface TriggerOptions {
  /** What `context.df.isReplaying` starts as (the library updates it while it replays). */
  isReplaying?: boolean;
  upperSchemaVersion?: number;
}

/**
 * The payload as text. `played` is stored history as the JSON texts it was written as (already
 * marked IsPlayed), so replaying a long history costs no parse or re-encode; `events` follow it.
 */
export function orchestrationTriggerPayload(
  instance: TriggerInstance,
  played: readonly string[],
  events: readonly HistoryEvent[],
  options: TriggerOptions = {},
): string {
  const fields = {
    input: instance.input === null ? null : parseOrText(instance.input),
    instanceId: instance.instanceId,
    isReplaying: options.isReplaying ?? false,
    parentInstanceId: instance.parentInstanceId,
    upperSchemaVersion: 1,
    upperSchemaVersionNew: options.upperSchemaVersion ?? DEFAULT_UPPER_SCHEMA_VERSION,
    longRunningTimerIntervalDuration: LONG_TIMER_INTERVAL,
    maximumShortTimerDuration: MAX_SHORT_TIMER,
    defaultHttpAsyncRequestSleepTimeMillseconds: DEFAULT_HTTP_POLL_MS,
  };
  // One stringify of the array is much cheaper than one per event (it matters for long histories).
  const history: string[] = [];
  if (played.length) history.push(played.join(','));
  if (events.length) history.push(JSON.stringify(events).slice(1, -1));
  return `{"history":[${history.join(',')}],${JSON.stringify(fields).slice(1)}`;
}

/**
 * What the library reports with an orchestrator's throw: its state (actions so far, failure
 * details, custom status) after a marker in the message. Undefined when the throw carries none.
 */
export function stateOfThrow(err: unknown): { state: OrchestratorState; message: string } | undefined {
  const text = err instanceof Error ? err.message : String(err);
  const marker = text.indexOf(OUT_OF_PROC_MARKER);
  if (marker < 0) return undefined;
  try {
    const state = JSON.parse(text.slice(marker + OUT_OF_PROC_MARKER.length)) as OrchestratorState;
    return { state, message: text.slice(0, marker).trim() };
  } catch {
    return undefined;
  }
}

/** JSON text parsed, or the text itself when it is not JSON. */
export function parseOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
