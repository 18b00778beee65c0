/**
 * The dashboard's HTTP function without a browser: what it serves from its folder, with which
 * content type and caching, and that nothing outside the folder can be reached.
 */
import { HttpRequest } from '@azure/functions';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardFiles } from '../../triggers/dashboard';

let dir: string;
let serve: ReturnType<typeof dashboardFiles>;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'dashboard-'));
  const root = path.join(dir, 'ui');
  mkdirSync(path.join(root, 'pages'), { recursive: true });
  writeFileSync(
    path.join(root, 'index.html'),
    '<html><head><base href="/api/dashboard/" data-dashboard-base /></head></html>',
  );
  writeFileSync(path.join(root, 'app.js'), 'export {};');
  writeFileSync(path.join(root, 'pages', 'one.js'), 'export const one = 1;');
  writeFileSync(path.join(root, 'dashboard.css'), 'body {}');
  writeFileSync(path.join(root, 'notes.txt'), 'not an asset type');
  writeFileSync(path.join(root, '.hidden.js'), 'hidden');
  writeFileSync(path.join(dir, 'secret.js'), 'outside the dashboard');
  symlinkSync(path.join(dir, 'secret.js'), path.join(root, 'link.js'));
  serve = dashboardFiles(root);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function get(pathParam: string | undefined, url = 'http://localhost:7071/api/dashboard') {
  const request = new HttpRequest({
    method: 'GET',
    url,
    params: pathParam === undefined ? {} : { path: pathParam },
  });
  const res = await serve(request);
  const headers = new Headers(res.headers as Record<string, string>);
  const body = Buffer.isBuffer(res.body) ? res.body.toString('utf8') : String(res.body ?? '');
  return { status: res.status ?? 200, headers, body };
}

describe('the dashboard function', () => {
  it('answers the shell page for the empty path, with its base set to where it is served', async () => {
    for (const [param, url] of [
      [undefined, 'http://localhost:7071/api/dashboard?code=k'],
      ['', 'http://localhost:7071/api/dashboard/'],
      ['index.html', 'https://app.example/prefix/dashboard/index.html'],
    ] as const) {
      const res = await get(param, url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      // The page may carry the key in its address: never stored, never sent on as a referrer.
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      const base = url.startsWith('https') ? '/prefix/dashboard/' : '/api/dashboard/';
      expect(res.body).toContain(`<base href="${base}" data-dashboard-base>`);
    }
  });

  it('serves scripts and styles with their content types', async () => {
    const js = await get('app.js');
    expect(js).toMatchObject({ status: 200, body: 'export {};' });
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('no-cache');
    expect(js.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await get('pages/one.js')).body).toBe('export const one = 1;');
    const css = await get('dashboard.css');
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('answers 404 for unknown files, folders, other file types and hidden files', async () => {
    for (const p of ['missing.js', 'pages', 'pages/', 'notes.txt', '.hidden.js', 'pages/../.hidden.js'])
      expect((await get(p)).status, p).toBe(404);
  });

  it('never serves anything outside its folder', async () => {
    for (const p of [
      '../secret.js',
      'pages/../../secret.js',
      '/etc/passwd.js',
      '..\\secret.js',
      'pages\\..\\..\\secret.js',
      'link.js',
      'app.js\0.css',
    ]) {
      const res = await get(p);
      expect(res.status, p).toBe(404);
      expect(res.body).not.toContain('outside the dashboard');
    }
  });
});
