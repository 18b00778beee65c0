import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamicsWebApi } from 'dynamics-web-api';
import { SchemaError, startDataverseSim, type DataverseSim } from '../../../sim/dataverse';
import { call, startSim, webApi } from './support';

let sim: DataverseSim;
let client: DynamicsWebApi;
let dir: string;

const schema = {
  tables: [
    {
      logicalName: 'lc_goal',
      entitySetName: 'lc_goals',
      primaryIdAttribute: 'lc_goalid',
      primaryNameAttribute: 'lc_name',
      displayName: 'Goal',
      attributes: [
        { logicalName: 'lc_name', type: 'String', maxLength: 200 },
        { logicalName: 'lc_code', type: 'String', maxLength: 20 },
        { logicalName: 'lc_progress', type: 'Integer' },
        { logicalName: 'lc_due', type: 'DateOnly' },
        {
          logicalName: 'lc_clientid',
          type: 'Lookup',
          targets: [{ entity: 'contact', navigationProperty: 'lc_ClientId' }],
        },
      ],
      keys: [{ logicalName: 'lc_goal_code', attributes: ['lc_code'] }],
    },
  ],
};

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dataverse-sim-'));
  const file = path.join(dir, 'schema.json');
  fs.writeFileSync(file, JSON.stringify(schema));
  sim = await startSim({ schemaFile: file });
  client = webApi(sim);
});
afterAll(async () => {
  await sim.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('EntityDefinitions', () => {
  it('lists the built-in tables and the schema-file tables', async () => {
    const res = await call(
      sim,
      'EntityDefinitions?$select=LogicalName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute',
    );
    expect(res.status).toBe(200);
    expect(res.json['@odata.context']).toBe(
      `${sim.apiUrl}/$metadata#EntityDefinitions(LogicalName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute)`,
    );
    const byName = new Map<string, Record<string, unknown>>(
      res.json.value.map((e: Record<string, unknown>) => [String(e.LogicalName), e]),
    );
    for (const [logicalName, set, id, name] of [
      ['contact', 'contacts', 'contactid', 'fullname'],
      ['account', 'accounts', 'accountid', 'name'],
      ['appointment', 'appointments', 'activityid', 'subject'],
      ['task', 'tasks', 'activityid', 'subject'],
      ['lc_session', 'lc_sessions', 'lc_sessionid', 'lc_name'],
      ['lc_goal', 'lc_goals', 'lc_goalid', 'lc_name'],
    ]) {
      expect(byName.get(logicalName)).toMatchObject({
        EntitySetName: set,
        PrimaryIdAttribute: id,
        PrimaryNameAttribute: name,
      });
    }
  });

  it('filters definitions and reads one with its Attributes and Keys', async () => {
    const filtered = await call(
      sim,
      "EntityDefinitions?$select=LogicalName&$filter=LogicalName eq 'lc_session'",
    );
    expect(filtered.json.value).toHaveLength(1);
    const res = await call(
      sim,
      "EntityDefinitions(LogicalName='contact')?$select=LogicalName,EntitySetName&$expand=Attributes($select=LogicalName,AttributeType),Keys",
    );
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ LogicalName: 'contact', EntitySetName: 'contacts' });
    const emailAttribute = res.json.Attributes.find(
      (a: { LogicalName: string }) => a.LogicalName === 'emailaddress1',
    );
    expect(emailAttribute).toMatchObject({
      '@odata.type': '#Microsoft.Dynamics.CRM.StringAttributeMetadata',
      AttributeType: 'String',
    });
    expect(res.json.Keys).toEqual([
      expect.objectContaining({ LogicalName: 'contact_emailaddress1', KeyAttributes: ['emailaddress1'] }),
    ]);
  });

  it('serves Attributes as a sub-collection, one attribute by LogicalName, and reads through dynamics-web-api', async () => {
    const attributes = await call(
      sim,
      "EntityDefinitions(LogicalName='lc_session')/Attributes?$select=LogicalName&$filter=AttributeType eq 'Lookup'",
    );
    expect(attributes.json.value.map((a: { LogicalName: string }) => a.LogicalName).sort()).toEqual([
      'createdby',
      'lc_appointmentid',
      'lc_clientid',
      'modifiedby',
      'ownerid',
    ]);
    const one = await call(
      sim,
      "EntityDefinitions(LogicalName='lc_session')/Attributes(LogicalName='lc_clientid')",
    );
    expect(one.json).toMatchObject({
      LogicalName: 'lc_clientid',
      AttributeType: 'Lookup',
      Targets: ['contact'],
    });
    const entity = await client.retrieveEntity({ key: "LogicalName='lc_goal'", select: ['EntitySetName'] });
    expect(entity.EntitySetName).toBe('lc_goals');
    const all = await client.retrieveEntities({ select: ['LogicalName'] });
    expect(all.value.length).toBeGreaterThanOrEqual(6);
  });

  it("answers an unknown table with Dataverse's 404", async () => {
    const res = await call(sim, "EntityDefinitions(LogicalName='nope')");
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe('0x8006088a');
  });
});

describe('tables from a schema file', () => {
  it('work like built-in tables: create, alternate key, lookup, query', async () => {
    const contactId = await client.create<object, string>({
      collection: 'contacts',
      data: { lastname: 'Goalie' },
    });
    await client.create({
      collection: 'lc_goals',
      data: {
        lc_name: 'Run 5k',
        lc_code: 'G-1',
        lc_progress: 40,
        lc_due: '2030-06-01',
        'lc_ClientId@odata.bind': `/contacts(${contactId})`,
      },
    });
    const goal = await client.retrieve({
      collection: 'lc_goals',
      key: "lc_code='G-1'",
      select: ['lc_name', 'lc_due', '_lc_clientid_value'],
    });
    expect(goal).toMatchObject({ lc_name: 'Run 5k', lc_due: '2030-06-01', _lc_clientid_value: contactId });
    const query = await call(
      sim,
      `lc_goals?$filter=lc_progress ge 40 and _lc_clientid_value eq ${contactId}&$select=lc_name`,
    );
    expect(query.json.value).toHaveLength(1);
    const duplicate = await call(sim, 'lc_goals', {
      method: 'POST',
      body: { lc_name: 'Again', lc_code: 'G-1' },
    });
    expect(duplicate.status).toBe(412);
  });

  it('are refused with a clear error when the file is wrong', async () => {
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(
      bad,
      JSON.stringify({
        tables: [
          {
            ...schema.tables[0],
            logicalName: 'lc_bad',
            entitySetName: 'lc_bads',
            attributes: [{ logicalName: 'lc_name', type: 'Text' }],
          },
        ],
      }),
    );
    await expect(startDataverseSim({ schemaFile: bad })).rejects.toThrow(SchemaError);
    await expect(startDataverseSim({ schemaFile: bad })).rejects.toThrow(/'Text' is not one of/);
    const dangling = path.join(dir, 'dangling.json');
    fs.writeFileSync(
      dangling,
      JSON.stringify({
        tables: [
          {
            ...schema.tables[0],
            logicalName: 'lc_x',
            entitySetName: 'lc_xs',
            attributes: [
              { logicalName: 'lc_name', type: 'String' },
              { logicalName: 'lc_ref', type: 'Lookup', target: 'nothing' },
            ],
            keys: [],
          },
        ],
      }),
    );
    await expect(startDataverseSim({ schemaFile: dangling })).rejects.toThrow(/looks up 'nothing'/);
  });
});

describe('service document', () => {
  it('lists the entity sets', async () => {
    const res = await call(sim, '');
    expect(res.json.value).toEqual(
      expect.arrayContaining([{ name: 'lc_sessions', kind: 'EntitySet', url: 'lc_sessions' }]),
    );
  });
});
