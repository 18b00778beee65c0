import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppWithDataverse, type AppUnderTest } from '../support/appHost';
import { waitFor } from '../support/durable';
import { eventually, instances, mailTo, registerWebhook, systemJobs } from './support';

let app: AppUnderTest;
beforeAll(async () => {
  app = await startAppWithDataverse({
    graph: true,
    env: {
      DATAVERSE_WEBHOOK_AUTH_TYPE: 'WebhookKey',
      DATAVERSE_WEBHOOK_AUTH_NAME: 'code',
      DATAVERSE_WEBHOOK_SECRET: 'key-for-dataverse',
    },
  });
});
afterAll(async () => app?.close());

describe('a Dataverse webhook authenticated with WebhookKey', () => {
  it('starts the flow with the right secret and nothing with a wrong one', async () => {
    const good = await registerWebhook(app, {
      message: 'Create',
      entity: 'contact',
      auth: { authtype: 4, authvalue: 'key-for-dataverse' },
    });
    const id = String(
      (
        await app.dataverse.create('contacts', {
          firstname: 'Keyed',
          lastname: 'In',
          emailaddress1: 'keyed@mail.example',
        })
      ).id,
    );
    const [instance] = await eventually(
      'the onboarding starts',
      () => instances(app, `webhook-create-contact-${id}-`),
      (list) => list.length === 1,
    );
    expect((await waitFor(app.host, instance.instanceId)).runtimeStatus).toBe('Completed');
    expect(mailTo(app, 'keyed@mail.example')).toHaveLength(1);
    await app.dataverse.delete('sdkmessageprocessingsteps', good);

    const bad = await registerWebhook(app, {
      message: 'Create',
      entity: 'contact',
      auth: { authtype: 4, authvalue: 'not-the-key' },
    });
    const other = String(
      (
        await app.dataverse.create('contacts', {
          firstname: 'Locked',
          lastname: 'Out',
          emailaddress1: 'locked@mail.example',
        })
      ).id,
    );
    await app.sim.webhooksIdle();
    expect((await systemJobs(app, bad)).map((j) => j.statuscode)).toEqual([31]);
    expect(await instances(app, `webhook-create-contact-${other}-`)).toEqual([]);
    expect(mailTo(app, 'locked@mail.example')).toEqual([]);
  });
});
