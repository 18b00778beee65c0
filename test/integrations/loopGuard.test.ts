import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppWithDataverse, type AppUnderTest } from '../support/appHost';
import { instances, mailTo, registerWebhook, systemJobs } from './support';

/**
 * In the simulator every write is made by one application user; here the app is told that this
 * user is its own Dataverse identity, so each change below is one the app itself could have made
 * (say, a contact its own flow created) and must not set off a flow again.
 */
let app: AppUnderTest;
beforeAll(async () => {
  app = await startAppWithDataverse({ graph: true, appIsSimCaller: true });
});
afterAll(async () => app?.close());

describe('the webhook loop guard', () => {
  it("acknowledges a change made by the app's own identity and starts nothing", async () => {
    const step = await registerWebhook(app, { message: 'Create', entity: 'contact' });
    const id = String(
      (
        await app.dataverse.create('contacts', {
          firstname: 'Self',
          lastname: 'Made',
          emailaddress1: 'self@mail.example',
        })
      ).id,
    );
    await app.sim.webhooksIdle();
    // Delivered and answered 2xx, so Dataverse does not retry it...
    const [job] = await systemJobs(app, step);
    expect(job.statuscode).toBe(30);
    // ...but no flow ran: no instance, no task, no mail.
    expect(await instances(app, `webhook-create-contact-${id}-`)).toEqual([]);
    const tasks = [];
    for await (const t of app.dataverse.query('tasks', { filter: `_regardingobjectid_value eq ${id}` }))
      tasks.push(t);
    expect(tasks).toEqual([]);
    expect(mailTo(app, 'self@mail.example')).toEqual([]);
  });
});
