/**
 * Logging and events from orchestrator code. An orchestrator runs again from the start on every
 * episode (replay), so anything it reports would be reported once per episode; these helpers report
 * only when the code runs for the first time, so each line and event appears exactly once.
 */
import type { OrchestrationContext } from 'durable-functions';
import { recordEvent, type Properties } from '../telemetry';

export function replaySafeLog(
  context: OrchestrationContext,
  level: 'information' | 'warning' | 'error',
  message: string,
): void {
  if (context.df.isReplaying) return;
  if (level === 'error') context.error(message);
  else if (level === 'warning') context.warn(message);
  else context.log(message);
}

/** Records a custom event carrying the orchestration's instance id, once (never on replay). */
export function replaySafeEvent(context: OrchestrationContext, name: string, properties: Properties): void {
  if (context.df.isReplaying) return;
  recordEvent(name, { instanceId: context.df.instanceId, ...properties });
}
