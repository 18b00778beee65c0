import { GraphError, ResponseType } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_USER_IDS, startGraphSim, type SentMail } from '../../../sim/graph';
import { trust, type TrustedSim } from './support';

const OWNER = 'maren.lindqvist@contoso-practice.example';

let graph: TrustedSim;
beforeAll(async () => {
  graph = await trust(await startGraphSim({ seed: 'demo' }));
});
afterAll(async () => graph?.close());
beforeEach(async () => {
  expect((await graph.fetch('/_sim/outbox', { method: 'DELETE' })).status).toBe(204);
});

async function outbox(): Promise<SentMail[]> {
  const res = await graph.fetch('/_sim/outbox');
  expect(res.status).toBe(200);
  return ((await res.json()) as { value: SentMail[] }).value;
}

async function failure(request: Promise<unknown>): Promise<GraphError> {
  const err: unknown = await request.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GraphError);
  return err as GraphError;
}

function post(path: string, body: string, contentType = 'application/json'): Promise<Response> {
  return graph.fetch(path, {
    method: 'POST',
    headers: { Authorization: 'Bearer sim-token', 'Content-Type': contentType },
    body,
  });
}

const reminder = {
  message: {
    subject: 'Your session tomorrow at 09:30',
    body: { contentType: 'Text', content: 'See you at the main clinic, Room 2.' },
    toRecipients: [{ emailAddress: { address: 'alex.client@mail.example', name: 'Alex Client' } }],
  },
};

describe('POST /v1.0/users/{id | userPrincipalName}/sendMail', () => {
  it('accepts a message with 202 and an empty body, and the message lands in the outbox', async () => {
    const res = (await graph
      .client()
      .api(`/users/${OWNER}/sendMail`)
      .responseType(ResponseType.RAW)
      .post(reminder)) as Response;

    expect(res.status).toBe(202);
    expect(await res.text()).toBe('');
    const sent = await outbox();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      sender: { id: DEMO_USER_IDS.owner, userPrincipalName: OWNER, mail: OWNER },
      saveToSentItems: true,
      message: {
        subject: 'Your session tomorrow at 09:30',
        body: { contentType: 'text', content: 'See you at the main clinic, Room 2.' },
        toRecipients: [{ emailAddress: { address: 'alex.client@mail.example', name: 'Alex Client' } }],
        ccRecipients: [],
        bccRecipients: [],
      },
    });
    expect(Date.parse(sent[0].sentDateTime)).not.toBeNaN();
    expect(graph.sim.outbox()).toEqual(sent);
  });

  it('keeps cc, bcc, an HTML body and saveToSentItems: false as sent, addressed by object id', async () => {
    await graph
      .client()
      .api(`/users/${DEMO_USER_IDS.receptionist}/sendMail`)
      .post({
        message: {
          subject: 'Weekly schedule',
          body: { contentType: 'HTML', content: '<p>Attached is the week.</p>' },
          toRecipients: [{ emailAddress: { address: 'jonas.becker@contoso-practice.example' } }],
          ccRecipients: [{ emailAddress: { address: 'lena.novak@contoso-practice.example' } }],
          bccRecipients: [{ emailAddress: { address: 'archive@contoso-practice.example' } }],
          importance: 'High',
        },
        saveToSentItems: false,
      });

    const [mail] = await outbox();
    expect(mail.sender.userPrincipalName).toBe('sam.whitfield@contoso-practice.example');
    expect(mail.saveToSentItems).toBe(false);
    expect(mail.message.body).toEqual({ contentType: 'html', content: '<p>Attached is the week.</p>' });
    expect(mail.message.ccRecipients).toEqual([
      { emailAddress: { address: 'lena.novak@contoso-practice.example' } },
    ]);
    expect(mail.message.bccRecipients).toEqual([
      { emailAddress: { address: 'archive@contoso-practice.example' } },
    ]);
    expect(mail.message.importance).toBe('high');
  });

  it('refuses a message without recipients with 400 ErrorInvalidRecipients, and sends nothing', async () => {
    const err = await failure(
      graph
        .client()
        .api(`/users/${OWNER}/sendMail`)
        .post({ message: { ...reminder.message, toRecipients: [] } }),
    );

    expect(err.statusCode).toBe(400);
    expect(err.code).toBe('ErrorInvalidRecipients');
    expect(err.message).toContain("A message can't be sent because it contains no recipients.");
    expect(await outbox()).toEqual([]);
  });

  it('refuses an address that cannot resolve with 400 ErrorInvalidRecipients naming it', async () => {
    const err = await failure(
      graph
        .client()
        .api(`/users/${OWNER}/sendMail`)
        .post({
          message: { ...reminder.message, toRecipients: [{ emailAddress: { address: 'alex at home' } }] },
        }),
    );

    expect(err.statusCode).toBe(400);
    expect(err.code).toBe('ErrorInvalidRecipients');
    expect(err.message).toContain("Recipient 'alex at home' isn't resolved.");
  });

  it('refuses a body content type other than Text or HTML with 400 RequestBodyRead', async () => {
    const err = await failure(
      graph
        .client()
        .api(`/users/${OWNER}/sendMail`)
        .post({ message: { ...reminder.message, body: { contentType: 'markdown', content: '# hi' } } }),
    );

    expect(err.statusCode).toBe(400);
    expect(err.code).toBe('RequestBodyRead');
  });

  it('refuses a request without a message with 400 ErrorInvalidRequest', async () => {
    const err = await failure(graph.client().api(`/users/${OWNER}/sendMail`).post({ saveToSentItems: true }));

    expect(err.statusCode).toBe(400);
    expect(err.code).toBe('ErrorInvalidRequest');
  });

  it('refuses a body that is not JSON, or is empty, with 400 BadRequest', async () => {
    const garbled = await post(`/v1.0/users/${OWNER}/sendMail`, '{"message": {');
    const empty = await post(`/v1.0/users/${OWNER}/sendMail`, '');

    expect(garbled.status).toBe(400);
    expect(((await garbled.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'BadRequest',
      message: expect.stringContaining('Unable to read JSON request payload') as unknown,
    });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { error: { message: string } }).error.message).toBe(
      'Empty Payload. JSON content expected.',
    );
    expect(await outbox()).toEqual([]);
  });

  it('answers 404 ErrorInvalidUser for a mailbox the directory does not have', async () => {
    const err = await failure(
      graph.client().api('/users/ghost@contoso-practice.example/sendMail').post(reminder),
    );

    expect(err.statusCode).toBe(404);
    expect(err.code).toBe('ErrorInvalidUser');
    expect(err.message).toBe("The requested user 'ghost@contoso-practice.example' is invalid.");
  });

  it('only takes POST: GET on sendMail is 405', async () => {
    const err = await failure(graph.client().api(`/users/${OWNER}/sendMail`).get());

    expect(err.statusCode).toBe(405);
  });
});

describe('the outbox admin route', () => {
  it('lists accepted mail oldest first and empties on DELETE', async () => {
    const client = graph.client();
    for (const subject of ['first', 'second']) {
      await client.api(`/users/${OWNER}/sendMail`).post({ message: { ...reminder.message, subject } });
    }

    expect((await outbox()).map((m) => m.message.subject)).toEqual(['first', 'second']);
    expect((await graph.fetch('/_sim/outbox', { method: 'DELETE' })).status).toBe(204);
    expect(await outbox()).toEqual([]);
    expect(graph.sim.outbox()).toEqual([]);
  });

  it('lives outside the Graph API: under /v1.0 it is just an unknown segment', async () => {
    const err = await failure(graph.client().api('/_sim/outbox').get());

    expect(err.statusCode).toBe(400);
    expect(err.code).toBe('BadRequest');
  });
});
