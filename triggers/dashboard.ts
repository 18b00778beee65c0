/**
 * The dashboard's shell: `GET /api/dashboard/{*path}` serves the built files of `ui/` (dist/ui).
 * Anonymous on purpose: the shell holds no data. Every call the page makes goes to the keyed API
 * with the function key the user gives it, so on Azure the dashboard works behind the same keys.
 */
import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { promises as fs } from 'node:fs';
import path from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
};

/**
 * The page may talk to this origin only, and no other site may frame it. No referrer: the page's
 * first URL can carry the key as `?code=` until the page takes it out of the address bar.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

function notFound(): HttpResponseInit {
  return {
    status: 404,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS },
    body: 'Not found.',
  };
}

/**
 * The file a request path names inside `root`, or undefined when it could leave `root` or names
 * something the dashboard does not serve (hidden files, unknown types).
 */
export function resolveAsset(root: string, requested: string | undefined): string | undefined {
  const relative = requested ?? '';
  if (relative === '' || relative === '/') return path.join(root, 'index.html');
  if (/[\\\0]/.test(relative) || relative.startsWith('/')) return undefined;
  const segments = relative.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..' || s.startsWith('.'))) return undefined;
  if (!CONTENT_TYPES[path.extname(relative).toLowerCase()]) return undefined;
  const full = path.resolve(root, ...segments);
  return full.startsWith(path.resolve(root) + path.sep) ? full : undefined;
}

/**
 * Where the dashboard lives on this host (`<prefix>/dashboard/`), so the page's relative URLs and its
 * API calls work under any route prefix, with or without a trailing slash.
 */
function baseHref(request: HttpRequest): string {
  const pathname = new URL(request.url).pathname;
  const match = /^(.*?\/dashboard)(\/|$)/.exec(pathname);
  return `${match ? match[1] : '/api/dashboard'}/`;
}

const BASE_TAG = /<base href="[^"]*" data-dashboard-base\s*\/?>/;

/** A handler serving the files under `root` (dist/ui in the app). */
export function dashboardFiles(root: string) {
  return async (request: HttpRequest): Promise<HttpResponseInit> => {
    const file = resolveAsset(root, request.params.path);
    if (!file) return notFound();
    let bytes: Buffer;
    try {
      // Symbolic links must not lead out of the dashboard either.
      const real = await fs.realpath(file);
      if (!real.startsWith((await fs.realpath(root)) + path.sep)) return notFound();
      if (!(await fs.stat(real)).isFile()) return notFound();
      bytes = await fs.readFile(real);
    } catch {
      return notFound();
    }
    const type = CONTENT_TYPES[path.extname(file).toLowerCase()];
    const headers: Record<string, string> = {
      'Content-Type': type,
      // File names carry no version, so the browser asks again each time (cheap, and never stale).
      'Cache-Control': 'no-cache',
      ...SECURITY_HEADERS,
    };
    if (path.basename(file) === 'index.html') {
      const html = bytes
        .toString('utf8')
        .replace(BASE_TAG, `<base href="${baseHref(request)}" data-dashboard-base>`);
      // The shell page is never stored: its URL may have carried the key.
      return { status: 200, headers: { ...headers, 'Cache-Control': 'no-store' }, body: html };
    }
    return { status: 200, headers, body: bytes };
  };
}

app.http('dashboard', {
  route: 'dashboard/{*path}',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: dashboardFiles(path.resolve(__dirname, '..', 'ui')),
});
