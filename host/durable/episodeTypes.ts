/**
 * The vocabulary of a decided episode: the host's bookkeeping per execution (RuntimeState), the
 * orchestrator's answer (EpisodeResult), the work an episode starts (Effect) and its outcome.
 * Types and one constant only.
 */
import type { Action, HttpRequestAction, OrchestratorState } from './actions';
import type { FailureDetails, HistoryEvent } from './history';

export interface RetryInfo {
  action: Action;
  attempt: number;
  phase: 'attempt' | 'timer';
}

export interface HttpInfo {
  request: HttpRequestAction;
  phase: 'request' | 'timer';
  /** For a poll timer: the id the library reserved for the follow-up GET, and where to send it. */
  reservedId?: number;
  location?: string;
}

/** Host bookkeeping per execution, persisted with the instance. */
export interface RuntimeState {
  nextId: number;
  /** Signatures of the top-level actions already applied, in order. */
  applied: string[];
  retries: Record<number, RetryInfo>;
  http: Record<number, HttpInfo>;
  lock?: { requestId: string; entities: string[] };
  /** Ids of every attempt of a task with retry (rewind cannot re-run those faithfully). */
  retryAttempts?: number[];
}

export function newRuntimeState(): RuntimeState {
  return { nextId: 0, applied: [], retries: {}, http: {} };
}

export type Effect =
  | { kind: 'activity'; taskId: number; name: string; input: string | null }
  | { kind: 'http'; taskId: number; request: HttpRequestAction }
  | { kind: 'timer'; timerId: number; fireAt: number }
  | {
      kind: 'subOrchestration';
      taskId: number;
      name: string;
      instanceId: string;
      input: string | null;
      version?: string;
    }
  | { kind: 'entityMessage'; entityId: string; name: string; message: Record<string, unknown> };

export type EpisodeResult =
  | { ok: true; state: OrchestratorState }
  | {
      ok: false;
      message: string;
      failureDetails?: FailureDetails;
      /** The custom status the failing code had set, if the library reported it. */
      customStatus?: unknown;
    };

export interface EpisodeOutcome {
  append: HistoryEvent[];
  runtime: RuntimeState;
  effects: Effect[];
  /** JSON text of the new custom status; undefined leaves the stored one as it was. */
  customStatus: string | null | undefined;
  end?:
    | { status: 'Completed'; output: string }
    | { status: 'Failed'; output: string; failureDetails: FailureDetails }
    | { status: 'ContinuedAsNew'; input: string | null };
}

export const DEFAULT_HTTP_POLL_MS = 30_000;

export interface EpisodeContext {
  instanceId: string;
  executionId: string;
  orchestrationName: string;
  now: number;
  /** Sequence number of the first appended event. */
  runtime: RuntimeState;
  /** OrchestratorStarted + the new events, in the order they were replayed. */
  replayed: HistoryEvent[];
  /**
   * Leading actions already checked against the recorded ones in an earlier episode of the same
   * live library state (the very same objects, so checking them again cannot fail).
   */
  verifiedActions?: number;
}
