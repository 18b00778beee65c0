/**
 * One specification for every webhook auth type: the right secret starts the flow, a wrong one starts
 * nothing and leaves a failed system job. Each auth type runs in its own test file (its own host),
 * because the secret's kind is an app setting read at start.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppWithDataverse, type AppUnderTest } from '../support/appHost';
import { waitFor } from '../support/durable';
import { eventually, instances, mailTo, registerWebhook, systemJobs } from './support';

export interface AuthCase {
  kind: 'WebhookKey' | 'HttpQueryString';
  settingName: string;
  secret: string;
  /** The service endpoint's authtype and authvalue for a secret. */
  endpoint: (secret: string) => { authtype: 4 | 5 | 6; authvalue: string };
}

export function describeWebhookAuth(c: AuthCase): void {
  let app: AppUnderTest;
  beforeAll(async () => {
    app = await startAppWithDataverse({
      graph: true,
      env: {
        DATAVERSE_WEBHOOK_AUTH_TYPE: c.kind,
        DATAVERSE_WEBHOOK_AUTH_NAME: c.settingName,
        DATAVERSE_WEBHOOK_SECRET: c.secret,
      },
    });
  });
  afterAll(async () => app?.close());

  async function newContact(firstname: string, email: string): Promise<string> {
    return String(
      (await app.dataverse.create('contacts', { firstname, lastname: c.kind, emailaddress1: email })).id,
    );
  }

  describe(`a Dataverse webhook authenticated with ${c.kind}`, () => {
    it('starts the flow with the right secret and nothing with a wrong one', async () => {
      const good = await registerWebhook(app, {
        message: 'Create',
        entity: 'contact',
        auth: c.endpoint(c.secret),
      });
      const id = await newContact('Keyed', `keyed-${c.kind}@mail.example`);
      const [instance] = await eventually(
        'the onboarding starts',
        () => instances(app, `webhook-create-contact-${id}-`),
        (list) => list.length === 1,
      );
      expect((await waitFor(app.host, instance.instanceId)).runtimeStatus).toBe('Completed');
      expect(mailTo(app, `keyed-${c.kind}@mail.example`)).toHaveLength(1);
      await app.dataverse.delete('sdkmessageprocessingsteps', good);

      const bad = await registerWebhook(app, {
        message: 'Create',
        entity: 'contact',
        auth: c.endpoint('wrong'),
      });
      const other = await newContact('Locked', `locked-${c.kind}@mail.example`);
      await app.sim.webhooksIdle();
      expect((await systemJobs(app, bad)).map((j) => j.statuscode)).toEqual([31]);
      expect(await instances(app, `webhook-create-contact-${other}-`)).toEqual([]);
      expect(mailTo(app, `locked-${c.kind}@mail.example`)).toEqual([]);
    });
  });
}
