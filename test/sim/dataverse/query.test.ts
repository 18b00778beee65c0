import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamicsWebApi } from 'dynamics-web-api';
import type { DataverseSim } from '../../../sim/dataverse';
import { call, startSim, webApi } from './support';

let sim: DataverseSim;
let client: DynamicsWebApi;

interface Person {
  firstname: string;
  lastname: string;
  emailaddress1?: string;
  address1_city?: string;
  birthdate?: string;
  donotemail?: boolean;
  preferredcontactmethodcode?: number;
}

const people: Person[] = [
  {
    firstname: 'Anna',
    lastname: 'Alder',
    address1_city: 'Utrecht',
    birthdate: '1980-03-01',
    donotemail: false,
    preferredcontactmethodcode: 2,
  },
  {
    firstname: 'Bram',
    lastname: 'Birch',
    address1_city: 'Zeist',
    birthdate: '1975-07-15',
    donotemail: true,
    preferredcontactmethodcode: 3,
  },
  {
    firstname: 'Cora',
    lastname: 'Cedar',
    address1_city: 'Utrecht',
    birthdate: '1990-12-24',
    donotemail: false,
    preferredcontactmethodcode: 2,
  },
  {
    firstname: 'Dirk',
    lastname: 'Dogwood',
    birthdate: '1969-01-30',
    donotemail: false,
    preferredcontactmethodcode: 1,
  },
  { firstname: 'Eva', lastname: "O'Elm", address1_city: 'Houten', donotemail: true },
];

async function names(path: string): Promise<string[]> {
  const res = await call(sim, path);
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.text}`);
  return (res.json.value as { firstname: string }[]).map((r) => r.firstname);
}

beforeAll(async () => {
  sim = await startSim();
  client = webApi(sim);
  for (const person of people) await client.create({ collection: 'contacts', data: person });
});
afterAll(() => sim.close());

describe('$select', () => {
  it('returns only the selected columns, the primary id and the etag', async () => {
    const res = await call(sim, "contacts?$select=firstname&$filter=lastname eq 'Alder'");
    expect(res.json['@odata.context']).toBe(`${sim.apiUrl}/$metadata#contacts(firstname)`);
    expect(Object.keys(res.json.value[0]).sort()).toEqual(['@odata.etag', 'contactid', 'firstname']);
  });

  it('returns every column without $select', async () => {
    const res = await call(sim, "contacts?$filter=lastname eq 'Alder'");
    expect(res.json['@odata.context']).toBe(`${sim.apiUrl}/$metadata#contacts`);
    expect(res.json.value[0]).toMatchObject({
      firstname: 'Anna',
      fullname: 'Anna Alder',
      birthdate: '1980-03-01',
      donotemail: false,
      statecode: 0,
      statuscode: 1,
    });
    expect(res.json.value[0].createdon).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(res.json.value[0]._ownerid_value).toBe(sim.identity.userId);
  });

  it('formats choice, boolean and date values on request', async () => {
    const res = await call(
      sim,
      "contacts?$select=preferredcontactmethodcode,donotemail&$filter=lastname eq 'Birch'",
      {
        headers: { Prefer: 'odata.include-annotations="OData.Community.Display.V1.FormattedValue"' },
      },
    );
    expect(res.json.value[0]['preferredcontactmethodcode@OData.Community.Display.V1.FormattedValue']).toBe(
      'Phone',
    );
    expect(res.json.value[0]['donotemail@OData.Community.Display.V1.FormattedValue']).toBe('Yes');
  });
});

describe('$filter', () => {
  it('compares with eq, ne, gt, ge, lt, le', async () => {
    expect(await names("contacts?$filter=firstname eq 'Cora'")).toEqual(['Cora']);
    expect((await names("contacts?$filter=address1_city ne 'Utrecht'")).sort()).toEqual(['Bram', 'Eva']);
    expect(await names('contacts?$filter=preferredcontactmethodcode gt 2')).toEqual(['Bram']);
    expect((await names('contacts?$filter=preferredcontactmethodcode ge 2')).sort()).toEqual([
      'Anna',
      'Bram',
      'Cora',
    ]);
    expect(await names('contacts?$filter=preferredcontactmethodcode lt 2')).toEqual(['Dirk']);
    expect((await names('contacts?$filter=preferredcontactmethodcode le 2')).sort()).toEqual([
      'Anna',
      'Cora',
      'Dirk',
    ]);
  });

  it('compares text without regard to case, as Dataverse does', async () => {
    expect(await names("contacts?$filter=firstname eq 'cORA'")).toEqual(['Cora']);
  });

  it('combines conditions with and, or, not and parentheses', async () => {
    expect(await names("contacts?$filter=address1_city eq 'Utrecht' and birthdate gt 1985-01-01")).toEqual([
      'Cora',
    ]);
    expect((await names("contacts?$filter=firstname eq 'Anna' or firstname eq 'Eva'")).sort()).toEqual([
      'Anna',
      'Eva',
    ]);
    expect(
      (await names("contacts?$filter=not (address1_city eq 'Utrecht') and donotemail eq true")).sort(),
    ).toEqual(['Bram', 'Eva']);
    expect(
      (
        await names("contacts?$filter=(firstname eq 'Anna' or firstname eq 'Bram') and donotemail eq false")
      ).sort(),
    ).toEqual(['Anna']);
  });

  it('supports contains, startswith and endswith, escaping quotes', async () => {
    expect(await names("contacts?$filter=contains(lastname,'edar')")).toEqual(['Cora']);
    expect(await names("contacts?$filter=startswith(lastname,'dog')")).toEqual(['Dirk']);
    expect(await names("contacts?$filter=endswith(lastname,'rch')")).toEqual(['Bram']);
    expect(await names("contacts?$filter=lastname eq 'O''Elm'")).toEqual(['Eva']);
    expect(await names("contacts?$filter=contains(lastname,'%25')")).toEqual([]);
  });

  it('checks for null and not null', async () => {
    expect(await names('contacts?$filter=address1_city eq null')).toEqual(['Dirk']);
    expect((await names('contacts?$filter=birthdate ne null and address1_city ne null')).sort()).toEqual([
      'Anna',
      'Bram',
      'Cora',
    ]);
  });

  it('understands date and date-time literals', async () => {
    expect((await names('contacts?$filter=birthdate lt 1976-01-01')).sort()).toEqual(['Bram', 'Dirk']);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect(await names(`contacts?$filter=createdon gt ${future}`)).toEqual([]);
    expect(await names(`contacts?$filter=createdon lt ${future} and firstname eq 'Anna'`)).toEqual(['Anna']);
    expect(await names(`contacts?$filter=createdon ge 2020-01-01T00:00:00Z and firstname eq 'Anna'`)).toEqual(
      ['Anna'],
    );
  });

  it('filters lookups by their _value property with GUID literals and accepts parameter aliases', async () => {
    const accountId = await client.create<object, string>({
      collection: 'accounts',
      data: { name: 'Employer' },
    });
    await client.create({
      collection: 'contacts',
      data: {
        firstname: 'Fay',
        lastname: 'Fir',
        'parentcustomerid_account@odata.bind': `accounts(${accountId})`,
      },
    });
    expect(await names(`contacts?$filter=_parentcustomerid_value eq ${accountId}`)).toEqual(['Fay']);
    expect(await names(`contacts?$filter=_parentcustomerid_value eq @p1&@p1=${accountId}`)).toEqual(['Fay']);
  });

  it('works through dynamics-web-api', async () => {
    const result = await client.retrieveMultiple<{ fullname: string }>({
      collection: 'contacts',
      select: ['fullname'],
      filter: "startswith(firstname,'A') or firstname eq 'Bram'",
      orderBy: ['fullname desc'],
    });
    expect(result.value.map((r) => r.fullname)).toEqual(['Bram Birch', 'Anna Alder']);
  });
});

describe('$orderby, $top, $count', () => {
  it('orders ascending and descending, on several columns', async () => {
    expect(
      await names('contacts?$select=firstname&$filter=lastname ne null&$orderby=lastname desc&$top=3'),
    ).toEqual(['Eva', 'Fay', 'Dirk']);
    expect(
      await names(
        "contacts?$select=firstname&$filter=address1_city eq 'Utrecht'&$orderby=address1_city,firstname desc",
      ),
    ).toEqual(['Cora', 'Anna']);
  });

  it('limits rows with $top and counts all matches with $count', async () => {
    const res = await call(
      sim,
      "contacts?$select=firstname&$filter=address1_city eq 'Utrecht'&$top=1&$count=true",
    );
    expect(res.json['@odata.count']).toBe(2);
    expect(res.json.value).toHaveLength(1);
    expect(res.json['@odata.nextLink']).toBeUndefined();
  });

  it('answers /$count with a plain number', async () => {
    const res = await call(sim, 'contacts/$count');
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(Number(res.text)).toBeGreaterThanOrEqual(6);
    expect(await client.count({ collection: 'contacts', filter: "address1_city eq 'Utrecht'" })).toBe(2);
  });
});

describe('paging', () => {
  it('pages with Prefer: odata.maxpagesize and follows @odata.nextLink to the end', async () => {
    const first = await call(sim, 'contacts?$select=firstname&$orderby=firstname&$count=true', {
      headers: { Prefer: 'odata.maxpagesize=2' },
    });
    expect(first.headers.get('preference-applied')).toBe('odata.maxpagesize=2');
    expect(first.json.value.map((r: { firstname: string }) => r.firstname)).toEqual(['Anna', 'Bram']);
    expect(first.json['@odata.count']).toBe(6);
    const next: string = first.json['@odata.nextLink'];
    expect(
      next.startsWith(`${sim.apiUrl}/contacts?$select=firstname&$orderby=firstname&$count=true&$skiptoken=`),
    ).toBe(true);
    expect(decodeURIComponent(next.split('$skiptoken=')[1])).toMatch(
      /^<cookie pagenumber="2" pagingcookie="/,
    );
    const seen: string[] = [];
    let url: string | undefined = next;
    let pages = 1;
    while (url) {
      const page = await call(sim, url, { headers: { Prefer: 'odata.maxpagesize=2' } });
      seen.push(...page.json.value.map((r: { firstname: string }) => r.firstname));
      url = page.json['@odata.nextLink'];
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(['Cora', 'Dirk', 'Eva', 'Fay']);
  });

  it('lets dynamics-web-api page through everything with retrieveAll', async () => {
    const all = await client.retrieveAll<{ firstname: string }>({
      collection: 'contacts',
      select: ['firstname'],
      orderBy: ['firstname'],
      maxPageSize: 4,
    });
    expect(all.value.map((r) => r.firstname)).toEqual(['Anna', 'Bram', 'Cora', 'Dirk', 'Eva', 'Fay']);
  });

  it('pages with retrieveMultiple and an explicit nextLink', async () => {
    const page1 = await client.retrieveMultiple<{ firstname: string }>({
      collection: 'contacts',
      select: ['firstname'],
      orderBy: ['firstname desc'],
      maxPageSize: 5,
    });
    expect(page1.value).toHaveLength(5);
    expect(page1.oDataNextLink).toBeDefined();
    const page2 = await client.retrieveMultiple<{ firstname: string }>(
      { collection: 'contacts', maxPageSize: 5 },
      page1.oDataNextLink,
    );
    expect(page2.value.map((r) => r.firstname)).toEqual(['Anna']);
    expect(page2.oDataNextLink).toBeUndefined();
  });
});

describe('WhoAmI', () => {
  it('returns the business unit, user and organization ids', async () => {
    const res = await call(sim, 'WhoAmI');
    expect(res.json).toEqual({
      '@odata.context': `${sim.apiUrl}/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse`,
      BusinessUnitId: sim.identity.businessUnitId,
      UserId: sim.identity.userId,
      OrganizationId: sim.identity.organizationId,
    });
    const viaClient = await client.callFunction<{ UserId: string }>('WhoAmI');
    expect(viaClient.UserId).toBe(sim.identity.userId);
    const user = await client.retrieve({
      collection: 'systemusers',
      key: viaClient.UserId,
      select: ['fullname'],
    });
    expect(user.fullname).toBeTruthy();
  });
});
