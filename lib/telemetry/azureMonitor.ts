/**
 * Telemetry through Application Insights (`applicationinsights` 3.x: OpenTelemetry with the Azure
 * Monitor exporter). Loaded only when a connection string is set. Everything is recorded
 * explicitly — requests per invocation, dependencies at the clients, events, traces and exceptions —
 * so automatic instrumentation is off, and so is everything that would talk to anyone but the
 * ingestion endpoint: live metrics, statsbeat, the exporter's remote configuration polling and the
 * Azure VM metadata probe (a Functions app never runs on a bare VM).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as OtelApi from '@opentelemetry/api';
import type * as OtelLogs from '@opentelemetry/api-logs';
import type * as AppInsights from 'applicationinsights';
import type { AppSettings } from '../config/settings';
import { RedactingLogRecordProcessor, RedactingSpanProcessor } from './processors';
import type { Redactor } from './redact';
import type { DependencyCall, InvocationInfo, Properties, Telemetry, TraceLevel } from './types';

type Config = NonNullable<AppSettings['telemetry']>;

/** Loads modules as applicationinsights itself resolves them, so both share one OpenTelemetry API. */
const fromApp = createRequire(__filename);
const fromAppInsights = createRequire(fromApp.resolve('applicationinsights'));
const fromDistro = createRequire(fromAppInsights.resolve('@azure/monitor-opentelemetry'));

/** The distro probes 169.254.169.254 when it finds no App Service, Functions or AKS settings. */
function silenceVmProbe(): void {
  const detectors = fromDistro('@opentelemetry/resource-detector-azure') as {
    azureVmDetector: { detect: () => unknown };
  };
  detectors.azureVmDetector.detect = () => ({ attributes: {} });
}

/**
 * The exporter polls a Microsoft configuration service (OneSettings) from every exporter it builds,
 * with no setting to stop it; stopping its worker keeps the app's only destination the ingestion
 * endpoint.
 */
function stopRemoteConfiguration(): void {
  const exporterMain = fromDistro.resolve('@azure/monitor-opentelemetry-exporter');
  const managerPath = path.join(path.dirname(exporterMain), '_configuration', 'configurationManager.js');
  try {
    const { ConfigurationManager } = fromDistro(managerPath) as {
      ConfigurationManager: { getInstance(): { shutdown(): void } };
    };
    ConfigurationManager.getInstance().shutdown();
  } catch {
    // An exporter without remote configuration has nothing to stop.
  }
}

const SEVERITY: Record<TraceLevel, number> = {
  trace: 1,
  debug: 5,
  information: 9,
  warning: 13,
  error: 17,
  critical: 21,
};

/** A URL as recorded: no query string or fragment (they carry SAS signatures, keys and filters). */
export function recordedUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return url.split(/[?#]/)[0];
  }
}

export function startAzureMonitor(config: Config, redactor: Redactor): Telemetry {
  // Read by the exporter when it is built: no statsbeat (usage reports to Microsoft's own endpoint).
  process.env.APPLICATION_INSIGHTS_NO_STATSBEAT = 'true';
  process.env.APPLICATIONINSIGHTS_STATSBEAT_DISABLED = 'true';
  process.env.APPLICATIONINSIGHTS_SDKSTATS_DISABLED = 'true';
  silenceVmProbe();
  const ai = fromAppInsights('applicationinsights') as typeof AppInsights;
  const api = fromAppInsights('@opentelemetry/api') as typeof OtelApi;
  const logsApi = fromAppInsights('@opentelemetry/api-logs') as typeof OtelLogs;
  const off = { enabled: false };
  ai.useAzureMonitor({
    azureMonitorExporterOptions: { connectionString: config.connectionString },
    enableLiveMetrics: false,
    enablePerformanceCounters: false,
    enableAutoCollectPerformance: false,
    enableAutoCollectExceptions: false,
    // Every span is kept: the default rate limit drops the first ones after start-up.
    samplingRatio: 1,
    tracesPerSecond: 0,
    instrumentationOptions: {
      http: off,
      azureSdk: off,
      mongoDb: off,
      mySql: off,
      postgreSql: off,
      redis: off,
      redis4: off,
      console: off,
      bunyan: off,
      winston: off,
    },
    spanProcessors: [new RedactingSpanProcessor(redactor)],
    logRecordProcessors: [new RedactingLogRecordProcessor(redactor)],
  });
  stopRemoteConfiguration();

  const tracer = api.trace.getTracer('lifecockpit');
  const logger = logsApi.logs.getLogger('lifecockpit');
  const clean = (properties: Properties = {}): Record<string, string | number | boolean> => {
    const out: Record<string, string | number | boolean> = {};
    for (const [key, value] of Object.entries(properties)) {
      if (value === undefined) continue;
      out[key] = typeof value === 'string' ? redactor.text(value) : value;
    }
    return out;
  };
  const recordsRequests = config.requests === 'app';

  function exception(error: unknown, properties?: Properties): void {
    const err = redactor.error(error);
    logger.emit({
      severityNumber: SEVERITY.error,
      attributes: {
        ...clean(properties),
        'exception.type': err.name,
        'exception.message': err.message,
        'exception.stacktrace': err.stack ?? `${err.name}: ${err.message}`,
      },
      context: api.context.active(),
    });
  }

  function parentOf(info: InvocationInfo): OtelApi.Context {
    if (!info.traceParent) return api.ROOT_CONTEXT;
    const carrier: Record<string, string> = { traceparent: info.traceParent };
    if (info.traceState) carrier.tracestate = info.traceState;
    return api.propagation.extract(api.ROOT_CONTEXT, carrier);
  }

  return {
    enabled: true,
    recordsRequests,

    event(name, properties) {
      logger.emit({
        attributes: { ...clean(properties), 'microsoft.custom_event.name': name },
        context: api.context.active(),
      });
    },

    trace(message, level, properties) {
      logger.emit({
        body: redactor.text(message),
        severityNumber: SEVERITY[level],
        attributes: clean(properties),
        context: api.context.active(),
      });
    },

    exception,

    dependency(call: DependencyCall) {
      const url = new URL(recordedUrl(call.url));
      const span = tracer.startSpan(
        `${call.service} ${call.method}`,
        {
          kind: api.SpanKind.CLIENT,
          startTime: Date.now() - call.durationMs,
          attributes: {
            'http.request.method': call.method,
            'url.full': redactor.text(url.toString()),
            'server.address': url.hostname,
            // The dependency's target: host and port (simulators and Azurite share a host name).
            'peer.service': url.host,
            'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
            ...(call.status ? { 'http.response.status_code': call.status } : {}),
            'dependency.service': call.service,
          },
        },
        api.context.active(),
      );
      span.setStatus({ code: call.success ? api.SpanStatusCode.OK : api.SpanStatusCode.ERROR });
      span.end();
    },

    async invocation(info, run, statusOf) {
      const parent = parentOf(info);
      if (!recordsRequests) return api.context.with(parent, run);
      const properties = clean({ InvocationId: info.invocationId, FunctionName: info.functionName });
      const span = tracer.startSpan(
        info.functionName,
        {
          kind: api.SpanKind.SERVER,
          attributes: {
            ...properties,
            'faas.trigger': info.trigger,
            ...(info.method ? { 'http.request.method': info.method } : {}),
            ...(info.url ? { 'url.full': redactor.text(recordedUrl(info.url)) } : {}),
          },
        },
        parent,
      );
      try {
        const result = await api.context.with(api.trace.setSpan(parent, span), run);
        const status = statusOf(result);
        if (info.method) span.setAttribute('http.response.status_code', status);
        span.setStatus({ code: status >= 500 ? api.SpanStatusCode.ERROR : api.SpanStatusCode.OK });
        return result;
      } catch (err) {
        api.context.with(api.trace.setSpan(parent, span), () => exception(err, properties));
        if (info.method) span.setAttribute('http.response.status_code', 500);
        span.setStatus({ code: api.SpanStatusCode.ERROR });
        throw err;
      } finally {
        span.end();
      }
    },

    flush: () => ai.flushAzureMonitor(),
    shutdown: () => ai.shutdownAzureMonitor(),
  };
}
