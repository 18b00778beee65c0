/**
 * Redaction, channel by channel, without a host: the redactor itself, which settings are secrets,
 * the log hook, the API's error answers, and the processors that clean telemetry before export.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readSettings } from '../../lib/config/settings';
import { ApiError, answering, errorResponse } from '../../lib/api/errors';
import { REDACTED, Redactor, onLogLine, secretsOf, type Telemetry } from '../../lib/telemetry';
import { RedactingLogRecordProcessor, RedactingSpanProcessor } from '../../lib/telemetry/processors';
import { TELEMETRY_OFF } from '../../lib/telemetry/types';

const WEBHOOK_SECRET = 'hook-secret-3f9a1c';
const ACCOUNT_KEY = 'c2VjcmV0LWFjY291bnQta2V5LWZvci10ZXN0cw==';

beforeAll(() => {
  // The process-wide redactor reads these on first use, like the app does at start-up.
  process.env.DATAVERSE_WEBHOOK_SECRET = WEBHOOK_SECRET;
  process.env.AzureWebJobsStorage = `DefaultEndpointsProtocol=http;AccountName=dev;AccountKey=${ACCOUNT_KEY};BlobEndpoint=http://127.0.0.1:10000/dev;`;
});

describe('the redactor', () => {
  const redactor = new Redactor(['s3cr3t-value/+=', 'short', undefined, '']);

  it('replaces a secret wherever it appears, also URL-encoded and JSON-escaped', () => {
    expect(redactor.text('a s3cr3t-value/+= b s3cr3t-value/+=')).toBe(`a ${REDACTED} b ${REDACTED}`);
    expect(redactor.text(`?x=${encodeURIComponent('s3cr3t-value/+=')}`)).toBe(`?x=${REDACTED}`);
    const quoted = new Redactor(['with"quote']);
    expect(quoted.text(JSON.stringify({ v: 'with"quote' }))).toBe(`{"v":"${REDACTED}"}`);
  });

  it('leaves values too short to be secrets alone', () => {
    expect(redactor.text('a short text')).toBe('a short text');
  });

  it('replaces secret-shaped tokens whatever their value', () => {
    expect(redactor.text('Authorization: Bearer eyJhbGciOi.abc-def_ghi')).toBe(
      `Authorization: Bearer ${REDACTED}`,
    );
    expect(redactor.text('AccountName=a;AccountKey=abc123==;EndpointSuffix=x')).toBe(
      `AccountName=a;AccountKey=${REDACTED};EndpointSuffix=x`,
    );
    expect(redactor.text('https://a.blob.core.windows.net/c?sv=1&sig=abc%2B&se=2')).toBe(
      `https://a.blob.core.windows.net/c?sv=1&sig=${REDACTED}&se=2`,
    );
    expect(redactor.text('/api/instances?code=key123')).toBe(`/api/instances?code=${REDACTED}`);
  });

  it('redacts every string of a value, keys included, without changing the original', () => {
    const input = {
      a: ['s3cr3t-value/+='],
      's3cr3t-value/+=': 1,
      n: 2,
      nested: { e: new Error('s3cr3t-value/+=') },
    };
    const out = redactor.value(input);
    expect(out).toEqual({
      a: [REDACTED],
      [REDACTED]: 1,
      n: 2,
      nested: { e: { name: 'Error', message: REDACTED } },
    });
    expect(input.a[0]).toBe('s3cr3t-value/+=');
  });

  it('copies an object met twice twice, and cuts only real cycles', () => {
    const shared = ['s3cr3t-value/+='];
    const looped: Record<string, unknown> = { name: 'loop' };
    looped.self = looped;
    expect(redactor.value({ a: shared, b: { c: shared } })).toEqual({ a: [REDACTED], b: { c: [REDACTED] } });
    expect(redactor.value(looped)).toEqual({ name: 'loop', self: REDACTED });
  });

  it('copies an error with its message and stack redacted', () => {
    const err = new TypeError('failed with s3cr3t-value/+=');
    const copy = redactor.error(err);
    expect(copy.name).toBe('TypeError');
    expect(copy.message).toBe(`failed with ${REDACTED}`);
    expect(copy.stack).not.toContain('s3cr3t-value/+=');
    expect(err.message).toContain('s3cr3t-value/+=');
  });
});

describe('the secrets of the settings', () => {
  it('are the client secrets, tokens, webhook secret and storage keys, not the identifiers', () => {
    const settings = readSettings({
      DATAVERSE_TENANT_ID: 'tenant-0001',
      DATAVERSE_CLIENT_ID: 'client-0001',
      DATAVERSE_CLIENT_SECRET: 'dataverse-client-secret',
      GRAPH_CLIENT_SECRET: 'graph-client-secret',
      DATAVERSE_WEBHOOK_SECRET: 'webhook-secret',
      AzureWebJobsStorage:
        'AccountName=dev;AccountKey=key-of-the-account;SharedAccessSignature=sv=1&sig=sas-signature',
      APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=00000000-0000-0000-0000-000000000001',
    });
    expect(secretsOf(settings).sort()).toEqual(
      [
        'dataverse-client-secret',
        'graph-client-secret',
        'webhook-secret',
        'key-of-the-account',
        'sv=1&sig=sas-signature',
      ].sort(),
    );
    expect(
      secretsOf(readSettings({ DATAVERSE_TOKEN: 'simulator-token', GRAPH_TOKEN: 'graph-token' })),
    ).toEqual(['simulator-token', 'graph-token']);
  });
});

describe('log lines', () => {
  it('are redacted in place, and recorded as traces only when the app records requests', () => {
    const traces: string[] = [];
    const recording: Telemetry = {
      ...TELEMETRY_OFF,
      recordsRequests: true,
      trace: (m) => void traces.push(m),
    };
    const line = {
      category: 'user',
      level: 'information',
      message: `key ${ACCOUNT_KEY} and ${WEBHOOK_SECRET}`,
    };
    onLogLine(line, recording);
    expect(line.message).toBe(`key ${REDACTED} and ${REDACTED}`);
    expect(traces).toEqual([line.message]);

    const hostLine = { category: 'user', level: 'warning', message: `again ${WEBHOOK_SECRET}` };
    onLogLine(hostLine, { ...recording, recordsRequests: false });
    expect(hostLine.message).toBe(`again ${REDACTED}`);
    expect(traces).toHaveLength(1);

    const system = { category: 'system', level: 'information', message: 'host line' };
    onLogLine(system, recording);
    expect(traces).toHaveLength(1);
  });
});

describe('API error answers', () => {
  it('carry no secret in the message or the details', () => {
    const answer = errorResponse(
      ApiError.invalidInput([{ field: 'note', message: `must not be ${WEBHOOK_SECRET}` }]),
    );
    const body = answer.jsonBody as { message: string; details: { message: string }[] };
    expect(body.message).toBe(`The input is not valid: note must not be ${REDACTED}.`);
    expect(body.details[0].message).toBe(`must not be ${REDACTED}`);
  });

  it('log an unexpected error redacted and answer with the invocation only', async () => {
    const logged: unknown[] = [];
    const handler = answering(async () => {
      throw new Error(`storage said AccountKey=${ACCOUNT_KEY}`);
    });
    const context = { invocationId: 'inv-1', functionName: 'f', error: (e: unknown) => logged.push(e) };
    const answer = await handler({} as never, context as never);
    expect(answer.status).toBe(500);
    expect(JSON.stringify(answer.jsonBody)).not.toContain(ACCOUNT_KEY);
    expect((logged[0] as Error).message).toBe(`storage said AccountKey=${REDACTED}`);
    expect(String((logged[0] as Error).stack)).not.toContain(ACCOUNT_KEY);
  });
});

describe('telemetry processors', () => {
  const redactor = new Redactor([WEBHOOK_SECRET]);

  it('redact an ended span: name, attributes, status and events', () => {
    const span = {
      name: `GET ${WEBHOOK_SECRET}`,
      attributes: { 'url.full': `http://x/?code=abc`, n: 1, list: [WEBHOOK_SECRET] },
      status: { code: 2, message: `failed: ${WEBHOOK_SECRET}` },
      events: [{ name: 'exception', attributes: { 'exception.message': WEBHOOK_SECRET } }],
    };
    new RedactingSpanProcessor(redactor).onEnd(span as never);
    expect(JSON.stringify(span)).not.toContain(WEBHOOK_SECRET);
    expect(span.attributes).toEqual({ 'url.full': `http://x/?code=${REDACTED}`, n: 1, list: [REDACTED] });
  });

  it('redact a log record: body and attributes', () => {
    const record = {
      body: `line ${WEBHOOK_SECRET}`,
      attributes: { a: WEBHOOK_SECRET, n: 3 } as Record<string, unknown>,
      setBody(b: string) {
        this.body = b;
      },
      setAttribute(k: string, v: unknown) {
        this.attributes[k] = v;
      },
    };
    new RedactingLogRecordProcessor(redactor).onEmit(record as never);
    expect(record.body).toBe(`line ${REDACTED}`);
    expect(record.attributes).toEqual({ a: REDACTED, n: 3 });
  });
});
