import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DataverseClient, DataverseError } from '../../lib/dataverse';
import { retryAfterMs } from '../../lib/dataverse/client';

const credential = {
  scopes: [] as string[],
  async getToken(scope: string | string[]) {
    this.scopes.push(String(scope));
    return { token: 'test-token', expiresOnTimestamp: Date.now() + 3600_000 };
  },
};

let server: http.Server | undefined;
afterEach(() => server?.close());

async function serve(answers: { status: number; headers?: Record<string, string>; body?: unknown }[]) {
  const seen: { at: number; auth?: string; url?: string }[] = [];
  server = http.createServer((req, res) => {
    seen.push({ at: Date.now(), auth: req.headers.authorization, url: req.url });
    const a = answers.shift() ?? { status: 500 };
    res.writeHead(a.status, { 'Content-Type': 'application/json', ...a.headers });
    res.end(a.body === undefined ? '' : JSON.stringify(a.body));
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('DataverseClient retries and errors', () => {
  it('asks for a token for {url}/.default and retries a 429 after Retry-After', async () => {
    const { url, seen } = await serve([
      {
        status: 429,
        headers: { 'Retry-After': '1' },
        body: { error: { code: '0x80072322', message: 'Number of requests exceeded' } },
      },
      { status: 200, body: { UserId: 'u', BusinessUnitId: 'b', OrganizationId: 'o' } },
    ]);
    const client = new DataverseClient(url, credential);
    const me = await client.whoAmI();
    expect(me.UserId).toBe('u');
    expect(credential.scopes.at(-1)).toBe(`${url}/.default`);
    expect(seen).toHaveLength(2);
    expect(seen[0].auth).toBe('Bearer test-token');
    expect(seen[1].at - seen[0].at).toBeGreaterThanOrEqual(950);
  });

  it('backs off on its own when a 503 has no Retry-After, instead of retrying at once', async () => {
    const busy = { status: 503, body: { error: { code: '0x80072321', message: 'busy' } } };
    const { url, seen } = await serve([
      busy,
      busy,
      { status: 200, body: { UserId: 'u', BusinessUnitId: 'b', OrganizationId: 'o' } },
    ]);
    const client = new DataverseClient(url, credential);
    expect((await client.whoAmI()).UserId).toBe('u');
    expect(seen).toHaveLength(3);
    // The client's own backoff: 500 ms, then 1 s.
    expect(seen[1].at - seen[0].at).toBeGreaterThanOrEqual(450);
    expect(seen[2].at - seen[1].at).toBeGreaterThanOrEqual(950);
  });

  it('reads Retry-After as seconds or as an HTTP date, and ignores what it cannot read', () => {
    const now = Date.parse('2026-12-04T10:00:00Z');
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs('0', now)).toBe(0);
    expect(retryAfterMs('Fri, 04 Dec 2026 10:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('Fri, 04 Dec 2026 09:59:00 GMT', now)).toBe(0);
    for (const unreadable of [null, '', '  ', 'soon', '-1', '1.5'])
      expect(retryAfterMs(unreadable, now)).toBeUndefined();
  });

  it('gives up after its bounded retries with a typed error carrying the Dataverse code', async () => {
    const throttled = {
      status: 503,
      headers: { 'Retry-After': '0' },
      body: { error: { code: '0x80072321', message: 'busy' } },
    };
    const { url, seen } = await serve([throttled, throttled, throttled]);
    const client = new DataverseClient(url, credential, { maxRetries: 2 });
    const err = await client.whoAmI().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataverseError);
    expect(err).toMatchObject({ statusCode: 503, code: '0x80072321' });
    // Transient, with the service's last Retry-After, for a caller that can wait longer.
    expect((err as DataverseError).transient).toEqual({ service: 'Dataverse', retryAfterMs: 0 });
    expect(seen).toHaveLength(3);
  });

  it('does not retry a client error', async () => {
    const { url, seen } = await serve([
      { status: 404, body: { error: { code: '0x80040217', message: 'contact With Id = x Does Not Exist' } } },
    ]);
    const client = new DataverseClient(url, credential);
    const err = (await client
      .retrieve('contacts', '00000000-0000-0000-0000-000000000001')
      .catch((e: unknown) => e)) as DataverseError;
    expect(err.isNotFound).toBe(true);
    expect(err.code).toBe('0x80040217');
    expect(seen).toHaveLength(1);
    expect(seen[0].url).toBe('/api/data/v9.2/contacts(00000000-0000-0000-0000-000000000001)');
  });

  it('addresses records by alternate key with escaped values', async () => {
    const { url, seen } = await serve([{ status: 200, body: { contactid: 'x' } }]);
    await new DataverseClient(url, credential).retrieve('contacts', { emailaddress1: "o'neil@example.com" });
    expect(decodeURIComponent(String(seen[0].url))).toBe(
      "/api/data/v9.2/contacts(emailaddress1='o''neil@example.com')",
    );
  });
});
