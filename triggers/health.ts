/**
 * GET /api/health: readiness for load balancers, container HEALTHCHECKs, deployments and `blc`.
 * Checks what the app depends on, each with its state and latency: a Graph token (when the app
 * sends mail, i.e. MAIL_SENDER is set), Dataverse (WhoAmI), Blob storage and the durable store.
 * Answers 200 when everything it checks is up, 503 when one is down. Anonymous by design, so it must
 * never reveal configuration or secrets: a failed check carries an error code, never a message.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { services } from '../lib/config/services';

const startedAt = new Date().toISOString();
const CHECK_TIMEOUT_MS = 5_000;

export interface HealthCheck {
  state: 'up' | 'down' | 'unconfigured';
  latencyMs?: number;
  /** Why it is down: an error code (never a message, which could name hosts). */
  code?: string;
}

export interface HealthReport {
  status: 'ok' | 'unhealthy';
  startedAt: string;
  checks: { graph: HealthCheck; dataverse: HealthCheck; storage: HealthCheck; durable: HealthCheck };
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

export async function health(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  let s: ReturnType<typeof services>;
  try {
    s = services();
  } catch (err) {
    // Settings that cannot even be read make the app unhealthy, not the health check crash.
    const code = (err as { code?: unknown }).code;
    return {
      status: 503,
      jsonBody: {
        status: 'unhealthy',
        startedAt,
        code: typeof code === 'string' ? code : 'INVALID_SETTINGS',
        message: (err as Error).message,
      },
    };
  }
  const [graph, dataverse, storage, durable] = await Promise.all([
    s.settings.mailSender
      ? timed((abortSignal) => s.graph().getToken({ abortSignal }))
      : Promise.resolve<HealthCheck>({ state: 'unconfigured' }),
    timed((abortSignal) => s.dataverse().whoAmI({ abortSignal })),
    timed((abortSignal) => s.snapshots.container.exists({ abortSignal })),
    // Asks the store for instances created after now: a round trip that returns nothing.
    timed(() => df.getClient(context).getStatusBy({ createdTimeFrom: new Date(Date.now() + 86_400_000) })),
  ]);
  const checks = { graph, dataverse, storage, durable };
  const down = Object.values(checks).some((c) => c.state === 'down');
  const report: HealthReport = { status: down ? 'unhealthy' : 'ok', startedAt, checks };
  return { status: down ? 503 : 200, jsonBody: report };
}

app.http('health', {
  route: 'health',
  methods: ['GET'],
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: health,
});
