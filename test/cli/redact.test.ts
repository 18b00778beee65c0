/**
 * blc never prints a secret it was given: a password in `--url` (`user:pw@`), a function key in
 * `--url`'s `?code=`, or the key of `--key` / BLC_KEY — not when the app cannot be reached, not when
 * the URL is refused, and not when the server's error answer echoes what blc sent (here a tiny
 * server that echoes the request, as a proxy in front of an app may). What blc sends is unchanged:
 * the key as x-functions-key, `code` in the query, and the user name and password as Basic auth.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blcEnv, runBlc, type BlcRun } from '../support/blc';

const PASSWORD = 'pw-h0rse-battery';
const CODE = 'SECRET-code-4711';
const KEY = 'KEY-from-env-0815';

/** Everything blc printed, both streams. */
const printed = (run: BlcRun): string => run.out + run.err;

function expectNoSecret(run: BlcRun): void {
  for (const secret of [PASSWORD, CODE, KEY, encodeURIComponent(PASSWORD)])
    expect(printed(run)).not.toContain(secret);
}

/** Answers 502 with the request's URL and headers in the message, the way a careless proxy does. */
let echo: http.Server;
let echoUrl: string;
const seen: { url?: string; headers: http.IncomingHttpHeaders }[] = [];
beforeAll(async () => {
  echo = http.createServer((req, res) => {
    seen.push({ url: req.url, headers: req.headers });
    res.writeHead(502, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        code: 'UPSTREAM_FAILED',
        message: `upstream refused http://${req.headers.host ?? ''}${req.url ?? ''} (${String(req.headers.authorization)}, key ${String(req.headers['x-functions-key'])})`,
      }),
    );
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoUrl = `127.0.0.1:${(echo.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => echo.close(() => resolve())));

describe('blc redacts what it was given', () => {
  it('prints neither the password nor the code of an unreachable --url (exit 3)', async () => {
    const run = await runBlc(['list', '--url', `http://user:${PASSWORD}@127.0.0.1:1/?code=${CODE}`]);
    expect(run.code).toBe(3);
    expect(run.err.trim().split('\n')).toHaveLength(1);
    expect(run.err).toMatch(/^blc: UNREACHABLE: cannot reach http:\/\/\S+@127\.0\.0\.1:1\/\?code=\S+ \(/);
    expectNoSecret(run);
  });

  it('prints neither of them when it refuses a --url that is not http(s) (exit 2)', async () => {
    const run = await runBlc(['list', '--url', `ftp://user:${PASSWORD}@files.example/?code=${CODE}`]);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/^blc: USAGE: --url must be an http\(s\) URL, got 'ftp:\/\/\S+@files\.example\//);
    expectNoSecret(run);
  });

  it('prints no secret when an error answer echoes the request, and still sends them all', async () => {
    seen.length = 0;
    const run = await runBlc(
      ['status', 'i-1', '--url', `http://ada:${encodeURIComponent(PASSWORD)}@${echoUrl}/?code=${CODE}`],
      { env: blcEnv({ BLC_KEY: KEY }) },
    );
    expect(run.code).toBe(1);
    expect(run.err).toMatch(
      /^blc: UPSTREAM_FAILED: upstream refused http:\/\/127\.0\.0\.1:\d+\/api\/instances\/i-1\?code=/,
    );
    expectNoSecret(run);
    expect(printed(run)).not.toContain(Buffer.from(`ada:${PASSWORD}`).toString('base64'));

    // What reached the server: the path under /api with the code kept, the key, and Basic auth.
    expect(seen).toHaveLength(1);
    expect(seen[0].url).toBe(`/api/instances/i-1?code=${CODE}`);
    expect(seen[0].headers['x-functions-key']).toBe(KEY);
    expect(seen[0].headers.authorization).toBe(`Basic ${Buffer.from(`ada:${PASSWORD}`).toString('base64')}`);
  });
});
