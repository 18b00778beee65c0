/**
 * The simulator refuses what Dataverse refuses on a write, with Dataverse's status and error code,
 * through every write path (POST, PATCH as update, PATCH as upsert-create), and serves the metadata
 * that says so (RequiredLevel, MaxLength, MinValue/MaxValue, OptionSet, lookup targets and their
 * navigation properties).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataverseSim } from '../../../sim/dataverse';
import { call, startSim } from './support';

let sim: DataverseSim;
let account: string;

beforeAll(async () => {
  sim = await startSim({
    tables: [
      {
        logicalName: 'lc_goal',
        entitySetName: 'lc_goals',
        primaryNameAttribute: 'lc_name',
        attributes: [
          { logicalName: 'lc_name', type: 'String', maxLength: 100 },
          { logicalName: 'lc_code', type: 'String', maxLength: 20, requiredLevel: 'SystemRequired' },
        ],
        keys: [{ logicalName: 'lc_goal_name', attributes: ['lc_name'] }],
      },
    ],
  });
  const res = await call(sim, 'accounts', { method: 'POST', body: { name: 'Enforced Ltd' } });
  account = /\(([0-9a-f-]{36})\)/.exec(String(res.headers.get('odata-entityid')))?.[1] ?? '';
});
afterAll(() => sim.close());

/** The same body through each write path: create, update of an existing record, upsert that creates. */
async function writes(table: string, existing: string, body: Record<string, unknown>, key: string) {
  return {
    post: await call(sim, table, { method: 'POST', body }),
    patch: await call(sim, `${table}(${existing})`, { method: 'PATCH', body, headers: { 'If-Match': '*' } }),
    upsert: await call(sim, `${table}(${key})`, { method: 'PATCH', body }),
  };
}

describe('writes the platform refuses', () => {
  it('an unknown column: 400 0x80048d19, the property does not exist on the type', async () => {
    for (const res of Object.values(
      await writes('accounts', account, { telephone: '+31 33 555 1003' }, "accountnumber='NEW-1'"),
    )) {
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe('0x80048d19');
      expect(res.json.error.message).toContain(
        "The property 'telephone' does not exist on type 'Microsoft.Dynamics.CRM.account'",
      );
    }
  });

  it('a text over MaxLength: 400 0x80044331 naming the column and the length', async () => {
    for (const res of Object.values(
      await writes('accounts', account, { accountnumber: 'x'.repeat(21) }, "accountnumber='NEW-2'"),
    )) {
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe('0x80044331');
      expect(res.json.error.message).toContain(
        "The length of the 'accountnumber' attribute of the 'account' entity exceeded the maximum allowed length of '20'",
      );
    }
  });

  it('a whole number outside MinValue..MaxValue: 400 0x8004432f (IntegerValueOutOfRange)', async () => {
    for (const value of [-1, 1_000_000_001]) {
      for (const res of Object.values(
        await writes('accounts', account, { numberofemployees: value }, "accountnumber='NEW-3'"),
      )) {
        expect(res.status).toBe(400);
        expect(res.json.error.code).toBe('0x8004432f');
      }
    }
    const ok = await call(sim, `accounts(${account})`, {
      method: 'PATCH',
      body: { numberofemployees: 1_000_000_000 },
    });
    expect(ok.status).toBe(204);
  });

  it('a choice value not in the option set: 400 0x8004431a', async () => {
    const contact = await call(sim, 'contacts', { method: 'POST', body: { lastname: 'Choice' } });
    const id = /\(([0-9a-f-]{36})\)/.exec(String(contact.headers.get('odata-entityid')))?.[1];
    for (const res of Object.values(
      await writes(
        'contacts',
        String(id),
        { preferredcontactmethodcode: 9 },
        "emailaddress1='choice@example.com'",
      ),
    )) {
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe('0x8004431a');
    }
  });

  it('a lookup to a record that does not exist: 404 0x80040217', async () => {
    const missing = '00000000-0000-4000-8000-00000000dead';
    for (const res of Object.values(
      await writes(
        'accounts',
        account,
        { 'primarycontactid@odata.bind': `/contacts(${missing})` },
        "accountnumber='NEW-4'",
      ),
    )) {
      expect(res.status).toBe(404);
      expect(res.json.error.code).toBe('0x80040217');
      expect(res.json.error.message).toBe(`contact With Id = ${missing} Does Not Exist`);
    }
  });

  it('a SystemRequired column left empty: 400 0x80040200 on create, on upsert-create and when cleared', async () => {
    const create = await call(sim, 'lc_goals', { method: 'POST', body: { lc_name: 'No code' } });
    expect(create.status).toBe(400);
    expect(create.json.error.code).toBe('0x80040200');
    expect(create.json.error.message).toContain("'lc_code'");
    const upsert = await call(sim, "lc_goals(lc_name='Upserted')", { method: 'PATCH', body: {} });
    expect(upsert.status).toBe(400);
    expect(upsert.json.error.code).toBe('0x80040200');
    const made = await call(sim, 'lc_goals', { method: 'POST', body: { lc_name: 'Coded', lc_code: 'G1' } });
    expect(made.status).toBe(204);
    const cleared = await call(sim, "lc_goals(lc_name='Coded')", {
      method: 'PATCH',
      body: { lc_code: null },
      headers: { 'If-Match': '*' },
    });
    expect(cleared.status).toBe(400);
    expect(cleared.json.error.code).toBe('0x80040200');
  });
});

describe('writes the platform lets through', () => {
  it('an ApplicationRequired column left empty (Dataverse leaves that to forms)', async () => {
    const res = await call(sim, 'accounts', { method: 'POST', body: { accountnumber: 'NO-NAME' } });
    expect(res.status).toBe(204);
  });

  it('a read-only column: ignored, the platform keeps its own value', async () => {
    const res = await call(sim, 'contacts', {
      method: 'POST',
      body: {
        firstname: 'Read',
        lastname: 'Only',
        fullname: 'Someone Else',
        createdon: '2001-01-01T00:00:00Z',
      },
      headers: { Prefer: 'return=representation' },
    });
    expect(res.status).toBe(201);
    expect(res.json.fullname).toBe('Read Only');
    expect(res.json.createdon).not.toBe('2001-01-01T00:00:00Z');
  });
});

describe('the metadata that describes these rules', () => {
  it('Attributes carry RequiredLevel, MaxLength, MinValue/MaxValue, IsValidForCreate/Update and Targets', async () => {
    const res = await call(
      sim,
      "EntityDefinitions(LogicalName='account')?$select=LogicalName&$expand=Attributes",
    );
    expect(res.status).toBe(200);
    const byName = new Map<string, Record<string, unknown>>(
      res.json.Attributes.map((a: Record<string, unknown>) => [String(a.LogicalName), a]),
    );
    expect(byName.get('name')).toMatchObject({
      AttributeType: 'String',
      MaxLength: 160,
      RequiredLevel: { Value: 'ApplicationRequired' },
      IsValidForCreate: true,
      IsValidForUpdate: true,
    });
    expect(byName.get('numberofemployees')).toMatchObject({
      AttributeType: 'Integer',
      MinValue: 0,
      MaxValue: 1_000_000_000,
      RequiredLevel: { Value: 'None' },
    });
    expect(byName.get('accountid')).toMatchObject({ RequiredLevel: { Value: 'SystemRequired' } });
    expect(byName.get('createdon')).toMatchObject({ IsValidForCreate: false, IsValidForUpdate: false });
    expect(byName.get('primarycontactid')).toMatchObject({ AttributeType: 'Lookup', Targets: ['contact'] });
  });

  it('choice columns: their OptionSet through a type cast, as the Web API serves it', async () => {
    const res = await call(
      sim,
      "EntityDefinitions(LogicalName='contact')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet($select=Options)",
    );
    expect(res.status).toBe(200);
    expect(res.json.value).toHaveLength(1);
    const [picklist] = res.json.value;
    expect(picklist.LogicalName).toBe('preferredcontactmethodcode');
    expect(picklist.OptionSet.Options.map((o: { Value: number }) => o.Value)).toEqual([1, 2, 3, 4, 5]);
    expect(picklist.OptionSet.Options[1].Label.UserLocalizedLabel.Label).toBe('Email');
    const status = await call(
      sim,
      "EntityDefinitions(LogicalName='task')/Attributes/Microsoft.Dynamics.CRM.StatusAttributeMetadata?$expand=OptionSet",
    );
    expect(status.json.value[0].OptionSet.Options.map((o: { Value: number }) => o.Value)).toContain(7);
    const wrong = await call(
      sim,
      "EntityDefinitions(LogicalName='contact')/Attributes/Microsoft.Dynamics.CRM.StringAttributeMetadata?$expand=OptionSet",
    );
    expect(wrong.status).toBe(400);
    expect((await call(sim, "EntityDefinitions(LogicalName='contact')/Attributes/Nope")).status).toBe(404);
  });

  it('ManyToOneRelationships name the navigation property each lookup is bound through', async () => {
    const res = await call(
      sim,
      "EntityDefinitions(LogicalName='contact')?$select=LogicalName&$expand=ManyToOneRelationships($select=ReferencingAttribute,ReferencedEntity,ReferencingEntityNavigationPropertyName)",
    );
    expect(res.status).toBe(200);
    expect(res.json.ManyToOneRelationships).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          ReferencingAttribute: 'parentcustomerid',
          ReferencedEntity: 'account',
          ReferencingEntityNavigationPropertyName: 'parentcustomerid_account',
        }),
        expect.objectContaining({
          ReferencingAttribute: 'parentcustomerid',
          ReferencedEntity: 'contact',
          ReferencingEntityNavigationPropertyName: 'parentcustomerid_contact',
        }),
      ]),
    );
  });
});
