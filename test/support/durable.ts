/** Helpers for tests that drive a local host over HTTP, as a client of the Durable HTTP API would. */
import { RunningHost, startHost, HostOptions } from '../../host/host';

export interface Status {
  name: string;
  instanceId: string;
  runtimeStatus: string;
  input: unknown;
  output: unknown;
  customStatus: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  historyEvents?: Record<string, unknown>[];
}

export async function startPatternsHost(options: Partial<HostOptions> = {}): Promise<RunningHost> {
  return startHost({ appDir: 'test/apps/patterns', port: 0, memory: true, quiet: true, ...options });
}

/** Enough to reach a host's Durable HTTP API: an in-process RunningHost or a child `blc serve`. */
export type HostAddress = Pick<RunningHost, 'url' | 'systemKey'>;

export function webhook(host: HostAddress, path: string): string {
  const sep = path.includes('?') ? '&' : '?';
  return `${host.url}/runtime/webhooks/durabletask/${path}${sep}code=${encodeURIComponent(host.systemKey)}`;
}

export async function startOrchestration(
  host: RunningHost,
  name: string,
  input?: unknown,
  instanceId?: string,
): Promise<string> {
  const res = await fetch(
    webhook(host, `orchestrators/${name}${instanceId ? `/${encodeURIComponent(instanceId)}` : ''}`),
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: input === undefined ? '' : JSON.stringify(input),
    },
  );
  if (res.status !== 202) throw new Error(`start ${name} answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

export async function getStatus(host: RunningHost, instanceId: string, query = ''): Promise<Status> {
  const res = await fetch(
    webhook(host, `instances/${encodeURIComponent(instanceId)}${query ? `?${query}` : ''}`),
  );
  if (res.status === 404) throw new Error(`instance ${instanceId} not found`);
  return (await res.json()) as Status;
}

export async function post(host: RunningHost, path: string, body?: unknown): Promise<Response> {
  return fetch(webhook(host, path), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? '' : JSON.stringify(body),
  });
}

const FINAL = ['Completed', 'Failed', 'Terminated', 'Canceled'];

/** Polls until the instance reaches one of `statuses` (default: any final status). */
export async function waitFor(
  host: RunningHost,
  instanceId: string,
  statuses: string[] = FINAL,
  timeoutMs = 20_000,
  query = '',
): Promise<Status> {
  const deadline = Date.now() + timeoutMs;
  let last: Status | undefined;
  while (Date.now() < deadline) {
    try {
      last = await getStatus(host, instanceId, query);
      if (statuses.includes(last.runtimeStatus)) return last;
    } catch {
      // not created yet
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(
    `instance ${instanceId} did not reach ${statuses.join('/')} in ${timeoutMs} ms; last: ${JSON.stringify(last)}`,
  );
}

/** Polls a condition on the status (e.g. a custom status value). */
export async function waitUntil(
  host: RunningHost,
  instanceId: string,
  predicate: (s: Status) => boolean,
  timeoutMs = 20_000,
): Promise<Status> {
  const deadline = Date.now() + timeoutMs;
  let last: Status | undefined;
  while (Date.now() < deadline) {
    last = await getStatus(host, instanceId).catch(() => undefined);
    if (last && predicate(last)) return last;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`condition not met for ${instanceId}; last: ${JSON.stringify(last)}`);
}
