/**
 * The JSON the Durable extension answers with for an instance's status and history, built from the
 * store's rows. Shapes and names follow the extension's HTTP API so `DurableClient` and existing
 * scripts read them unchanged.
 */
import { EventType, HistoryEvent, scheduledById } from './history';
import type { InstanceRow } from './backend';

/** The extension prints times as yyyy-MM-ddTHH:mm:ssZ (no fractions). */
export function statusTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface StatusOptions {
  showInput?: boolean;
  showHistory?: boolean;
  showHistoryOutput?: boolean;
}

export function statusJson(
  row: InstanceRow,
  history: HistoryEvent[] | undefined,
  options: StatusOptions = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: row.name,
    instanceId: row.instanceId,
    runtimeStatus: row.status,
    input: options.showInput === false ? null : parseJson(row.input),
    customStatus: parseJson(row.customStatus),
    output: parseJson(row.output),
    createdTime: statusTime(row.createdAt),
    lastUpdatedTime: statusTime(row.updatedAt),
  };
  if (options.showHistory && history) out.historyEvents = historyJson(history, options);
  return out;
}

export function historyJson(history: HistoryEvent[], options: StatusOptions): Record<string, unknown>[] {
  const scheduled = scheduledById(history);
  const out: Record<string, unknown>[] = [];
  for (const e of history) {
    switch (e.EventType) {
      case EventType.OrchestratorStarted:
      case EventType.OrchestratorCompleted:
      case EventType.TaskScheduled:
      case EventType.SubOrchestrationInstanceCreated:
        continue;
    }
    const item: Record<string, unknown> = { EventType: EventType[e.EventType], Timestamp: e.Timestamp };
    if (e.EventType === EventType.ExecutionStarted) {
      item.FunctionName = e.Name;
      if (options.showInput) item.Input = parseJson(e.Input ?? null);
      out.push(item);
      continue;
    }
    const source = scheduled.get(e.TaskScheduledId ?? -2);
    if (source) {
      item.FunctionName = source.Name;
      item.ScheduledTime = source.Timestamp;
      if (source.InstanceId) item.InstanceId = source.InstanceId;
      if (options.showInput && source.Input !== undefined) item.Input = parseJson(source.Input ?? null);
    }
    if (e.Name !== undefined) item.Name = e.Name;
    if (e.Reason !== undefined) item.Reason = e.Reason;
    if (e.Details !== undefined) item.Details = e.Details;
    if (e.FailureDetails !== undefined) item.FailureDetails = e.FailureDetails;
    if (e.FireAt !== undefined) item.FireAt = e.FireAt;
    if (e.TimerId !== undefined) item.TimerId = e.TimerId;
    if (e.OrchestrationStatus !== undefined) item.OrchestrationStatus = e.OrchestrationStatus;
    if (options.showHistoryOutput && e.Result !== undefined) item.Result = parseJson(e.Result ?? null);
    if (options.showInput && e.EventType === EventType.EventRaised) item.Input = parseJson(e.Input ?? null);
    if (e.EventType === EventType.ExecutionTerminated) item.Input = parseJson(e.Input ?? null);
    out.push(item);
  }
  return out;
}
