/**
 * Not a trigger: the Functions app's hooks, which wire telemetry and log redaction into the app (it
 * sits under triggers/ because the host loads registrations from orchestrators/, activities/ and
 * triggers/ only). Every invocation runs as one recorded request (or, on Azure, inside the request
 * the Functions host records), every log line the app writes is redacted before it is written, and
 * recorded as a trace when the app records its own requests. When the host stops, what is queued
 * is sent.
 */
import { app, type HttpRequest } from '@azure/functions';
import { onLogLine, startTelemetry, stopTelemetry, telemetry } from '../../lib/telemetry';

function httpStatusOf(result: unknown): number {
  const status = (result as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' ? status : 200;
}

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

app.hook.log((context) => onLogLine(context, telemetry()));

app.hook.appTerminate(async () => {
  await stopTelemetry();
});

// Started after the hooks above are registered: Application Insights adds its own preInvocation hook,
// which binds each invocation to the trace context the host passed in. Running after ours, it wraps
// our request, so the request joins the host's trace and everything the handler records joins the
// request; running first, its binding would sit inside our request and cut the handler off from it.
startTelemetry();
