/**
 * The app's telemetry: off unless APPLICATIONINSIGHTS_CONNECTION_STRING is set, then Application
 * Insights. One per process (like OpenTelemetry's own globals), started by triggers/hooks/telemetry.ts when
 * the app loads; anything recorded before, or with it off, is dropped at no cost. Everything that
 * leaves through it is redacted.
 */
import { readSettings, type AppSettings } from '../config/settings';
import { appRedactor } from './secrets';
import { TELEMETRY_OFF, type DependencyCall, type Properties, type Telemetry } from './types';

export { REDACTED, Redactor } from './redact';
export { appRedactor, secretsOf } from './secrets';
export { onLogLine, type LogLine } from './logHook';
export { TELEMETRY_OFF } from './types';
export type { DependencyCall, InvocationInfo, Properties, Telemetry, TraceLevel } from './types';

const SLOT = Symbol.for('lifecockpit.telemetry');
const slot = globalThis as unknown as { [SLOT]?: Telemetry };

/** The running telemetry, or TELEMETRY_OFF. */
export function telemetry(): Telemetry {
  return slot[SLOT] ?? TELEMETRY_OFF;
}

/** Starts telemetry once per process when the settings configure it; otherwise loads nothing. */
export function startTelemetry(settings: AppSettings = readSettings()): Telemetry {
  const running = slot[SLOT];
  if (running) return running;
  if (!settings.telemetry) return TELEMETRY_OFF;
  // Loaded here, not at the top: with telemetry off, not one OpenTelemetry module is loaded.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startAzureMonitor } = require('./azureMonitor') as typeof import('./azureMonitor');
  slot[SLOT] = startAzureMonitor(settings.telemetry, appRedactor());
  return slot[SLOT];
}

/** Flushes and stops the running telemetry (the host is stopping). */
export async function stopTelemetry(): Promise<void> {
  const running = slot[SLOT];
  if (!running) return;
  delete slot[SLOT];
  await running.flush();
  await running.shutdown();
}

/** Records one call to Dataverse, Graph or Blob storage (a no-op with telemetry off). */
export function recordDependency(call: DependencyCall): void {
  telemetry().dependency(call);
}

/** Records a custom event (a no-op with telemetry off). */
export function recordEvent(name: string, properties?: Properties): void {
  telemetry().event(name, properties);
}
