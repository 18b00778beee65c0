/**
 * Drafts and their send in the Graph simulator, through the real Graph client: a draft lives in
 * Drafts until it is sent; its send moves it to Sent Items under a new id with isDraft false and
 * delivers it once; the same draft id cannot be sent again (Graph's 404 ErrorItemNotFound).
 */
import { GraphError, ResponseType } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGraphSim, type SentMail } from '../../../sim/graph';
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

interface Message {
  id: string;
  isDraft: boolean;
  subject: string;
  internetMessageId: string;
  parentFolderId: string;
  sentDateTime: string | null;
}

async function folder(name: string): Promise<Message[]> {
  return (
    (await graph.client().api(`/users/${OWNER}/mailFolders/${name}/messages`).get()) as { value: Message[] }
  ).value;
}

async function outbox(): Promise<SentMail[]> {
  return ((await (await graph.fetch('/_sim/outbox')).json()) as { value: SentMail[] }).value;
}

async function failure(request: Promise<unknown>): Promise<GraphError> {
  const err: unknown = await request.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GraphError);
  return err as GraphError;
}

const draftBody = {
  subject: 'Welcome to the practice',
  body: { contentType: 'Text', content: 'We look forward to seeing you.' },
  toRecipients: [{ emailAddress: { address: 'new.client@mail.example', name: 'New Client' } }],
};

describe('drafts in the Graph simulator', () => {
  it('creates a draft in Drafts (201), and sending it moves it to Sent Items under a new id and delivers it once', async () => {
    const created = (await graph
      .client()
      .api(`/users/${OWNER}/messages`)
      .responseType(ResponseType.RAW)
      .post(draftBody)) as Response;
    expect(created.status).toBe(201);
    const draft = (await created.json()) as Message;
    expect(draft).toMatchObject({ subject: 'Welcome to the practice', isDraft: true, sentDateTime: null });
    expect((await folder('drafts')).map((m) => m.id)).toContain(draft.id);
    expect(await outbox()).toEqual([]);

    const read = (await graph
      .client()
      .api(`/users/${OWNER}/messages/${draft.id}`)
      .select('isDraft')
      .get()) as {
      isDraft: boolean;
    };
    expect(read.isDraft).toBe(true);

    const sent = (await graph
      .client()
      .api(`/users/${OWNER}/messages/${draft.id}/send`)
      .responseType(ResponseType.RAW)
      .post(undefined)) as Response;
    expect(sent.status).toBe(202);
    expect(await sent.text()).toBe('');

    expect((await folder('drafts')).map((m) => m.id)).not.toContain(draft.id);
    const copies = (await folder('sentitems')).filter((m) => m.internetMessageId === draft.internetMessageId);
    expect(copies).toHaveLength(1);
    expect(copies[0].id).not.toBe(draft.id);
    expect(copies[0]).toMatchObject({ isDraft: false, sentDateTime: expect.any(String) });
    expect(copies[0].parentFolderId).not.toBe(draft.parentFolderId);
    const delivered = await outbox();
    expect(delivered).toHaveLength(1);
    expect(delivered[0].message).toMatchObject({
      subject: 'Welcome to the practice',
      toRecipients: [{ emailAddress: { address: 'new.client@mail.example' } }],
    });

    // The draft id is gone: reading it or sending it again is Graph's 404, and nothing more goes out.
    const again = await failure(
      graph.client().api(`/users/${OWNER}/messages/${draft.id}/send`).post(undefined),
    );
    expect(again.statusCode).toBe(404);
    expect(again.code).toBe('ErrorItemNotFound');
    const reread = await failure(graph.client().api(`/users/${OWNER}/messages/${draft.id}`).get());
    expect(reread.statusCode).toBe(404);
    expect(await outbox()).toHaveLength(1);
  });

  it('keeps a draft without recipients but refuses to send it, as Graph does', async () => {
    const draft = (await graph
      .client()
      .api(`/users/${OWNER}/messages`)
      .post({ subject: 'No one yet', body: { contentType: 'Text', content: '-' } })) as Message;
    expect(draft.isDraft).toBe(true);
    const refused = await failure(
      graph.client().api(`/users/${OWNER}/messages/${draft.id}/send`).post(undefined),
    );
    expect(refused.statusCode).toBe(400);
    expect(refused.code).toBe('ErrorInvalidRecipients');
    expect((await folder('drafts')).map((m) => m.id)).toContain(draft.id);
    expect(await outbox()).toEqual([]);
  });

  it('answers 404 for a mailbox that does not exist and 400 for an unknown message property', async () => {
    const noMailbox = await failure(
      graph.client().api('/users/nobody@contoso-practice.example/messages').post(draftBody),
    );
    expect(noMailbox.statusCode).toBe(404);
    expect(noMailbox.code).toBe('ErrorInvalidUser');
    const draft = (await graph.client().api(`/users/${OWNER}/messages`).post(draftBody)) as Message;
    const badSelect = await failure(
      graph.client().api(`/users/${OWNER}/messages/${draft.id}`).select('colour').get(),
    );
    expect(badSelect.statusCode).toBe(400);
  });
});
