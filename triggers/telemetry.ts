/**
 * Wires telemetry and log redaction into the Functions app through its hooks: every invocation runs
 * as one recorded request (or, on Azure, inside the request the Functions host records), every log
 * line the app writes is redacted before it is written, and recorded as a trace when the app records
 * its own requests. When the host stops, what is queued is sent.
 */
import { app, type HttpRequest, type InvocationContext, type LogHookContext } from '@azure/functions';
import { appRedactor, startTelemetry, stopTelemetry, telemetry, type TraceLevel } from '../lib/telemetry';

const TRACE_LEVELS: readonly string[] = ['trace', 'debug', 'information', 'warning', 'error', 'critical'];

function httpStatusOf(result: unknown): number {
  const status = (result as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' ? status : 200;
}

/** Redacts a log line in place and records it; exported for tests of the hook itself. */
export function onLog(context: LogHookContext): void {
  if (context.category !== 'user') return;
  context.message = appRedactor().text(context.message);
  const t = telemetry();
  if (!t.recordsRequests || !TRACE_LEVELS.includes(context.level)) return;
  const invocation: InvocationContext | undefined = context.invocationContext;
  t.trace(context.message, context.level as TraceLevel, {
    InvocationId: invocation?.invocationId,
    FunctionName: invocation?.functionName,
  });
}

startTelemetry();

app.hook.preInvocation((context) => {
  const t = telemetry();
  if (!t.enabled) return;
  const invocation = context.invocationContext;
  const trigger = invocation.options.trigger.type;
  const isHttp = trigger === 'httpTrigger';
  const request = isHttp ? (context.inputs[0] as HttpRequest | undefined) : undefined;
  const handler = context.functionHandler;
  context.functionHandler = (...args: Parameters<typeof handler>) =>
    t.invocation(
      {
        functionName: invocation.functionName,
        invocationId: invocation.invocationId,
        trigger,
        method: request?.method,
        url: request?.url,
        traceParent: invocation.traceContext?.traceParent,
        traceState: invocation.traceContext?.traceState,
      },
      async () => (await handler(...args)) as unknown,
      isHttp ? httpStatusOf : () => 0,
    );
});

app.hook.log(onLog);

app.hook.appTerminate(async () => {
  await stopTelemetry();
});
