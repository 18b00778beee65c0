/**
 * What the API answers about an orchestration instance: its status with the saga's phase and steps
 * lifted out of the custom status (see lib/saga/status.ts), a failure's error code, and listings
 * filtered by name and paged with an opaque continuation token. Pure: no I/O.
 */
import type { InstanceSummary, InstanceView } from '../contracts/responses';
import { readCode } from '../errors/codedError';
import type { SagaStatus } from '../saga/status';
import { ApiError } from './errors';

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

interface Cursor {
  c: string;
  i: string;
}

/** Newest first; the instance id breaks ties (created times have whole seconds). */
function before(a: Cursor, b: Cursor): boolean {
  return a.c !== b.c ? a.c > b.c : a.i > b.i;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c), 'utf8').toString('base64url');
}

function decodeCursor(token: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (typeof c.c === 'string' && typeof c.i === 'string') return { c: c.c, i: c.i };
  } catch {
    // answered below
  }
  throw ApiError.invalidInput([
    { field: 'continuationToken', message: 'is not a token this API handed out' },
  ]);
}

export interface Page<T> {
  items: T[];
  continuationToken?: string;
}

/**
 * One page of instances, newest first, after the instance a continuation token points at. The
 * token names a position (created time and id), so instances started meanwhile do not shift pages.
 */
export function pageOf(
  statuses: RawStatus[],
  options: { names?: string[]; top: number; continuationToken?: string },
): Page<InstanceSummary> {
  const after = options.continuationToken ? decodeCursor(options.continuationToken) : undefined;
  const sorted = statuses
    .filter((s) => !options.names?.length || options.names.includes(s.name))
    .map(instanceSummary)
    .sort((a, b) =>
      before({ c: a.createdTime, i: a.instanceId }, { c: b.createdTime, i: b.instanceId }) ? -1 : 1,
    )
    .filter((s) => !after || before(after, { c: s.createdTime, i: s.instanceId }));
  const items = sorted.slice(0, options.top);
  const last = items[items.length - 1];
  return sorted.length > options.top && last
    ? { items, continuationToken: encodeCursor({ c: last.createdTime, i: last.instanceId }) }
    : { items };
}
