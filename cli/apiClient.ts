/**
 * The small HTTP client `blc` uses to talk to a Life Cockpit app (local or in Azure): every call
 * sends the function key, reads JSON, and turns a failure into a BlcError that carries the exit
 * code (1: the app said no, 3: the app cannot be reached) and the API's `{code, message}`. It never
 * reads the environment on its own and never prints the key: every message it builds, the app's
 * words included, shows URLs and secrets as cli/redact does.
 */
import { redact } from './redact';

/** An error `blc` reports as one line, `blc: <code>: <message>`, and exits with `exitCode`. */
export class BlcError extends Error {
  constructor(
    readonly exitCode: number,
    readonly code: string,
    message: string,
    /** The HTTP status, when the app answered. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'BlcError';
  }

  static usage(message: string): BlcError {
    return new BlcError(2, 'USAGE', message);
  }
}

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RequestOptions {
  /** A value sent as JSON. */
  body?: unknown;
  /** Query parameters; undefined values are left out. */
  query?: Record<string, string | undefined>;
  /** Extra request headers (e.g. Idempotency-Key). */
  headers?: Record<string, string>;
  /** Statuses at or above 400 that are answers here, not errors (e.g. 503 from auth/test). */
  accept?: number[];
  abortSignal?: AbortSignal;
  /** The host's own routes (`admin/...`) are not under the app's `/api` prefix. */
  hostRoute?: boolean;
}

export interface ApiClientOptions {
  /** The function key, sent as `x-functions-key`. */
  key?: string;
  /** Milliseconds before a request is given up (default 60 s). */
  timeoutMs?: number;
}

/** A percent-encoded URL part decoded, or as it is when it is not valid percent-encoding. */
function unescape(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export class ApiClient {
  /** The app's URL without userinfo, query or trailing `/api`; requests go to `<baseUrl>/api/...`. */
  readonly baseUrl: string;
  /** Query parameters of the given URL (e.g. `code`, a function key), sent with every request. */
  private readonly baseQuery: URLSearchParams;
  /** `user:password@` of the given URL as a Basic authorization header, as curl sends it. */
  private readonly basicAuth: string | undefined;
  /** Values no message may show: the key, the URL's `code` and password. */
  private readonly secrets: string[];
  /** The given URL as messages show it: userinfo and a `code` value replaced. */
  private readonly shownUrl: string;

  constructor(
    endpoint: string,
    private readonly options: ApiClientOptions = {},
  ) {
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      throw BlcError.usage(`--url must be an http(s) URL, got '${redact(endpoint, [options.key])}'`);
    this.baseQuery = new URLSearchParams(url.search);
    // fetch refuses a URL with credentials, and a `?code=` before the path would swallow the path.
    const basic =
      url.username || url.password
        ? Buffer.from(`${unescape(url.username)}:${unescape(url.password)}`).toString('base64')
        : undefined;
    this.basicAuth = basic && `Basic ${basic}`;
    this.secrets = [options.key, this.baseQuery.get('code'), unescape(url.password), basic].filter(
      (s): s is string => Boolean(s),
    );
    this.shownUrl = this.redact(url.toString().replace(/\/+$/, ''));
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    // Accept both https://app.example and https://app.example/api.
    this.baseUrl = url
      .toString()
      .replace(/\/+$/, '')
      .replace(/\/api$/, '');
  }

  url(path: string, query?: Record<string, string | undefined>, hostRoute = false): string {
    const url = new URL(`${this.baseUrl}${hostRoute ? '' : '/api'}/${path}`);
    for (const [k, v] of this.baseQuery) url.searchParams.append(k, v);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    return url.toString();
  }

  /** What a person can check when the app does not answer. */
  private unreachableHint(): string {
    const host = new URL(this.baseUrl).hostname;
    const local = host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
    return local
      ? 'is `npm start` running? (or give its address with --url or BLC_URL)'
      : 'check the address (--url or BLC_URL) and that the app is running';
  }

  /** Text as blc may print it: the key and secret-shaped parts (a `code=` value, `user:pw@`) replaced. */
  private redact(text: string): string {
    return redact(text, this.secrets);
  }

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (this.options.key) headers['x-functions-key'] = this.options.key;
    if (this.basicAuth) headers.authorization = this.basicAuth;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const signals = [AbortSignal.timeout(this.options.timeoutMs ?? 60_000)];
    if (options.abortSignal) signals.push(options.abortSignal);
    let res: Response;
    try {
      res = await fetch(this.url(path, options.query, options.hostRoute), {
        method,
        headers,
        body,
        signal: AbortSignal.any(signals),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new BlcError(
        3,
        'UNREACHABLE',
        this.redact(`cannot reach ${this.shownUrl} (${why}); ${this.unreachableHint()}`),
      );
    }
    const text = await res.text();
    let parsed: unknown = undefined;
    if (text.trim() !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    if (res.status >= 400 && !options.accept?.includes(res.status)) {
      const err = (parsed ?? {}) as { code?: unknown; message?: unknown };
      const code = typeof err.code === 'string' ? err.code : `HTTP_${res.status}`;
      const message =
        typeof err.message === 'string'
          ? err.message
          : `${method} ${path} answered ${res.status} ${res.statusText}${text && !parsed ? `: ${text.slice(0, 200)}` : ''}`;
      throw new BlcError(1, code, this.redact(message), res.status);
    }
    if (parsed === undefined && text.trim() !== '')
      throw new BlcError(
        1,
        'BAD_ANSWER',
        `${method} ${path} answered ${res.status} with a body that is not JSON`,
      );
    return { status: res.status, headers: res.headers, body: (parsed ?? {}) as T };
  }

  get<T = Record<string, unknown>>(path: string, options?: RequestOptions): Promise<ApiAnswer<T>> {
    return this.request<T>('GET', path, options);
  }

  post<T = Record<string, unknown>>(path: string, options?: RequestOptions): Promise<ApiAnswer<T>> {
    return this.request<T>('POST', path, options);
  }
}
