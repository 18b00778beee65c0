import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DynamicsWebApi } from 'dynamics-web-api';
import type { DataverseSim } from '../../../sim/dataverse';
import { call, startReceiver, startSim, webApi, type Receiver } from './support';

let sim: DataverseSim;
let client: DynamicsWebApi;
let receiver: Receiver;
const registered: string[] = [];

beforeAll(async () => {
  sim = await startSim();
  client = webApi(sim);
});
afterEach(async () => {
  // Each test registers its own steps; remove them so later changes do not reach old receivers.
  for (const stepId of registered.splice(0)) {
    await client.deleteRecord({ collection: 'sdkmessageprocessingsteps', key: stepId });
  }
  await sim.webhooksIdle();
  await receiver?.close();
});
afterAll(() => sim.close());

interface Registration {
  url?: string;
  authtype: 4 | 5 | 6;
  authvalue: string;
  message: 'Create' | 'Update' | 'Delete';
  entity: string;
  filteringattributes?: string;
  asyncautodelete?: boolean;
  images?: { entityalias: string; imagetype: 0 | 1 | 2; attributes?: string }[];
}

/** Registers a webhook the way a deployment script does on a real environment, through the Web API only. */
async function registerWebhook(r: Registration): Promise<{ endpointId: string; stepId: string }> {
  const messages = await client.retrieveMultiple<{ sdkmessageid: string }>({
    collection: 'sdkmessages',
    select: ['sdkmessageid'],
    filter: `name eq '${r.message}'`,
  });
  const messageId = messages.value[0].sdkmessageid;
  const filters = await client.retrieveMultiple<{ sdkmessagefilterid: string }>({
    collection: 'sdkmessagefilters',
    select: ['sdkmessagefilterid'],
    filter: `primaryobjecttypecode eq '${r.entity}' and _sdkmessageid_value eq ${messageId}`,
  });
  const endpointId = await client.create<object, string>({
    collection: 'serviceendpoints',
    data: {
      name: `Hook ${r.message} ${r.entity}`,
      url: r.url ?? receiver.url,
      contract: 8,
      authtype: r.authtype,
      authvalue: r.authvalue,
    },
  });
  const stepId = await client.create<object, string>({
    collection: 'sdkmessageprocessingsteps',
    data: {
      name: `Hook: ${r.message} of ${r.entity}`,
      mode: 1,
      stage: 40,
      rank: 1,
      supporteddeployment: 0,
      asyncautodelete: r.asyncautodelete ?? false,
      filteringattributes: r.filteringattributes ?? null,
      'sdkmessageid@odata.bind': `/sdkmessages(${messageId})`,
      'sdkmessagefilterid@odata.bind': `/sdkmessagefilters(${filters.value[0].sdkmessagefilterid})`,
      'eventhandler_serviceendpoint@odata.bind': `/serviceendpoints(${endpointId})`,
    },
  });
  registered.push(stepId);
  for (const image of r.images ?? []) {
    await client.create({
      collection: 'sdkmessageprocessingstepimages',
      data: {
        name: image.entityalias,
        entityalias: image.entityalias,
        imagetype: image.imagetype,
        messagepropertyname: r.message === 'Create' ? 'Id' : 'Target',
        attributes: image.attributes ?? null,
        'sdkmessageprocessingstepid@odata.bind': `/sdkmessageprocessingsteps(${stepId})`,
      },
    });
  }
  return { endpointId, stepId };
}

const header = (name: string, value: string): string =>
  `<settings><setting name="${name}" value="${value}" /></settings>`;

function attributes(entity: { Attributes: { key: string; value: unknown }[] }): Record<string, unknown> {
  return Object.fromEntries(entity.Attributes.map((a) => [a.key, a.value]));
}

async function systemJobs(stepId: string): Promise<Record<string, unknown>[]> {
  const res = await call(sim, `asyncoperations?$filter=_owningextensionid_value eq ${stepId}`);
  return res.json.value;
}

describe('webhook delivery', () => {
  it('POSTs the RemoteExecutionContext with the x-ms-dynamics headers (HttpHeader auth)', async () => {
    receiver = await startReceiver();
    const { stepId } = await registerWebhook({
      authtype: 5,
      authvalue: header('x-api-key', 'secret-&-value'),
      message: 'Create',
      entity: 'contact',
    });
    const created = await call(sim, 'contacts', {
      method: 'POST',
      body: { firstname: 'Hook', lastname: 'Target' },
    });
    expect(created.status).toBe(204);
    const contactId = /\(([^)]+)\)$/.exec(created.headers.get('odata-entityid') ?? '')?.[1];
    const [request] = await receiver.waitFor(1);
    await sim.webhooksIdle();

    expect(request.method).toBe('POST');
    expect(request.url).toBe('/hook');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['x-api-key']).toBe('secret-&-value');
    expect(request.headers['x-ms-dynamics-organization']).toBe(new URL(sim.url).host);
    expect(request.headers['x-ms-dynamics-entity-name']).toBe('contact');
    expect(request.headers['x-ms-dynamics-request-name']).toBe('Create');
    expect(request.headers['x-ms-dynamics-msg-size-exceeded']).toBeUndefined();

    const context = request.json;
    expect(request.headers['x-ms-correlation-request-id']).toBe(context.CorrelationId);
    expect(context).toMatchObject({
      MessageName: 'Create',
      PrimaryEntityName: 'contact',
      PrimaryEntityId: contactId,
      RequestId: created.headers.get('req_id'),
      Depth: 1,
      Mode: 1,
      Stage: 40,
      UserId: sim.identity.userId,
      InitiatingUserId: sim.identity.userId,
      BusinessUnitId: sim.identity.businessUnitId,
      OrganizationId: sim.identity.organizationId,
      OrganizationName: 'lifecockpit',
      SecondaryEntityName: 'none',
      OutputParameters: [{ key: 'id', value: contactId }],
      OwningExtension: { Id: stepId, LogicalName: 'sdkmessageprocessingstep' },
    });
    expect(context.CorrelationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(context.OperationCreatedOn).toMatch(/^\/Date\(\d+\+0000\)\/$/);
    const target = context.InputParameters[0];
    expect(target.key).toBe('Target');
    expect(target.value.__type).toBe('Entity:http://schemas.microsoft.com/xrm/2011/Contracts');
    expect(target.value.LogicalName).toBe('contact');
    expect(target.value.Id).toBe(contactId);
    expect(attributes(target.value)).toMatchObject({
      firstname: 'Hook',
      lastname: 'Target',
      fullname: 'Hook Target',
      contactid: contactId,
      statecode: { __type: 'OptionSetValue:http://schemas.microsoft.com/xrm/2011/Contracts', Value: 0 },
      ownerid: {
        __type: 'EntityReference:http://schemas.microsoft.com/xrm/2011/Contracts',
        Id: sim.identity.userId,
        LogicalName: 'systemuser',
      },
    });
    expect(attributes(target.value).createdon).toMatch(/^\/Date\(\d+\)\/$/);
    expect(context.PostEntityImages[0].key).toBe('AsynchronousStepPrimaryName');
    expect(attributes(context.PostEntityImages[0].value)).toEqual({
      fullname: 'Hook Target',
      contactid: contactId,
    });

    const [job] = await systemJobs(stepId);
    expect(context.OperationId).toBe(job.asyncoperationid);
    expect(job).toMatchObject({
      statuscode: 30,
      statecode: 3,
      retrycount: 0,
      _regardingobjectid_value: contactId,
    });
    expect(receiver.received).toHaveLength(1);
  });

  it('adds the key as ?code= for WebhookKey auth', async () => {
    receiver = await startReceiver();
    await registerWebhook({
      authtype: 4,
      authvalue: 'function-key-123',
      message: 'Create',
      entity: 'account',
    });
    await client.create({ collection: 'accounts', data: { name: 'Keyed' } });
    const [request] = await receiver.waitFor(1);
    expect(request.url).toBe('/hook?code=function-key-123');
    expect(request.headers['x-ms-dynamics-entity-name']).toBe('account');
  });

  it('adds each setting as a query parameter for HttpQueryString auth', async () => {
    receiver = await startReceiver();
    await registerWebhook({
      url: `${receiver.url}?existing=1`,
      authtype: 6,
      authvalue: '<settings><setting name="k1" value="v 1" /><setting name="k2" value="v2" /></settings>',
      message: 'Create',
      entity: 'task',
    });
    await client.create({ collection: 'tasks', data: { subject: 'Queried' } });
    const [request] = await receiver.waitFor(1);
    const query = new URL(request.url, 'http://x').searchParams;
    expect(query.get('existing')).toBe('1');
    expect(query.get('k1')).toBe('v 1');
    expect(query.get('k2')).toBe('v2');
  });

  it('fires an Update step only for its filtering attributes, with registered pre and post images', async () => {
    receiver = await startReceiver();
    const id = await client.create<object, string>({
      collection: 'lc_sessions',
      data: { lc_name: 'Intake', lc_status: 1, lc_location: 'Room 1' },
    });
    await registerWebhook({
      authtype: 5,
      authvalue: header('x-key', 'k'),
      message: 'Update',
      entity: 'lc_session',
      filteringattributes: 'lc_status',
      images: [{ entityalias: 'Image', imagetype: 2, attributes: 'lc_status,lc_name' }],
    });
    await client.update({ collection: 'lc_sessions', key: id, data: { lc_location: 'Room 2' } });
    await sim.webhooksIdle();
    expect(receiver.received).toHaveLength(0);

    await client.update({ collection: 'lc_sessions', key: id, data: { lc_status: 2 } });
    const [request] = await receiver.waitFor(1);
    const context = request.json;
    expect(context.MessageName).toBe('Update');
    expect(request.headers['x-ms-dynamics-request-name']).toBe('Update');
    expect(attributes(context.InputParameters[0].value)).toMatchObject({
      lc_status: { Value: 2 },
      lc_sessionid: id,
    });
    expect(attributes(context.InputParameters[0].value)).not.toHaveProperty('lc_location');
    expect(context.PreEntityImages).toEqual([{ key: 'Image', value: expect.anything() }]);
    expect(attributes(context.PreEntityImages[0].value)).toEqual({
      lc_name: 'Intake',
      lc_status: expect.objectContaining({ Value: 1 }),
    });
    const post = context.PostEntityImages.find((i: { key: string }) => i.key === 'Image');
    expect(attributes(post.value)).toEqual({
      lc_name: 'Intake',
      lc_status: expect.objectContaining({ Value: 2 }),
    });
  });

  it('sends an EntityReference as the Target of a Delete', async () => {
    receiver = await startReceiver();
    const id = await client.create<object, string>({
      collection: 'appointments',
      data: { subject: 'Cancelled' },
    });
    await registerWebhook({
      authtype: 5,
      authvalue: header('x-key', 'k'),
      message: 'Delete',
      entity: 'appointment',
      images: [{ entityalias: 'Before', imagetype: 0 }],
    });
    await client.deleteRecord({ collection: 'appointments', key: id });
    const [request] = await receiver.waitFor(1);
    const context = request.json;
    expect(context.MessageName).toBe('Delete');
    expect(context.InputParameters[0].value).toEqual({
      __type: 'EntityReference:http://schemas.microsoft.com/xrm/2011/Contracts',
      Id: id,
      KeyAttributes: [],
      LogicalName: 'appointment',
      Name: null,
      RowVersion: null,
    });
    expect(attributes(context.PreEntityImages[0].value)).toMatchObject({
      subject: 'Cancelled',
      activityid: id,
    });
    expect(context.PostEntityImages).toEqual([]);
  });

  it('drops InputParameters and images and sets x-ms-dynamics-msg-size-exceeded above 256 KB', async () => {
    receiver = await startReceiver();
    await registerWebhook({
      authtype: 5,
      authvalue: header('x-key', 'k'),
      message: 'Create',
      entity: 'lc_session',
    });
    await client.create({
      collection: 'lc_sessions',
      data: { lc_name: 'Long notes', lc_notes: 'n'.repeat(300_000) },
    });
    await client.create({ collection: 'lc_sessions', data: { lc_name: 'Short notes', lc_notes: 'short' } });
    const [big, small] = await receiver.waitFor(2);
    await sim.webhooksIdle();
    expect(big.headers['x-ms-dynamics-msg-size-exceeded']).toBeDefined();
    expect(big.json).not.toHaveProperty('InputParameters');
    expect(big.json).not.toHaveProperty('PostEntityImages');
    expect(big.json.MessageName).toBe('Create');
    expect(small.headers['x-ms-dynamics-msg-size-exceeded']).toBeUndefined();
    expect(small.json).toHaveProperty('InputParameters');
  });
});

describe('retries and system jobs', () => {
  it('retries exactly once after a 503, with the same payload', async () => {
    receiver = await startReceiver();
    receiver.respondWith(503);
    const { stepId } = await registerWebhook({
      authtype: 5,
      authvalue: header('x-key', 'k'),
      message: 'Create',
      entity: 'contact',
    });
    await client.create({ collection: 'contacts', data: { lastname: 'Retried' } });
    await receiver.waitFor(2);
    await sim.webhooksIdle();
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1].body).toBe(receiver.received[0].body);
    const [job] = await systemJobs(stepId);
    expect(job).toMatchObject({ statuscode: 30, retrycount: 1 });
  });

  it('records a failed system job when both attempts fail, listable with statuscode eq 31', async () => {
    receiver = await startReceiver();
    receiver.respondWith(502, 504);
    const { stepId } = await registerWebhook({
      authtype: 5,
      authvalue: header('x-key', 'k'),
      message: 'Create',
      entity: 'contact',
    });
    const contactId = await client.create<object, string>({
      collection: 'contacts',
      data: { lastname: 'Unlucky' },
    });
    await receiver.waitFor(2);
    await sim.webhooksIdle();
    expect(receiver.received).toHaveLength(2);

    const failed = await call(
      sim,
      `asyncoperations?$filter=statuscode eq 31 and _owningextensionid_value eq ${stepId}`,
    );
    expect(failed.status).toBe(200);
    expect(failed.json.value).toHaveLength(1);
    const job = failed.json.value[0];
    expect(job).toMatchObject({
      statecode: 3,
      statuscode: 31,
      operationtype: 1,
      messagename: 'Create',
      primaryentitytype: 'contact',
      retrycount: 1,
      errorcode: -2147220970,
      _regardingobjectid_value: contactId,
      name: 'Hook: Create of contact',
    });
    expect(job.message).toContain('504');
    expect(job.completedon).toMatch(/Z$/);
    const viaClient = await client.retrieveMultiple({
      collection: 'asyncoperations',
      filter: 'statuscode eq 31',
      select: ['name'],
    });
    expect(viaClient.value.length).toBeGreaterThanOrEqual(1);
  });

  it('does not retry after a 500', async () => {
    receiver = await startReceiver();
    receiver.respondWith(500);
    const { stepId } = await registerWebhook({
      authtype: 5,
      authvalue: header('x-key', 'k'),
      message: 'Create',
      entity: 'contact',
    });
    await client.create({ collection: 'contacts', data: { lastname: 'Once' } });
    await receiver.waitFor(1);
    await sim.webhooksIdle();
    expect(receiver.received).toHaveLength(1);
    const [job] = await systemJobs(stepId);
    expect(job).toMatchObject({ statuscode: 31, retrycount: 0 });
    expect(job.message).toContain('500');
  });

  it('deletes the system job of a successful delivery when the step asks for asyncautodelete', async () => {
    receiver = await startReceiver();
    const { stepId } = await registerWebhook({
      authtype: 5,
      authvalue: header('x-key', 'k'),
      message: 'Create',
      entity: 'account',
      asyncautodelete: true,
    });
    await client.create({ collection: 'accounts', data: { name: 'Tidy' } });
    await receiver.waitFor(1);
    await sim.webhooksIdle();
    expect(await systemJobs(stepId)).toEqual([]);
  });

  it('sends nothing for a disabled step', async () => {
    receiver = await startReceiver();
    const { stepId } = await registerWebhook({
      authtype: 5,
      authvalue: header('x-key', 'k'),
      message: 'Create',
      entity: 'task',
    });
    await client.update({
      collection: 'sdkmessageprocessingsteps',
      key: stepId,
      data: { statecode: 1, statuscode: 2 },
    });
    await client.create({ collection: 'tasks', data: { subject: 'Quiet' } });
    await sim.webhooksIdle();
    expect(receiver.received).toHaveLength(0);
  });
});

describe('timeouts and queues', () => {
  it('counts an endpoint that does not answer in time as failed, without a retry', async () => {
    const impatient = await startSim({ webhookTimeoutMs: 150 });
    const slow = await startReceiver();
    try {
      slow.delayAnswers(1_000);
      const c = webApi(impatient);
      const endpoint = await c.create<object, string>({
        collection: 'serviceendpoints',
        data: { name: 'Slow', url: slow.url, contract: 8, authtype: 4, authvalue: 'k' },
      });
      const message = (await call(impatient, "sdkmessages?$filter=name eq 'Create'")).json.value[0]
        .sdkmessageid;
      await c.create({
        collection: 'sdkmessageprocessingsteps',
        data: {
          name: 'Slow step',
          mode: 1,
          stage: 40,
          'sdkmessageid@odata.bind': `/sdkmessages(${String(message)})`,
          'eventhandler_serviceendpoint@odata.bind': `/serviceendpoints(${endpoint})`,
        },
      });
      await c.create({ collection: 'contacts', data: { lastname: 'Waiting' } });
      // An admin route lets a test in another process wait for deliveries too.
      expect((await fetch(`${impatient.url}/_sim/webhooks/idle`)).status).toBe(204);
      expect(slow.received).toHaveLength(1);
      const failed = await call(
        impatient,
        'asyncoperations?$filter=statuscode eq 31&$select=message,retrycount',
      );
      expect(failed.json.value).toHaveLength(1);
      expect(failed.json.value[0].message).toContain('no answer within 150 ms');
      expect(failed.json.value[0].retrycount).toBe(0);
    } finally {
      await impatient.close();
      await slow.close();
    }
  });

  it('does not let a slow endpoint hold up the deliveries of other steps', async () => {
    receiver = await startReceiver();
    const slow = await startReceiver();
    try {
      slow.delayAnswers(400);
      await registerWebhook({
        url: slow.url,
        authtype: 4,
        authvalue: 'slow',
        message: 'Create',
        entity: 'account',
      });
      await registerWebhook({ authtype: 4, authvalue: 'fast', message: 'Create', entity: 'account' });
      const started = Date.now();
      await client.create({ collection: 'accounts', data: { name: 'Parallel' } });
      await receiver.waitFor(1);
      expect(Date.now() - started).toBeLessThan(350);
      await sim.webhooksIdle();
      expect(slow.received).toHaveLength(1);
    } finally {
      await slow.close();
    }
  });
});

describe('registration records', () => {
  it('never returns the authvalue of a service endpoint', async () => {
    receiver = await startReceiver();
    const { endpointId } = await registerWebhook({
      authtype: 4,
      authvalue: 'top-secret',
      message: 'Create',
      entity: 'account',
    });
    const res = await call(sim, `serviceendpoints(${endpointId})`);
    expect(res.json).not.toHaveProperty('authvalue');
    expect(res.json).toMatchObject({ contract: 8, authtype: 4, isauthvalueset: true, url: receiver.url });
    expect(JSON.stringify(res.json)).not.toContain('top-secret');
  });

  it('refuses an endpoint whose authvalue does not fit its auth type', async () => {
    const res = await call(sim, 'serviceendpoints', {
      method: 'POST',
      body: {
        name: 'Bad',
        url: 'http://127.0.0.1:9/hook',
        contract: 8,
        authtype: 5,
        authvalue: 'not-settings',
      },
    });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('0x80040203');
  });

  it('refuses a synchronous webhook step, which the simulator cannot run', async () => {
    receiver = await startReceiver();
    const endpoint = await call(sim, 'serviceendpoints', {
      method: 'POST',
      headers: { Prefer: 'return=representation' },
      body: { name: 'Sync', url: receiver.url, contract: 8, authtype: 4, authvalue: 'k' },
    });
    const messages = await call(sim, "sdkmessages?$filter=name eq 'Create'");
    const res = await call(sim, 'sdkmessageprocessingsteps', {
      method: 'POST',
      body: {
        name: 'Sync step',
        mode: 0,
        stage: 40,
        'sdkmessageid@odata.bind': `/sdkmessages(${String(messages.json.value[0].sdkmessageid)})`,
        'eventhandler_serviceendpoint@odata.bind': `/serviceendpoints(${String(endpoint.json.serviceendpointid)})`,
      },
    });
    expect(res.status).toBe(400);
    expect(res.json.error.message).toContain('mode 1');
  });
});
