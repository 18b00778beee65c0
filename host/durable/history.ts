/**
 * History events in the wire shape the `durable-functions` library replays (PascalCase, numeric
 * EventType). The host stores exactly these objects, so what is replayed is what was recorded.
 */

export enum EventType {
  ExecutionStarted = 0,
  ExecutionCompleted = 1,
  ExecutionFailed = 2,
  ExecutionTerminated = 3,
  TaskScheduled = 4,
  TaskCompleted = 5,
  TaskFailed = 6,
  SubOrchestrationInstanceCreated = 7,
  SubOrchestrationInstanceCompleted = 8,
  SubOrchestrationInstanceFailed = 9,
  TimerCreated = 10,
  TimerFired = 11,
  OrchestratorStarted = 12,
  OrchestratorCompleted = 13,
  EventSent = 14,
  EventRaised = 15,
  ContinueAsNew = 16,
  GenericEvent = 17,
  HistoryState = 18,
  ExecutionSuspended = 19,
  ExecutionResumed = 20,
}

export interface HistoryEvent {
  EventType: EventType;
  EventId: number;
  IsPlayed: boolean;
  Timestamp: string;
  Name?: string;
  Input?: string | null;
  Result?: string | null;
  Reason?: string;
  Details?: string;
  FailureDetails?: FailureDetails;
  TaskScheduledId?: number;
  TimerId?: number;
  FireAt?: string;
  InstanceId?: string;
  Version?: string;
  OrchestrationStatus?: string;
  ParentInstance?: {
    Name: string;
    OrchestrationInstance: { InstanceId: string; ExecutionId: string };
    TaskScheduleId: number;
  } | null;
  OrchestrationInstance?: { InstanceId: string; ExecutionId: string };
}

export interface FailureDetails {
  ErrorType: string;
  ErrorMessage: string;
  StackTrace?: string;
  IsNonRetriable?: boolean;
  Properties?: Record<string, unknown>;
  InnerFailure?: FailureDetails;
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

export function event(type: EventType, timestamp: number, fields: Partial<HistoryEvent> = {}): HistoryEvent {
  return { EventType: type, EventId: -1, IsPlayed: false, Timestamp: isoTime(timestamp), ...fields };
}

/** The scheduling event (TaskScheduled or SubOrchestrationInstanceCreated) behind each task id. */
export function scheduledById(history: HistoryEvent[]): Map<number, HistoryEvent> {
  const scheduled = new Map<number, HistoryEvent>();
  for (const e of history) {
    if (
      e.EventType === EventType.TaskScheduled ||
      e.EventType === EventType.SubOrchestrationInstanceCreated
    ) {
      scheduled.set(e.EventId, e);
    }
  }
  return scheduled;
}
