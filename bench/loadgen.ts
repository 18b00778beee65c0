/**
 * Child process of `npm run bench` (the from-outside scenario): a client of a running host that
 * starts orchestrations over HTTP as any other process would. It POSTs keyed starts (the instance
 * id in the URL, one per request) to the Durable start webhook with a fixed number of requests in
 * flight on keep-alive connections, then polls the instance list until none of them is Pending or
 * Running, then pages through the list (continuation tokens) to count how each ended. Prints one
 * JSON line (LoadgenReport). It never looks inside the host: only HTTP.
 *
 * Arguments: --url=ORIGIN --name=ORCHESTRATOR --count=N --in-flight=N --prefix=ID_PREFIX
 * --input=JSON --poll-ms=N --timeout-ms=N --page-size=N (of the final count). The system key comes in BENCH_SYSTEM_KEY (not argv,
 * which other users of the machine can read).
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { percentile, round } from './measure';

export interface LoadgenReport {
  orchestrations: number;
  inFlight: number;
  /** Starts the host acknowledged with 2xx. */
  started: number;
  /** Starts answered with anything but 2xx, by status. */
  errors: number;
  errorStatuses: Record<string, number>;
  /** Requests that got no answer at all (connection refused or reset). */
  transportErrors: number;
  completed: number;
  /** Ended otherwise (Failed, Terminated, ...), and still unfinished when the list was read. */
  notCompleted: number;
  /** First request sent -> the poll that found none Pending or Running answered. */
  wallMs: number;
  orchestrationsPerSec: number;
  /** First request sent -> last start acknowledged. */
  startPhaseMs: number;
  startsPerSec: number;
  startLatencyMs: { p50: number; p99: number; max: number };
  polls: number;
  pollIntervalMs: number;
  /** Pages the final count read (the list's continuation tokens at work). */
  listPages: number;
  /** This process's own CPU (user + system) over the run: the client's share of the 2 cores. */
  clientCpuMs: number;
}

const WEBHOOK = '/runtime/webhooks/durabletask';

function arg(name: string, fallback?: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  if (hit) return hit.slice(name.length + 3);
  if (fallback === undefined) throw new Error(`--${name}= is required`);
  return fallback;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function send(
  agent: http.Agent,
  origin: URL,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: origin.hostname,
        port: origin.port,
        method,
        path,
        headers: body === undefined ? headers : { ...headers, 'Content-Type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const origin = new URL(arg('url'));
  const name = arg('name', 'benchChain');
  const count = Number(arg('count'));
  const inFlight = Number(arg('in-flight', '50'));
  const prefix = arg('prefix');
  const input = arg('input', '{"steps":5}');
  const pollMs = Number(arg('poll-ms', '10'));
  const timeoutMs = Number(arg('timeout-ms', '150000'));
  const pageSize = Number(arg('page-size', '500'));
  const code = `code=${encodeURIComponent(process.env.BENCH_SYSTEM_KEY ?? '')}`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight });

  const cpu0 = process.cpuUsage();
  const latencies: number[] = [];
  const errorStatuses: Record<string, number> = {};
  let transportErrors = 0;
  let next = 0;
  const t0 = performance.now();
  // Each lane sends its next start as soon as its last one is answered: `inFlight` at all times.
  const lane = async (): Promise<void> => {
    while (next < count) {
      const id = `${prefix}${next++}`;
      const sent = performance.now();
      try {
        const a = await send(
          agent,
          origin,
          'POST',
          `${WEBHOOK}/orchestrators/${encodeURIComponent(name)}/${encodeURIComponent(id)}?${code}`,
          input,
        );
        latencies.push(performance.now() - sent);
        if (a.status < 200 || a.status > 299) errorStatuses[a.status] = (errorStatuses[a.status] ?? 0) + 1;
      } catch {
        transportErrors++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane));
  const startPhaseMs = performance.now() - t0;

  // Done when the list holds none of ours Pending or Running; one row is enough to know it does.
  const unfinished = `${WEBHOOK}/instances?runtimeStatus=Pending,Running&instanceIdPrefix=${encodeURIComponent(prefix)}&top=1&showInput=false&${code}`;
  let polls = 0;
  let wallMs: number;
  for (;;) {
    const a = await send(agent, origin, 'GET', unfinished);
    polls++;
    if (a.status !== 200) throw new Error(`the instance list answered ${a.status}: ${a.body.slice(0, 500)}`);
    if ((JSON.parse(a.body) as unknown[]).length === 0) {
      wallMs = performance.now() - t0;
      break;
    }
    if (performance.now() - t0 > timeoutMs) throw new Error(`instances still running after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, pollMs));
  }

  let completed = 0;
  let notCompleted = 0;
  let listPages = 0;
  let continuation: string | undefined;
  do {
    const a = await send(
      agent,
      origin,
      'GET',
      `${WEBHOOK}/instances?instanceIdPrefix=${encodeURIComponent(prefix)}&top=${pageSize}&showInput=false&${code}`,
      undefined,
      // The next page is asked for as the extension's clients do: the token of the last one, as a header.
      continuation ? { 'x-ms-continuation-token': continuation } : {},
    );
    listPages++;
    if (a.status !== 200) throw new Error(`the instance list answered ${a.status}: ${a.body.slice(0, 500)}`);
    for (const row of JSON.parse(a.body) as { runtimeStatus: string }[]) {
      if (row.runtimeStatus === 'Completed') completed++;
      else notCompleted++;
    }
    continuation = a.headers['x-ms-continuation-token'] as string | undefined;
  } while (continuation);
  agent.destroy();

  const cpu = process.cpuUsage(cpu0);
  const errors = Object.values(errorStatuses).reduce((s, n) => s + n, 0);
  const report: LoadgenReport = {
    orchestrations: count,
    inFlight,
    started: latencies.length - errors,
    errors,
    errorStatuses,
    transportErrors,
    completed,
    notCompleted,
    wallMs: round(wallMs, 1),
    orchestrationsPerSec: round(completed / (wallMs / 1000), 1),
    startPhaseMs: round(startPhaseMs, 1),
    startsPerSec: round(latencies.length / (startPhaseMs / 1000), 1),
    startLatencyMs: {
      p50: round(percentile(latencies, 50)),
      p99: round(percentile(latencies, 99)),
      max: round(Math.max(...latencies)),
    },
    polls,
    pollIntervalMs: pollMs,
    listPages,
    clientCpuMs: round((cpu.user + cpu.system) / 1000, 0),
  };
  process.stdout.write(JSON.stringify(report) + '\n');
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
