import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamicsWebApi } from 'dynamics-web-api';
import type { DataverseSim } from '../../../sim/dataverse';
import { call, startSim } from './support';

let sim: DataverseSim;

beforeAll(async () => {
  sim = await startSim();
});
afterAll(() => sim.close());

describe('authentication', () => {
  it('answers a request without a bearer token with 401 and a Bearer challenge', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { Authorization: 'Basic dXNlcjpwYXNz' },
      { Authorization: 'Bearer ' },
    ];
    for (const headers of attempts) {
      const res = await call(sim, 'contacts', { auth: false, headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(
        /^Bearer authorization_uri=https:\/\/login\.microsoftonline\.com\/[0-9a-f-]{36}\/oauth2\/authorize, resource_id=http:\/\//,
      );
      expect(res.text).toBe('');
    }
  });

  it('accepts any non-empty bearer token', async () => {
    expect((await call(sim, 'WhoAmI', { auth: false, headers: { Authorization: 'Bearer x' } })).status).toBe(
      200,
    );
  });

  it('reaches dynamics-web-api as a 401 error when it is configured without a token', async () => {
    const anonymous = new DynamicsWebApi({ serverUrl: sim.url });
    await expect(anonymous.retrieveMultiple({ collection: 'contacts' })).rejects.toMatchObject({
      status: 401,
    });
  });
});

describe("bad requests get Dataverse's status and error body", () => {
  it('unknown entity set: 404 Resource not found for the segment', async () => {
    const res = await call(sim, 'Contact');
    expect(res.status).toBe(404);
    expect(res.json).toEqual({
      error: { code: '0x8006088a', message: "Resource not found for the segment 'Contact'." },
    });
  });

  it('malformed JSON: 400 with the payload error', async () => {
    const res = await call(sim, 'contacts', { method: 'POST', rawBody: '{"lastname": "Broken",' });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('0x80048d19');
    expect(res.json.error.message).toMatch(
      /^Error identified in Payload provided by the user for Entity :'contacts'/,
    );
  });

  it('unknown column in the body: 400 payload error naming the property', async () => {
    const res = await call(sim, 'accounts', { method: 'POST', body: { Name: 'Case matters' } });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('0x80048d19');
    expect(res.json.error.message).toContain(
      "The property 'Name' does not exist on type 'Microsoft.Dynamics.CRM.account'",
    );
  });

  it('a lookup set as a plain value or through an unknown navigation property: 400 payload error', async () => {
    const plain = await call(sim, 'contacts', {
      method: 'POST',
      body: { parentcustomerid: '11111111-1111-4111-8111-111111111111' },
    });
    expect(plain.status).toBe(400);
    expect(plain.json.error.code).toBe('0x80048d19');
    const wrongNav = await call(sim, 'contacts', {
      method: 'POST',
      body: { 'parentcustomerid@odata.bind': '/accounts(11111111-1111-4111-8111-111111111111)' },
    });
    expect(wrongNav.status).toBe(400);
    expect(wrongNav.json.error.message).toContain("An undeclared property 'parentcustomerid'");
  });

  it('a value of the wrong type, an unknown choice, a too long text: 400', async () => {
    const wrongType = await call(sim, 'accounts', {
      method: 'POST',
      body: { name: 'X', numberofemployees: 'many' },
    });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json.error.code).toBe('0x80048d19');
    const badChoice = await call(sim, 'contacts', {
      method: 'POST',
      body: { preferredcontactmethodcode: 42 },
    });
    expect(badChoice.status).toBe(400);
    expect(badChoice.json.error.code).toBe('0x8004431a');
    const tooLong = await call(sim, 'contacts', { method: 'POST', body: { firstname: 'x'.repeat(51) } });
    expect(tooLong.status).toBe(400);
    expect(tooLong.json.error.message).toContain("exceeded the maximum allowed length of '50'");
  });

  it('bad $filter syntax: 400 with the OData query error code', async () => {
    for (const filter of [
      "firstname eq 'unterminated",
      'firstname eq',
      'firstname eq 1 and',
      'firstname ~ 1',
      '(firstname eq null',
    ]) {
      const res = await call(sim, `contacts?$filter=${encodeURIComponent(filter)}`);
      expect(res.status, filter).toBe(400);
      expect(res.json.error.code, filter).toBe('0x80060888');
    }
  });

  it('a $filter comparing a column with the wrong type of literal: 400 naming both types', async () => {
    const res = await call(sim, "contacts?$filter=contactid eq 'not-a-guid'");
    expect(res.status).toBe(400);
    expect(res.json.error).toEqual({
      code: '0x80060888',
      message:
        "A binary operator with incompatible types was detected. Found operand types 'Edm.Guid' and 'Edm.String' for operator kind 'Equal'.",
    });
  });

  it('an unknown property in $select, $filter or $orderby: 400 Could not find a property', async () => {
    for (const query of ['$select=Name', "$filter=Name eq 'x'", '$orderby=Name desc']) {
      const res = await call(sim, `accounts?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.json.error, query).toEqual({
        code: '0x80060888',
        message: "Could not find a property named 'Name' on type 'Microsoft.Dynamics.CRM.account'.",
      });
    }
  });

  it('$skip is refused as on Dataverse', async () => {
    const res = await call(sim, 'contacts?$skip=5');
    expect(res.status).toBe(400);
    expect(res.json.error.message).toBe('Skip Clause is not supported in CRM');
  });

  it('$metadata, which the simulator does not implement: 501 saying so', async () => {
    const res = await call(sim, '$metadata');
    expect(res.status).toBe(501);
    expect(res.json.error.code).toBe('0x80040219');
  });

  it('a method the resource does not support: 405', async () => {
    const res = await call(sim, 'contacts', { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.json.error.message).toContain("does not support http method 'DELETE'");
  });

  it('never crashes: garbage paths, keys and bodies all get an answer and the service keeps working', async () => {
    const garbage: [string, string, string | undefined][] = [
      ['GET', "contacts(emailaddress1='x", undefined],
      ['GET', 'contacts(not a key)', undefined],
      ['GET', 'contacts(%E0%A4%A)', undefined],
      ['POST', 'contacts', '[1,2,3]'],
      ['POST', 'contacts', 'null'],
      ['PATCH', 'contacts(11111111-1111-4111-8111-111111111111)', '"text"'],
      ['GET', 'contacts?$top=-1', undefined],
      ['GET', 'contacts?$filter=contains(1,2)', undefined],
      ['GET', "EntityDefinitions(LogicalName='nope')", undefined],
    ];
    for (const [method, path, rawBody] of garbage) {
      const res = await call(sim, path, { method, rawBody });
      expect(res.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${method} ${path}`).toBeLessThan(500);
      expect(res.json.error.code, `${method} ${path}`).toMatch(/^0x[0-9a-f]{8}$/i);
    }
    expect((await call(sim, 'WhoAmI')).status).toBe(200);
  });
});
