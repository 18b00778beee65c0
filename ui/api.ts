/**
 * Calls to the app's keyed JSON API. The function key lives in sessionStorage only (gone with the
 * tab) and travels in the `x-functions-key` header, never in a URL.
 */

const KEY_SLOT = 'lifecockpit.functionKey';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY_SLOT);
}

export function storeKey(key: string): void {
  sessionStorage.setItem(KEY_SLOT, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(KEY_SLOT);
}

/** The API lives next to the dashboard: `<prefix>/dashboard/` → `<prefix>/`. */
function apiUrl(path: string): string {
  return new URL(`../${path}`, document.baseURI).href;
}

let unauthorized: (message: string) => void = () => undefined;

/** What to do when the API refuses the key (the app shows the key form again). */
export function onUnauthorized(handler: (message: string) => void): void {
  unauthorized = handler;
}

export const KEY_REFUSED =
  'The API refused this function key (401 Unauthorized). Check the key — a function key or the default host key of this app — and enter it again.';

export interface Answer<T> {
  status: number;
  body: T;
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<Answer<T>> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const key = storedKey();
  if (key) headers['x-functions-key'] = key;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(apiUrl(path), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (err) {
    throw new ApiError(0, 'UNREACHABLE', `The app did not answer: ${(err as Error).message}`);
  }
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (a proxy's error page, say): the status says enough.
  }
  if (res.status === 401) {
    unauthorized(KEY_REFUSED);
    throw new ApiError(401, 'UNAUTHORIZED', KEY_REFUSED);
  }
  if (res.status >= 400) {
    const err = (json ?? {}) as { code?: string; message?: string };
    throw new ApiError(res.status, err.code ?? `HTTP_${res.status}`, err.message ?? `HTTP ${res.status}`);
  }
  return { status: res.status, body: json as T };
}

export const get = <T>(path: string): Promise<T> => call<T>('GET', path).then((a) => a.body);
export const post = <T>(path: string, body?: unknown): Promise<Answer<T>> =>
  call<T>('POST', path, body ?? {});

/** A path segment, encoded. */
export const seg = encodeURIComponent;
