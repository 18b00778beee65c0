/**
 * Sorts the events an orchestration work item brought into what the episode does with them:
 * control messages (suspend, resume, terminate) applied by the host, events for the orchestrator,
 * messages for another execution dropped, and events held back while the instance is suspended.
 * Pure: no store, no clock, no user code.
 */
import { isTerminal, type InboxMessage, type InstanceRow, type RuntimeStatus } from './backend';
import { EventType, type HistoryEvent } from './history';

export interface Triage {
  /** The status once the control messages are applied. */
  status: RuntimeStatus;
  /** Inbox ids the episode takes (events, control messages and dropped messages). */
  consumed: number[];
  /** Suspend/resume events that changed the status, for the history. */
  controlEvents: HistoryEvent[];
  /** Events for the orchestrator, unplayed, in inbox order. */
  newEvents: HistoryEvent[];
  /** Inbox ids of those events (a subset of consumed). */
  eventIds: Set<number>;
  /** Set when a terminate message was reached: the reason, and nothing after it counts. */
  terminateReason?: string;
}

export function triageInbox(instance: InstanceRow, messages: InboxMessage[]): Triage {
  let status: RuntimeStatus = instance.status;
  const t: Triage = { status, consumed: [], controlEvents: [], newEvents: [], eventIds: new Set() };
  for (const msg of messages) {
    const e = msg.event;
    if (isTerminal(status) || (msg.executionId && msg.executionId !== instance.executionId)) {
      t.consumed.push(msg.id);
      continue;
    }
    if (e.EventType === EventType.ExecutionTerminated) {
      t.consumed.push(msg.id);
      t.terminateReason = e.Input ?? '';
      break;
    }
    if (e.EventType === EventType.ExecutionSuspended) {
      t.consumed.push(msg.id);
      if (status !== 'Suspended') t.controlEvents.push(e);
      status = 'Suspended';
      continue;
    }
    if (e.EventType === EventType.ExecutionResumed) {
      t.consumed.push(msg.id);
      if (status === 'Suspended') {
        t.controlEvents.push(e);
        status = 'Running';
      }
      continue;
    }
    // While suspended, events wait in the inbox until resume (or terminate).
    if (status === 'Suspended') continue;
    t.consumed.push(msg.id);
    t.eventIds.add(msg.id);
    t.newEvents.push({ ...e, IsPlayed: false });
  }
  t.status = status;
  return t;
}
