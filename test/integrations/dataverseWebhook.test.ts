import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAppWithDataverse, APP_USER_ID, OWNER_EMAIL, type AppUnderTest } from '../support/appHost';
import { startOrchestration, waitFor } from '../support/durable';
import { startReceiver } from '../sim/dataverse/support';
import {
  eventually,
  instances,
  mailTo,
  postWebhook,
  registerWebhook,
  systemJobs,
  unregisterWebhook,
} from './support';

let app: AppUnderTest;
const steps: string[] = [];
beforeAll(async () => {
  app = await startAppWithDataverse({ graph: true });
});
afterEach(async () => {
  for (const id of steps.splice(0)) await unregisterWebhook(app, id);
  await app.sim.webhooksIdle();
});
afterAll(async () => app?.close());

async function newContact(firstname: string, email: string): Promise<string> {
  const res = await app.dataverse.create('contacts', { firstname, lastname: 'Client', emailaddress1: email });
  return String(res.id);
}

/** The RemoteExecutionContext Dataverse sends for a new contact, captured from a real delivery. */
async function capturedContextForNewContact(
  email: string,
): Promise<{ id: string; context: Record<string, unknown> }> {
  const receiver = await startReceiver();
  try {
    const step = await registerWebhook(app, { message: 'Create', entity: 'contact', url: receiver.url });
    const id = await newContact('Captured', email);
    const [request] = await receiver.waitFor(1);
    await unregisterWebhook(app, step);
    await app.sim.webhooksIdle();
    return { id, context: request.json as Record<string, unknown> };
  } finally {
    await receiver.close();
  }
}

describe('the Dataverse webhook', () => {
  it('onboards a new client: a follow-up task, one welcome mail and one note to the owner', async () => {
    steps.push(await registerWebhook(app, { message: 'Create', entity: 'contact' }));
    const id = await newContact('Ada', 'ada@mail.example');
    const [instance] = await eventually(
      'the onboarding starts',
      () => instances(app, `webhook-create-contact-${id}-`),
      (list) => list.length === 1,
    );
    const status = await waitFor(app.host, instance.instanceId);
    expect(status.name).toBe('clientOnboarding');
    expect(status.runtimeStatus).toBe('Completed');

    const [welcome] = mailTo(app, 'ada@mail.example');
    expect(mailTo(app, 'ada@mail.example')).toHaveLength(1);
    expect(welcome.message.subject).toBe('Welcome to our practice');
    expect(welcome.message.body.content).toContain('Dear Ada');
    expect(welcome.sender.userPrincipalName).toBe('sam.whitfield@contoso-practice.example');
    const notes = mailTo(app, OWNER_EMAIL).filter((m) => m.message.subject === 'New client: Ada Client');
    expect(notes).toHaveLength(1);
    expect(notes[0].message.body.content).toContain('A welcome mail went to ada@mail.example.');

    const tasks = [];
    for await (const t of app.dataverse.query('tasks', { filter: `_regardingobjectid_value eq ${id}` }))
      tasks.push(t);
    expect(tasks).toHaveLength(1);
    expect(tasks[0].subject).toBe('Follow up with Ada Client');
    const [job] = await systemJobs(app, steps[0]);
    expect(job.statuscode).toBe(30);
  });

  it('starts one instance when the same webhook is delivered three times', async () => {
    const { id, context } = await capturedContextForNewContact('thrice@mail.example');
    const answers = await Promise.all([postWebhook(app, context), postWebhook(app, context)]);
    answers.push(await postWebhook(app, context));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 202]);
    const bodies = (await Promise.all(answers.map((a) => a.json()))) as { instanceId: string }[];
    expect(new Set(bodies.map((b) => b.instanceId)).size).toBe(1);

    const list = await instances(app, `webhook-create-contact-${id}-`);
    expect(list).toHaveLength(1);
    await waitFor(app.host, list[0].instanceId);
    // Delivered again after it finished: still the one instance, and still one welcome mail.
    expect((await postWebhook(app, context)).status).toBe(200);
    expect(await instances(app, `webhook-create-contact-${id}-`)).toHaveLength(1);
    expect(mailTo(app, 'thrice@mail.example')).toHaveLength(1);
  });

  it('starts nothing for a wrong webhook secret, and Dataverse records the failed delivery', async () => {
    const step = await registerWebhook(app, {
      message: 'Create',
      entity: 'contact',
      secret: 'not-the-secret',
    });
    steps.push(step);
    const id = await newContact('Mallory', 'mallory@mail.example');
    await app.sim.webhooksIdle();
    const [job] = await systemJobs(app, step);
    expect(job.statuscode).toBe(31);
    expect(String(job.message)).toContain('401');
    expect(await instances(app, `webhook-create-contact-${id}-`)).toEqual([]);

    const { context } = await capturedContextForNewContact('nosecret@mail.example');
    expect((await postWebhook(app, context, {})).status).toBe(401);
    expect(
      (await postWebhook(app, context, { 'x-lifecockpit-secret': 'webhook-secret-for-test' })).status,
    ).toBe(401);
    expect(mailTo(app, 'mallory@mail.example')).toEqual([]);
    expect(mailTo(app, 'nosecret@mail.example')).toEqual([]);
  });

  it("ignores a change made by the app's own user, and deep plugin chains, so nothing loops", async () => {
    const { id, context } = await capturedContextForNewContact('loop@mail.example');
    const own = await postWebhook(app, { ...context, UserId: APP_USER_ID, InitiatingUserId: APP_USER_ID });
    expect(own.status).toBe(200);
    expect(((await own.json()) as { ignored: string }).ignored).toContain("app's own identity");
    const deep = await postWebhook(app, { ...context, Depth: 3 });
    expect(deep.status).toBe(200);
    expect(((await deep.json()) as { ignored: string }).ignored).toContain('depth 3');
    expect(await instances(app, `webhook-create-contact-${id}-`)).toEqual([]);
    expect(mailTo(app, 'loop@mail.example')).toEqual([]);
  });

  it('rejects a payload that is not a RemoteExecutionContext, naming the bad fields', async () => {
    const bad = await postWebhook(app, { MessageName: 'Create', PrimaryEntityId: 'nope', Depth: 0 });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { code: string; message: string };
    expect(body.code).toBe('INVALID_WEBHOOK_PAYLOAD');
    expect(body.message).toContain('PrimaryEntityName is missing');
    expect(body.message).toContain('PrimaryEntityId must be a GUID');
    expect(body.message).toContain('Depth must be a whole number');
    expect((await postWebhook(app, '{not json')).status).toBe(400);
  });
});

describe('the client onboarding saga', () => {
  it('refuses a context nested too deep to start with 400, so Dataverse does not retry a poison message', async () => {
    const { id, context } = await capturedContextForNewContact('deep@mail.example');
    const params = context.InputParameters as { key: string; value: { Attributes: unknown[] } }[];
    const target = params.find((p) => p.key === 'Target');
    if (!target) throw new Error('captured context has no Target');
    const depth = 20_000;
    const raw = JSON.stringify({
      ...context,
      InputParameters: [
        {
          ...target,
          value: { ...target.value, Attributes: [...target.value.Attributes, { key: 'x', value: 0 }] },
        },
      ],
    }).replace('"key":"x","value":0', `"key":"x","value":${'['.repeat(depth)}${']'.repeat(depth)}`);
    const res = await postWebhook(app, raw);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe('INVALID_WEBHOOK_PAYLOAD');
    expect(await instances(app, `webhook-create-contact-${id}-`)).toEqual([]);
  });

  it('removes the follow-up task again when the welcome mail cannot be sent', async () => {
    const graph = app.graph;
    if (!graph) throw new Error('graph simulator missing');
    await graph.queueFault({
      method: 'POST',
      path: '/messages/[^/]+/send$',
      kind: 'status',
      status: 500,
      count: 4,
    });
    steps.push(await registerWebhook(app, { message: 'Create', entity: 'contact' }));
    const id = await newContact('Unlucky', 'unlucky@mail.example');
    const [instance] = await eventually(
      'the onboarding starts',
      () => instances(app, `webhook-create-contact-${id}-`),
      (list) => list.length === 1,
    );
    const status = await waitFor(app.host, instance.instanceId);
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain('SAGA_COMPENSATED');
    expect(String(status.output)).toContain('Compensated: create follow-up task');
    const tasks = [];
    for await (const t of app.dataverse.query('tasks', { filter: `_regardingobjectid_value eq ${id}` }))
      tasks.push(t);
    expect(tasks).toEqual([]);
    expect(mailTo(app, 'unlucky@mail.example')).toEqual([]);
    expect(mailTo(app, OWNER_EMAIL).filter((m) => m.message.subject.includes('Unlucky'))).toEqual([]);
  });
});

describe('webhook routes from the app configuration', () => {
  async function configure(patch: Record<string, unknown>): Promise<void> {
    const id = await startOrchestration(app.host, 'configChange', { patch });
    expect((await waitFor(app.host, id)).runtimeStatus).toBe('Completed');
  }

  it('follows the configured routes, and the defaults again once they are removed', async () => {
    // Only sessions are routed: a new contact is acknowledged and starts nothing.
    await configure({
      webhookRoutes: [{ message: 'Create', table: 'lc_session', orchestration: 'sessionConfirmation' }],
    });
    const step = await registerWebhook(app, { message: 'Create', entity: 'contact' });
    steps.push(step);
    const quiet = await newContact('Quiet', 'quiet@mail.example');
    await app.sim.webhooksIdle();
    expect((await systemJobs(app, step)).map((j) => j.statuscode)).toEqual([30]);
    expect(await instances(app, `webhook-create-contact-${quiet}-`)).toEqual([]);

    await configure({ webhookRoutes: null });
    const loud = await newContact('Loud', 'loud@mail.example');
    const [instance] = await eventually(
      'the onboarding starts',
      () => instances(app, `webhook-create-contact-${loud}-`),
      (list) => list.length === 1,
    );
    expect((await waitFor(app.host, instance.instanceId)).runtimeStatus).toBe('Completed');
    expect(mailTo(app, 'loud@mail.example')).toHaveLength(1);
  });
});
