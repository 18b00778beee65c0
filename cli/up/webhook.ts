/**
 * Registers the app's Dataverse webhook in an environment through the Web API, as a deployment script
 * would: one service endpoint (WebhookKey auth) and the steps the app routes (a new contact, a new or
 * moved session). Idempotent: the endpoint is found by name and updated (the app's URL or secret may
 * have changed), and a step that already exists is kept. It never deletes anything.
 */

export const ENDPOINT_NAME = 'Life Cockpit (blc up)';

interface StepSpec {
  message: 'Create' | 'Update';
  entity: string;
  filteringattributes?: string;
  /** A pre-image, so an update routes only when a watched column really changed. */
  preImage?: boolean;
}

export const APP_STEPS: StepSpec[] = [
  { message: 'Create', entity: 'contact' },
  { message: 'Create', entity: 'lc_session' },
  {
    message: 'Update',
    entity: 'lc_session',
    filteringattributes: 'lc_starttime,lc_endtime,lc_location',
    preImage: true,
  },
];

export class WebhookRegistrationError extends Error {
  readonly code = 'WEBHOOK_REGISTRATION_FAILED';
}

type Row = Record<string, unknown>;

class WebApi {
  constructor(
    private readonly apiUrl: string,
    private readonly token: string,
  ) {}

  private async call(method: string, path: string, body?: Row): Promise<Response> {
    const res = await fetch(`${this.apiUrl}/${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${this.token}`,
        Accept: 'application/json',
        'OData-Version': '4.0',
        ...(body ? { 'Content-Type': 'application/json', Prefer: 'return=representation' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok)
      throw new WebhookRegistrationError(`${method} ${path} answered ${res.status}: ${await res.text()}`);
    return res;
  }

  async list(set: string, query: string): Promise<Row[]> {
    const res = await this.call('GET', `${set}?${query}`);
    return ((await res.json()) as { value: Row[] }).value;
  }

  async create(set: string, data: Row): Promise<Row> {
    return (await (await this.call('POST', set, data)).json()) as Row;
  }

  async update(set: string, id: string, data: Row): Promise<void> {
    await this.call('PATCH', `${set}(${id})`, data);
  }
}

const q = (s: string): string => `'${s.replace(/'/g, "''")}'`;

async function one(api: WebApi, set: string, idColumn: string, filter: string): Promise<string> {
  const [row] = await api.list(set, `$select=${idColumn}&$filter=${encodeURIComponent(filter)}`);
  if (!row) throw new WebhookRegistrationError(`No ${set} record matches ${filter}.`);
  return String(row[idColumn]);
}

export interface Registration {
  endpointId: string;
  stepIds: string[];
  /** Steps created by this call (an existing one is kept as it is). */
  created: number;
}

export async function registerAppWebhook(options: {
  apiUrl: string;
  token: string;
  /** Where Dataverse posts: `<app>/api/webhooks/dataverse`. */
  url: string;
  /** The WebhookKey secret (DATAVERSE_WEBHOOK_SECRET). */
  secret: string;
}): Promise<Registration> {
  const api = new WebApi(options.apiUrl, options.token);
  const endpoint = {
    name: ENDPOINT_NAME,
    url: options.url,
    contract: 8,
    authtype: 4,
    authvalue: options.secret,
  };
  const [existing] = await api.list(
    'serviceendpoints',
    `$select=serviceendpointid&$filter=${encodeURIComponent(`name eq ${q(ENDPOINT_NAME)}`)}`,
  );
  let endpointId: string;
  if (existing) {
    endpointId = String(existing.serviceendpointid);
    await api.update('serviceendpoints', endpointId, endpoint);
  } else {
    endpointId = String((await api.create('serviceendpoints', endpoint)).serviceendpointid);
  }

  const stepIds: string[] = [];
  let created = 0;
  for (const spec of APP_STEPS) {
    const name = `Life Cockpit: ${spec.message} of ${spec.entity}`;
    const [step] = await api.list(
      'sdkmessageprocessingsteps',
      `$select=sdkmessageprocessingstepid&$filter=${encodeURIComponent(`name eq ${q(name)}`)}`,
    );
    if (step) {
      stepIds.push(String(step.sdkmessageprocessingstepid));
      continue;
    }
    const messageId = await one(api, 'sdkmessages', 'sdkmessageid', `name eq ${q(spec.message)}`);
    const filterId = await one(
      api,
      'sdkmessagefilters',
      'sdkmessagefilterid',
      `primaryobjecttypecode eq ${q(spec.entity)} and _sdkmessageid_value eq ${messageId}`,
    );
    const stepId = String(
      (
        await api.create('sdkmessageprocessingsteps', {
          name,
          mode: 1,
          stage: 40,
          rank: 1,
          supporteddeployment: 0,
          asyncautodelete: false,
          filteringattributes: spec.filteringattributes ?? null,
          'sdkmessageid@odata.bind': `/sdkmessages(${messageId})`,
          'sdkmessagefilterid@odata.bind': `/sdkmessagefilters(${filterId})`,
          'eventhandler_serviceendpoint@odata.bind': `/serviceendpoints(${endpointId})`,
        })
      ).sdkmessageprocessingstepid,
    );
    if (spec.preImage)
      await api.create('sdkmessageprocessingstepimages', {
        name: 'PreImage',
        entityalias: 'PreImage',
        imagetype: 0,
        messagepropertyname: 'Target',
        attributes: spec.filteringattributes ?? null,
        'sdkmessageprocessingstepid@odata.bind': `/sdkmessageprocessingsteps(${stepId})`,
      });
    stepIds.push(stepId);
    created++;
  }
  return { endpointId, stepIds, created };
}
