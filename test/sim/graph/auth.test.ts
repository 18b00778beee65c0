import { GraphError, ResponseType } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGraphSim } from '../../../sim/graph';
import { trust, type TrustedSim } from './support';

let graph: TrustedSim;
beforeAll(async () => {
  graph = await trust(await startGraphSim({ seed: 'demo' }));
});
afterAll(async () => graph?.close());

interface ErrorBody {
  error: {
    code: string;
    message: string;
    innerError: { date: string; 'request-id': string; 'client-request-id': string };
  };
}

const CHALLENGE =
  'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"';

describe('authentication', () => {
  it('answers 401 InvalidAuthenticationToken with a WWW-Authenticate challenge when no bearer token is sent', async () => {
    const res = await graph.fetch('/v1.0/users');

    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(CHALLENGE);
    const body = (await res.json()) as ErrorBody;
    expect(body.error.code).toBe('InvalidAuthenticationToken');
    expect(body.error.message).toBe('Access token is empty.');
    expect(body.error.innerError['request-id']).toBe(res.headers.get('request-id'));
  });

  it('treats another scheme, or Bearer with nothing after it, as no token', async () => {
    for (const authorization of ['Basic dXNlcjpwYXNz', 'Bearer ', 'Bearer']) {
      const res = await graph.fetch('/v1.0/organization', { headers: { Authorization: authorization } });
      expect(res.status, authorization).toBe(401);
    }
  });

  it('accepts any non-empty bearer token', async () => {
    const res = await graph.fetch('/v1.0/organization', { headers: { Authorization: 'Bearer x' } });

    expect(res.status).toBe(200);
  });

  it('gets the Graph client a 401 when the simulator is not among its custom hosts, since the client then withholds its token', async () => {
    const err: unknown = await graph
      .client({ customHosts: false })
      .api('/users')
      .get()
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(GraphError);
    expect((err as GraphError).statusCode).toBe(401);
    expect((err as GraphError).code).toBe('InvalidAuthenticationToken');
  });

  it('resolves the route before the token: an unknown segment is 400 even without credentials', async () => {
    const res = await graph.fetch('/v1.0/groups');

    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error).toMatchObject({
      code: 'BadRequest',
      message: "Resource not found for the segment 'groups'.",
    });
  });
});

describe('request ids', () => {
  it('assigns a request-id and echoes the caller’s client-request-id, in the headers and in innerError', async () => {
    const res = await graph.fetch('/v1.0/users/nobody', {
      headers: { Authorization: 'Bearer x', 'client-request-id': 'c0ffee00-1234-4abc-8def-000000000042' },
    });
    const body = (await res.json()) as ErrorBody;

    expect(res.status).toBe(404);
    expect(res.headers.get('client-request-id')).toBe('c0ffee00-1234-4abc-8def-000000000042');
    expect(res.headers.get('request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.error.innerError['client-request-id']).toBe('c0ffee00-1234-4abc-8def-000000000042');
    expect(body.error.innerError['request-id']).toBe(res.headers.get('request-id'));
  });

  it('uses the request-id as client-request-id when the caller sends none, and a new one per request', async () => {
    const first = await graph.fetch('/v1.0/organization', { headers: { Authorization: 'Bearer x' } });
    const second = await graph.fetch('/v1.0/organization', { headers: { Authorization: 'Bearer x' } });

    expect(first.headers.get('client-request-id')).toBe(first.headers.get('request-id'));
    expect(second.headers.get('request-id')).not.toBe(first.headers.get('request-id'));
  });

  it('carries both ids and OData JSON on a successful call made by the Graph client', async () => {
    const res = (await graph.client().api('/organization').responseType(ResponseType.RAW).get()) as Response;

    expect(res.status).toBe(200);
    expect(res.headers.get('request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('client-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('content-type')).toMatch(/^application\/json;odata\.metadata=minimal/);
  });
});
