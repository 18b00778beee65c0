/** What the app records, whatever records it (Application Insights, or nothing when it is off). */

export type Properties = Record<string, string | number | boolean | undefined>;

export type TraceLevel = 'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical';

/** One call to another service, as its client saw it. */
export interface DependencyCall {
  /** Which service: 'Dataverse', 'Graph' or 'Blob'. */
  service: string;
  method: string;
  /** The URL called; its query string is dropped before it is recorded. */
  url: string;
  durationMs: number;
  /** The HTTP status, or 0 when no answer came. */
  status: number;
  success: boolean;
}

/** One function invocation, as the preInvocation hook sees it. */
export interface InvocationInfo {
  functionName: string;
  invocationId: string;
  trigger: string;
  /** For HTTP triggers. */
  method?: string;
  url?: string;
  /** The W3C trace context the Functions host passed in, if any. */
  traceParent?: string;
  traceState?: string;
}

export interface Telemetry {
  readonly enabled: boolean;
  event(name: string, properties?: Properties): void;
  trace(message: string, level: TraceLevel, properties?: Properties): void;
  exception(error: unknown, properties?: Properties): void;
  dependency(call: DependencyCall): void;
  /**
   * Runs one invocation: as a recorded request (when the app records requests), or inside the trace
   * context the host gave it (when the host does), so what it records belongs to that request.
   */
  invocation<T>(info: InvocationInfo, run: () => Promise<T>, statusOf: (result: T) => number): Promise<T>;
  /** Whether the app records requests and log lines itself (false when the Functions host does). */
  readonly recordsRequests: boolean;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** Telemetry that is off: nothing is loaded, recorded or sent. */
export const TELEMETRY_OFF: Telemetry = {
  enabled: false,
  recordsRequests: false,
  event: () => undefined,
  trace: () => undefined,
  exception: () => undefined,
  dependency: () => undefined,
  invocation: (_info, run) => run(),
  flush: async () => undefined,
  shutdown: async () => undefined,
};
