/**
 * GET /api/health: readiness for load balancers, container HEALTHCHECKs, deployments and `blc`.
 * Checks what the app depends on: a Graph token (when the app sends mail, i.e. MAIL_SENDER is set),
 * Dataverse (WhoAmI), Blob storage and the durable store. Answers 200 when everything it checks is
 * up, 503 when one is down. Anonymous by design, so the answer is only the overall status and each
 * dependency's state: never a message, code, latency or setting, which could name hosts or reveal
 * configuration (those go to the function log). The checks spend the app's Dataverse and Graph
 * quota, so callers share one round of them for HEALTH_CACHE_SECONDS (default 5): fifty calls in a
 * burst make one WhoAmI, not fifty.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { services, type AppServices } from '../lib/config/services';
import { SharedResult } from '../lib/sharedResult';

const CHECK_TIMEOUT_MS = 5_000;

export type DependencyState = 'up' | 'down' | 'unconfigured';

/** One check as the log sees it; the anonymous answer keeps only `state`. */
export interface HealthCheck {
  state: DependencyState;
  latencyMs?: number;
  /** Why it is down: an error code, for the log. */
  code?: string;
}

type Dependency = 'graph' | 'dataverse' | 'storage' | 'durable';
type Checks = Record<Dependency, HealthCheck>;

/** The anonymous answer. `settings` appears only when the app's settings cannot be read. */
export interface HealthReport {
  status: 'ok' | 'unhealthy';
  checks: Partial<Record<Dependency | 'settings', { state: DependencyState }>>;
}

function codeOf(err: unknown): string {
  if (err && typeof err === 'object') {
    const { code, name } = err as { code?: unknown; name?: unknown };
    if (typeof code === 'string' && code !== '') return code;
    if (typeof name === 'string' && name !== '' && name !== 'Error') return name;
  }
  return 'UNAVAILABLE';
}

/** Runs one check with a deadline and measures it. */
export async function timed(run: (signal: AbortSignal) => Promise<unknown>): Promise<HealthCheck> {
  const started = performance.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(Object.assign(new Error('timed out'), { code: 'TIMEOUT' }));
    }, CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([run(controller.signal), deadline]);
    return { state: 'up', latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    return { state: 'down', latencyMs: Math.round(performance.now() - started), code: codeOf(err) };
  } finally {
    clearTimeout(timer);
  }
}

/** One round of live checks; what is down goes to the log with its code and latency. */
async function checkDependencies(s: AppServices, context: InvocationContext): Promise<Checks> {
  const [graph, dataverse, storage, durable] = await Promise.all([
    s.settings.mailSender
      ? timed((abortSignal) => s.graph().getToken({ abortSignal }))
      : Promise.resolve<HealthCheck>({ state: 'unconfigured' }),
    timed((abortSignal) => s.dataverse().whoAmI({ abortSignal })),
    timed((abortSignal) => s.snapshots.container.exists({ abortSignal })),
    // Asks the store for instances created after now: a round trip that returns nothing.
    timed(() => df.getClient(context).getStatusBy({ createdTimeFrom: new Date(Date.now() + 86_400_000) })),
  ]);
  const checks: Checks = { graph, dataverse, storage, durable };
  for (const [name, check] of Object.entries(checks))
    if (check.state === 'down')
      context.warn(`Health: ${name} is down (${check.code ?? 'UNAVAILABLE'}, after ${check.latencyMs} ms).`);
  return checks;
}

const shared = new SharedResult<Checks>();

export async function health(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  let s: AppServices;
  try {
    s = services();
  } catch (err) {
    // Settings that cannot be read make the app unhealthy; why is for the log (redacted by the log
    // hook), never for the answer.
    context.error(`Health: the app's settings cannot be read: ${(err as Error).message}`);
    const report: HealthReport = { status: 'unhealthy', checks: { settings: { state: 'down' } } };
    return { status: 503, jsonBody: report };
  }
  const checks = await shared.get(s.settings.healthCacheSeconds * 1000, () => checkDependencies(s, context));
  const down = Object.values(checks).some((c) => c.state === 'down');
  const report: HealthReport = {
    status: down ? 'unhealthy' : 'ok',
    checks: {
      graph: { state: checks.graph.state },
      dataverse: { state: checks.dataverse.state },
      storage: { state: checks.storage.state },
      durable: { state: checks.durable.state },
    },
  };
  return { status: down ? 503 : 200, jsonBody: report };
}

app.http('health', {
  route: 'health',
  methods: ['GET'],
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: health,
});
