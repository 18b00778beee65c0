/**
 * What the API answers about an orchestration instance: its status with the saga's phase and steps
 * lifted out of the custom status (see lib/saga/status.ts), and a failure's error code. Pure: no I/O.
 */
import type { InstanceSummary, InstanceView } from '../contracts/responses';
import { readCode } from '../errors/codedError';
import type { SagaStatus } from '../saga/status';

export type { InstanceSummary, InstanceView } from '../contracts/responses';

/** A status as the durable client returns it (times as Date or ISO strings). */
export interface RawStatus {
  name: string;
  instanceId: string;
  runtimeStatus: string;
  createdTime: Date | string;
  lastUpdatedTime: Date | string;
  input?: unknown;
  output?: unknown;
  customStatus?: unknown;
  historyEvents?: Record<string, unknown>[];
}

const FINAL = ['Completed', 'Failed', 'Terminated', 'Canceled'];

export function isFinal(runtimeStatus: string): boolean {
  return FINAL.includes(runtimeStatus);
}

function iso(t: Date | string): string {
  return new Date(t).toISOString();
}

export function sagaStatusOf(customStatus: unknown): SagaStatus | undefined {
  const s = customStatus as Partial<SagaStatus> | null | undefined;
  return s && typeof s === 'object' && s.kind === 'saga' && Array.isArray(s.steps)
    ? (s as SagaStatus)
    : undefined;
}

/** A failure text's code and message (see lib/errors/codedError.ts). */
export const errorCodeOf = readCode;

export function instanceSummary(s: RawStatus): InstanceSummary {
  const saga = sagaStatusOf(s.customStatus);
  return {
    instanceId: s.instanceId,
    name: s.name,
    runtimeStatus: s.runtimeStatus,
    createdTime: iso(s.createdTime),
    lastUpdatedTime: iso(s.lastUpdatedTime),
    ...(saga ? { phase: saga.phase } : {}),
  };
}

export function instanceView(s: RawStatus): InstanceView {
  const saga = sagaStatusOf(s.customStatus);
  const view: InstanceView = {
    ...instanceSummary(s),
    input: s.input ?? null,
    output: s.output ?? null,
    customStatus: s.customStatus ?? null,
  };
  if (saga) view.steps = saga.steps;
  if (s.runtimeStatus === 'Failed') {
    const text = typeof s.output === 'string' ? s.output : JSON.stringify(s.output ?? null);
    view.failure = errorCodeOf(text);
  }
  if (s.historyEvents) view.history = s.historyEvents;
  return view;
}
