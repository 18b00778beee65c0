/**
 * What the app's `log` hook does with each line: user log lines are redacted in place (so the
 * Functions log never holds a secret) and, when the app records its own requests, recorded as
 * traces of the invocation that wrote them.
 */
import { appRedactor } from './secrets';
import { TELEMETRY_OFF, type Telemetry, type TraceLevel } from './types';

/** The parts of @azure/functions' LogHookContext the hook uses. */
export interface LogLine {
  readonly category: string;
  level: string;
  message: string;
  readonly invocationContext?: { invocationId?: string; functionName?: string };
}

const TRACE_LEVELS: readonly string[] = ['trace', 'debug', 'information', 'warning', 'error', 'critical'];

export function onLogLine(line: LogLine, telemetry: Telemetry = TELEMETRY_OFF): void {
  if (line.category !== 'user') return;
  line.message = appRedactor().text(line.message);
  if (!telemetry.recordsRequests || !TRACE_LEVELS.includes(line.level)) return;
  telemetry.trace(line.message, line.level as TraceLevel, {
    InvocationId: line.invocationContext?.invocationId,
    FunctionName: line.invocationContext?.functionName,
  });
}
