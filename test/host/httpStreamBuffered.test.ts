/**
 * An app without `enableHttpStream` keeps the buffered path: its programming model announces no
 * server of its own, and a request body sent in chunks reaches it whole, as before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHost } from '../../host/host';
import { startPatternsHost } from '../support/durable';

let host: RunningHost;
let key: string;
beforeAll(async () => {
  host = await startPatternsHost();
  key = String(host.keys.functionKeys.default);
});
afterAll(async () => host?.close());

describe('an app without HTTP streams', () => {
  it('announces no HTTP server of its own', () => {
    expect(host.core.capabilities.HttpUri).toBeUndefined();
  });

  it('gets a chunked request body whole and answers with a buffered response', async () => {
    const payload = JSON.stringify({ text: 'x'.repeat(200 * 1024) });
    const encoded = new TextEncoder().encode(payload);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < encoded.length; i += 16 * 1024)
          controller.enqueue(encoded.slice(i, i + 16 * 1024));
        controller.close();
      },
    });
    const res = await fetch(`${host.url}/api/echo`, {
      method: 'POST',
      headers: { 'x-functions-key': key, 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(201);
    expect(res.headers.get('content-length')).not.toBeNull();
    const answer = (await res.json()) as { received: { text: string } };
    expect(answer.received.text).toHaveLength(200 * 1024);
  });
});
