import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamicsWebApi } from 'dynamics-web-api';
import type { DataverseSim } from '../../../sim/dataverse';
import { call, idFromEntityId, startSim, webApi } from './support';

let sim: DataverseSim;
let client: DynamicsWebApi;

beforeAll(async () => {
  sim = await startSim();
  client = webApi(sim);
});
afterAll(() => sim.close());

describe('create', () => {
  it('answers 204 with OData-EntityId naming the new record', async () => {
    const res = await call(sim, 'contacts', {
      method: 'POST',
      body: { firstname: 'Ada', lastname: 'Lovelace' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('odata-version')).toBe('4.0');
    const entityId = res.headers.get('odata-entityid');
    expect(entityId).toMatch(new RegExp(`^${sim.apiUrl}/contacts\\([0-9a-f-]{36}\\)$`));
    const got = await call(sim, `contacts(${idFromEntityId(entityId)})?$select=fullname`);
    expect(got.json.fullname).toBe('Ada Lovelace');
  });

  it('returns the id through dynamics-web-api', async () => {
    const id = await client.create<object, string>({
      collection: 'contacts',
      data: { firstname: 'Grace', lastname: 'Hopper' },
    });
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const contact = await client.retrieve({
      collection: 'contacts',
      key: id,
      select: ['fullname'],
    });
    expect(contact.fullname).toBe('Grace Hopper');
  });

  it('answers 201 with the record under Prefer: return=representation', async () => {
    const res = await call(sim, 'contacts?$select=firstname,lastname,fullname', {
      method: 'POST',
      headers: { Prefer: 'return=representation' },
      body: { firstname: 'Alan', lastname: 'Turing', emailaddress1: 'alan@example.org' },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('preference-applied')).toBe('return=representation');
    expect(res.headers.get('odata-entityid')).toBeNull();
    expect(res.json['@odata.context']).toBe(
      `${sim.apiUrl}/$metadata#contacts(firstname,lastname,fullname)/$entity`,
    );
    expect(res.json['@odata.etag']).toMatch(/^W\/"\d+"$/);
    expect(res.json).toMatchObject({ firstname: 'Alan', lastname: 'Turing', fullname: 'Alan Turing' });
    expect(res.json.contactid).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.json).not.toHaveProperty('emailaddress1');
  });

  it('honours a client-supplied primary key', async () => {
    const id = '11111111-2222-4333-8444-555555555555';
    const res = await call(sim, 'accounts', { method: 'POST', body: { accountid: id, name: 'Contoso' } });
    expect(res.status).toBe(204);
    expect(res.headers.get('odata-entityid')).toBe(`${sim.apiUrl}/accounts(${id})`);
    expect((await client.retrieve({ collection: 'accounts', key: id, select: ['name'] })).name).toBe(
      'Contoso',
    );
  });

  it("refuses a duplicate primary key with Dataverse's duplicate error", async () => {
    const id = 'aaaaaaaa-2222-4333-8444-555555555555';
    await call(sim, 'accounts', { method: 'POST', body: { accountid: id, name: 'First' } });
    const res = await call(sim, 'accounts', { method: 'POST', body: { accountid: id, name: 'Second' } });
    expect(res.status).toBe(412);
    expect(res.json).toEqual({
      error: { code: '0x80040237', message: 'A record with matching key values already exists.' },
    });
  });

  it('refuses a second record with the same alternate key value', async () => {
    await call(sim, 'contacts', {
      method: 'POST',
      body: { lastname: 'One', emailaddress1: 'same@example.org' },
    });
    const res = await call(sim, 'contacts', {
      method: 'POST',
      body: { lastname: 'Two', emailaddress1: 'SAME@example.org' },
    });
    expect(res.status).toBe(412);
    expect(res.json.error.code).toBe('0x80060892');
    expect(res.json.error.message).toContain('contact_emailaddress1');
  });

  it('sets lookups through @odata.bind and reads them back as _name_value', async () => {
    const accountId = await client.create({ collection: 'accounts', data: { name: 'Fabrikam' } });
    const contactId = await client.create({
      collection: 'contacts',
      data: {
        lastname: 'Employee',
        'parentcustomerid_account@odata.bind': `/accounts(${String(accountId)})`,
      },
    });
    const res = await call(sim, `contacts(${String(contactId)})?$select=_parentcustomerid_value`, {
      headers: { Prefer: 'odata.include-annotations="*"' },
    });
    expect(res.json._parentcustomerid_value).toBe(accountId);
    expect(res.json['_parentcustomerid_value@OData.Community.Display.V1.FormattedValue']).toBe('Fabrikam');
    expect(res.json['_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname']).toBe('account');
    expect(res.json['_parentcustomerid_value@Microsoft.Dynamics.CRM.associatednavigationproperty']).toBe(
      'parentcustomerid_account',
    );
    expect(res.headers.get('preference-applied')).toBe('odata.include-annotations="*"');
  });

  it('refuses a bind to a record that does not exist', async () => {
    const missing = '99999999-9999-4999-8999-999999999999';
    const res = await call(sim, 'lc_sessions', {
      method: 'POST',
      body: { lc_name: 'Orphan', 'lc_ClientId@odata.bind': `/contacts(${missing})` },
    });
    expect(res.status).toBe(404);
    expect(res.json.error).toEqual({
      code: '0x80040217',
      message: `contact With Id = ${missing} Does Not Exist`,
    });
  });
});

describe('retrieve', () => {
  it('reads a record by id and by alternate key', async () => {
    const id = await client.create({
      collection: 'contacts',
      data: { firstname: 'Key', lastname: 'Holder', emailaddress1: 'a@b.c' },
    });
    const byKey = await client.retrieve({
      collection: 'contacts',
      key: "emailaddress1='a@b.c'",
      select: ['fullname'],
    });
    expect(byKey.contactid).toBe(id);
    expect(byKey.fullname).toBe('Key Holder');
    const wire = await call(sim, "contacts(emailaddress1='a%40b.c')?$select=lastname");
    expect(wire.status).toBe(200);
    expect(wire.json.lastname).toBe('Holder');
  });

  it('answers 404 with ObjectDoesNotExist for a missing id', async () => {
    const missing = '12345678-1234-4234-8234-123456789012';
    const res = await call(sim, `contacts(${missing})`);
    expect(res.status).toBe(404);
    expect(res.json).toEqual({
      error: { code: '0x80040217', message: `contact With Id = ${missing} Does Not Exist` },
    });
  });

  it('refuses a key segment that is not an alternate key of the table', async () => {
    const res = await call(sim, "contacts(lastname='Holder')");
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('0x80060890');
  });

  it('answers 304 to If-None-Match with the current etag, 200 once the record changed', async () => {
    const created = await call(sim, 'contacts', {
      method: 'POST',
      headers: { Prefer: 'return=representation' },
      body: { lastname: 'Cached' },
    });
    const etag: string = created.json['@odata.etag'];
    const unchanged = await call(sim, `contacts(${String(created.json.contactid)})`, {
      headers: { 'If-None-Match': etag },
    });
    expect(unchanged.status).toBe(304);
    await call(sim, `contacts(${String(created.json.contactid)})`, {
      method: 'PATCH',
      body: { lastname: 'Changed' },
    });
    const changed = await call(sim, `contacts(${String(created.json.contactid)})`, {
      headers: { 'If-None-Match': etag },
    });
    expect(changed.status).toBe(200);
    expect(changed.json.lastname).toBe('Changed');
  });

  it('reads, sets and clears a single column', async () => {
    const id = String(
      await client.create({ collection: 'contacts', data: { lastname: 'Column', jobtitle: 'Nurse' } }),
    );
    expect((await call(sim, `contacts(${id})/jobtitle`)).json.value).toBe('Nurse');
    expect(
      (await call(sim, `contacts(${id})/jobtitle`, { method: 'PUT', body: { value: 'Doctor' } })).status,
    ).toBe(204);
    expect((await call(sim, `contacts(${id})/jobtitle`)).json.value).toBe('Doctor');
    expect((await call(sim, `contacts(${id})/jobtitle`, { method: 'DELETE' })).status).toBe(204);
    expect((await call(sim, `contacts(${id})/jobtitle`)).status).toBe(204);
  });
});

describe('update and etags', () => {
  it('puts an @odata.etag on every record and changes it on every write', async () => {
    const created = await call(sim, 'contacts', {
      method: 'POST',
      headers: { Prefer: 'return=representation' },
      body: { lastname: 'Versioned' },
    });
    const id = String(created.json.contactid);
    const first: string = created.json['@odata.etag'];
    await call(sim, `contacts(${id})`, { method: 'PATCH', body: { firstname: 'Vera' } });
    const second: string = (await call(sim, `contacts(${id})`)).json['@odata.etag'];
    expect(second).toMatch(/^W\/"\d+"$/);
    expect(second).not.toBe(first);
    const list = await call(sim, `contacts?$select=lastname&$filter=contactid eq ${id}`);
    expect(list.json.value[0]['@odata.etag']).toBe(second);
  });

  it('updates with PATCH (204) and returns the record under return=representation (200)', async () => {
    const id = String(
      await client.create({ collection: 'contacts', data: { firstname: 'Old', lastname: 'Name' } }),
    );
    const plain = await call(sim, `contacts(${id})`, { method: 'PATCH', body: { firstname: 'New' } });
    expect(plain.status).toBe(204);
    const updated = await client.update<object, { fullname: string }>({
      collection: 'contacts',
      key: id,
      data: { lastname: 'Surname' },
      returnRepresentation: true,
      select: ['fullname'],
    });
    expect(updated.fullname).toBe('New Surname');
  });

  it('applies If-Match: a current etag succeeds, a stale one gets 412 ConcurrencyVersionMismatch', async () => {
    const created = await call(sim, 'contacts', {
      method: 'POST',
      headers: { Prefer: 'return=representation' },
      body: { lastname: 'Guarded' },
    });
    const id = String(created.json.contactid);
    const etag: string = created.json['@odata.etag'];
    expect(
      (
        await call(sim, `contacts(${id})`, {
          method: 'PATCH',
          headers: { 'If-Match': etag },
          body: { firstname: 'A' },
        })
      ).status,
    ).toBe(204);
    const stale = await call(sim, `contacts(${id})`, {
      method: 'PATCH',
      headers: { 'If-Match': etag },
      body: { firstname: 'B' },
    });
    expect(stale.status).toBe(412);
    expect(stale.json).toEqual({
      error: {
        code: '0x80060882',
        message: "The version of the existing record doesn't match the RowVersion property provided.",
      },
    });
    const staleDelete = await call(sim, `contacts(${id})`, {
      method: 'DELETE',
      headers: { 'If-Match': etag },
    });
    expect(staleDelete.status).toBe(412);
    expect((await call(sim, `contacts(${id})?$select=firstname`)).json.firstname).toBe('A');
  });

  it('reports the stale etag to dynamics-web-api as a 412 error', async () => {
    const id = String(await client.create({ collection: 'contacts', data: { lastname: 'Client' } }));
    await expect(
      client.update({ collection: 'contacts', key: id, data: { lastname: 'X' }, ifmatch: 'W/"1"' }),
    ).rejects.toMatchObject({
      status: 412,
      code: '0x80060882',
    });
  });
});

describe('upsert', () => {
  it('creates the record a PATCH names when it does not exist', async () => {
    const id = 'bbbbbbbb-2222-4333-8444-555555555555';
    const res = await call(sim, `contacts(${id})`, { method: 'PATCH', body: { lastname: 'Upserted' } });
    expect(res.status).toBe(204);
    expect(res.headers.get('odata-entityid')).toBe(`${sim.apiUrl}/contacts(${id})`);
    expect((await call(sim, `contacts(${id})?$select=lastname`)).json.lastname).toBe('Upserted');
  });

  it('creates by alternate key, setting the key column', async () => {
    const res = await call(sim, "contacts(emailaddress1='new.client@example.org')", {
      method: 'PATCH',
      headers: { Prefer: 'return=representation' },
      body: { lastname: 'ByKey' },
    });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ lastname: 'ByKey', emailaddress1: 'new.client@example.org' });
    const again = await call(sim, "contacts(emailaddress1='new.client@example.org')", {
      method: 'PATCH',
      body: { firstname: 'Then' },
    });
    expect(again.status).toBe(204);
    const all = await call(
      sim,
      "contacts?$filter=emailaddress1 eq 'new.client@example.org'&$select=fullname",
    );
    expect(all.json.value).toHaveLength(1);
    expect(all.json.value[0].fullname).toBe('Then ByKey');
  });

  it('If-Match: * prevents the create (404) but allows the update', async () => {
    const missing = 'cccccccc-2222-4333-8444-555555555555';
    const res = await call(sim, `contacts(${missing})`, {
      method: 'PATCH',
      headers: { 'If-Match': '*' },
      body: { lastname: 'Nope' },
    });
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe('0x80040217');
    expect((await call(sim, `contacts(${missing})`)).status).toBe(404);
    const id = String(await client.create({ collection: 'contacts', data: { lastname: 'Exists' } }));
    expect(
      (
        await call(sim, `contacts(${id})`, {
          method: 'PATCH',
          headers: { 'If-Match': '*' },
          body: { lastname: 'Updated' },
        })
      ).status,
    ).toBe(204);
  });

  it('If-None-Match: * prevents the update (412 duplicate) but allows the create', async () => {
    const id = String(await client.create({ collection: 'contacts', data: { lastname: 'Original' } }));
    const res = await call(sim, `contacts(${id})`, {
      method: 'PATCH',
      headers: { 'If-None-Match': '*' },
      body: { lastname: 'Overwritten' },
    });
    expect(res.status).toBe(412);
    expect(res.json.error).toEqual({
      code: '0x80040237',
      message: 'A record with matching key values already exists.',
    });
    expect((await call(sim, `contacts(${id})?$select=lastname`)).json.lastname).toBe('Original');
    const fresh = 'dddddddd-2222-4333-8444-555555555555';
    expect(
      (
        await call(sim, `contacts(${fresh})`, {
          method: 'PATCH',
          headers: { 'If-None-Match': '*' },
          body: { lastname: 'Fresh' },
        })
      ).status,
    ).toBe(204);
  });

  it('works through dynamics-web-api upsert', async () => {
    const id = 'eeeeeeee-2222-4333-8444-555555555555';
    await client.upsert({ collection: 'accounts', key: id, data: { name: 'Upsert Inc' } });
    await client.upsert({ collection: 'accounts', key: id, data: { numberofemployees: 12 } });
    const account = await client.retrieve({
      collection: 'accounts',
      key: id,
      select: ['name', 'numberofemployees'],
    });
    expect(account).toMatchObject({ name: 'Upsert Inc', numberofemployees: 12 });
  });
});

describe('delete', () => {
  it('deletes a record (204) and then answers 404 for it', async () => {
    const id = String(await client.create({ collection: 'tasks', data: { subject: 'Temporary' } }));
    expect((await call(sim, `tasks(${id})`, { method: 'DELETE' })).status).toBe(204);
    expect((await call(sim, `tasks(${id})`)).status).toBe(404);
    expect((await call(sim, `tasks(${id})`, { method: 'DELETE' })).status).toBe(404);
  });

  it('deletes by alternate key through dynamics-web-api', async () => {
    await client.create({ collection: 'accounts', data: { name: 'Gone', accountnumber: 'DEL-1' } });
    await client.deleteRecord({ collection: 'accounts', key: "accountnumber='DEL-1'" });
    expect((await call(sim, "accounts(accountnumber='DEL-1')")).status).toBe(404);
  });

  it("applies each referring relationship's CascadeConfiguration.Delete, as its metadata says", async () => {
    const created = async (set: string, body: object): Promise<string> =>
      idFromEntityId((await call(sim, set, { method: 'POST', body })).headers.get('odata-entityid'));
    const person = await created('contacts', { lastname: 'Referred' });
    const company = await created('accounts', {
      name: 'Referring',
      'primarycontactid@odata.bind': `/contacts(${person})`,
    });
    const employee = await created('contacts', {
      lastname: 'Employed',
      'parentcustomerid_account@odata.bind': `/accounts(${company})`,
    });
    const relationships = (
      await call(sim, "EntityDefinitions(LogicalName='account')?$expand=ManyToOneRelationships")
    ).json.ManyToOneRelationships as { ReferencingAttribute: string; CascadeConfiguration: unknown }[];
    expect(
      relationships.find((r) => r.ReferencingAttribute === 'primarycontactid')?.CascadeConfiguration,
    ).toEqual({ Delete: 'RemoveLink' });
    const companyBefore = (await call(sim, `accounts(${company})`)).json;

    // Referential (RemoveLink): the account stays, its lookup is cleared, and that is a write of its own.
    expect((await call(sim, `contacts(${person})`, { method: 'DELETE' })).status).toBe(204);
    const companyAfter = (await call(sim, `accounts(${company})`)).json;
    expect(companyBefore._primarycontactid_value).toBe(person);
    expect(companyAfter._primarycontactid_value).toBeNull();
    expect(companyAfter['@odata.etag']).not.toBe(companyBefore['@odata.etag']);

    // Parental (Cascade): deleting the company deletes its contacts.
    expect((await call(sim, `accounts(${company})`, { method: 'DELETE' })).status).toBe(204);
    expect((await call(sim, `contacts(${employee})`)).status).toBe(404);
  });
});
