/** A small client of the public API for tests: calls with the function key, and polls instances. */
import type { AppUnderTest } from '../support/appHost';

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown> & { code?: string; message?: string };
}

export interface CallOptions {
  /** A value to send as JSON. */
  body?: unknown;
  /** Bytes to send as they are (for malformed or oversize bodies). */
  raw?: string;
  headers?: Record<string, string>;
  /** The function key to send; null sends none. Default: the host's default function key. */
  key?: string | null;
}

export interface Api {
  key: string;
  url(path: string): string;
  call(method: string, path: string, options?: CallOptions): Promise<Answer>;
  /** Polls GET /api/instances/{id} until its runtimeStatus is one of `statuses` (default: final). */
  waitFor(id: string, statuses?: string[], timeoutMs?: number): Promise<Answer>;
}

const FINAL = ['Completed', 'Failed', 'Terminated', 'Canceled'];

export function apiOf(app: AppUnderTest): Api {
  const key = String(app.host.keys.functionKeys.default);
  const api: Api = {
    key,
    url: (path) => `${app.host.url}/api/${path}`,
    async call(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      const sendKey = options.key === undefined ? key : options.key;
      if (sendKey !== null) headers['x-functions-key'] = sendKey;
      let body: string | undefined = options.raw;
      if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers['content-type'] = 'application/json';
      }
      const res = await fetch(api.url(path), { method, headers, body });
      const text = await res.text();
      let json: Answer['json'] = {};
      try {
        json = text ? (JSON.parse(text) as Answer['json']) : {};
      } catch {
        // not JSON; tests look at text
      }
      return { status: res.status, headers: res.headers, text, json };
    },
    async waitFor(id, statuses = FINAL, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last: Answer | undefined;
      while (Date.now() < deadline) {
        last = await api.call('GET', `instances/${encodeURIComponent(id)}`);
        if (last.status < 300 && statuses.includes(String(last.json.runtimeStatus))) return last;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`instance ${id} did not reach ${statuses.join('/')}; last: ${last?.text}`);
    },
  };
  return api;
}

/** Secrets the app or host hold; no answer may contain any of them. */
export function secretsOf(app: AppUnderTest): string[] {
  const account = /AccountKey=([^;]+)/.exec(String(process.env.AzureWebJobsStorage))?.[1];
  return [
    app.host.systemKey,
    app.host.keys.masterKey,
    String(app.host.keys.functionKeys.default),
    String(process.env.DATAVERSE_TOKEN),
    ...(account ? [account] : []),
  ];
}
