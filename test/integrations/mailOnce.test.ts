/**
 * A mail key is sent at most once: through the real Graph client against the Graph simulator, with
 * the ledger in the suite's Azurite. Crashes are simulated by running the steps of a send and
 * stopping between them; concurrency by running attempts at the same time; nothing is mocked.
 */
import type { TokenCredential } from '@azure/core-auth';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GraphClient } from '../../lib/graph';
import { MailLedger } from '../../lib/mail/ledger';
import { draftMail, sendDrafted, sendMailOnce, type MailDeps, type MailInput } from '../../lib/mail/sendOnce';
import { JsonBlobs } from '../../lib/storage/jsonBlobs';
import { startGraphSim, type SentMail } from '../../sim/graph';
import { trust, type TrustedSim } from '../sim/graph/support';

const SENDER = 'sam.whitfield@contoso-practice.example';
const LEASE_MS = 60_000;
const credential: TokenCredential = {
  getToken: async () => ({ token: 'sim-token', expiresOnTimestamp: Date.now() + 3600_000 }),
};

let graph: TrustedSim;
let client: GraphClient;
let blobs: JsonBlobs;
beforeAll(async () => {
  graph = await trust(await startGraphSim({ seed: 'demo' }));
  client = new GraphClient(graph.sim.url, credential, {
    fetchOptions: { dispatcher: graph.dispatcher } as RequestInit,
  });
  const service = BlobServiceClient.fromConnectionString(String(process.env.AZURE_STORAGE_CONNECTION_STRING));
  blobs = new JsonBlobs(service.getContainerClient(`mailonce${Date.now()}`));
});
afterAll(async () => graph?.close());
beforeEach(async () => {
  await graph.fetch('/_sim/outbox', { method: 'DELETE' });
});

let keys = 0;
function mail(): MailInput {
  keys++;
  return {
    key: `test/mail-${keys}`,
    to: `client${keys}@mail.example`,
    subject: `Reminder ${keys}`,
    text: 'See you tomorrow.',
  };
}

/** An attempt whose clock runs `aheadMs` ahead of now (a later attempt, after a lease had time to lapse). */
function attempt(aheadMs = 0, extra: Partial<MailDeps> = {}): MailDeps {
  return {
    graph: client,
    ledger: new MailLedger(blobs, { leaseMs: LEASE_MS, now: () => Date.now() + aheadMs }),
    sender: SENDER,
    ...extra,
  };
}

async function outboxTo(address: string): Promise<SentMail[]> {
  return graph.sim.outbox().filter((m) => m.message.toRecipients[0].emailAddress.address === address);
}

async function drafts(): Promise<{ id: string }[]> {
  const res = await graph.fetch(`/v1.0/users/${SENDER}/mailFolders/drafts/messages?$top=999`, {
    headers: { Authorization: 'Bearer sim-token' },
  });
  return ((await res.json()) as { value: { id: string }[] }).value;
}

describe('sending a mail key once', () => {
  it('sends through a draft and records it; a second run finds it sent', async () => {
    const m = mail();
    expect(await sendMailOnce(m, attempt())).toMatchObject({ status: 'sent' });
    expect(await sendMailOnce(m, attempt())).toMatchObject({ status: 'already-sent' });
    expect(await outboxTo(m.to)).toHaveLength(1);
    expect(await new MailLedger(blobs, { leaseMs: LEASE_MS }).read(m.key)).toMatchObject({
      state: 'sent',
      draftId: expect.any(String),
    });
  });

  it('lets only one of several concurrent attempts send; the others wait for it and find it sent', async () => {
    const m = mail();
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => sendMailOnce(m, attempt())));
    expect(outcomes.filter((o) => o.status === 'sent')).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'already-sent')).toHaveLength(4);
    expect(await outboxTo(m.to)).toHaveLength(1);
  });

  it('does not send again after a crash between Graph accepting the send and the ledger recording it', async () => {
    const m = mail();
    const first = attempt(0, { holder: 'first' });
    const claim = await first.ledger.claim(m.key, m, 'first');
    if (claim.kind !== 'held') throw new Error(`expected to hold the key, got ${claim.kind}`);
    const held = await draftMail(m, first, claim.held);
    expect(await sendDrafted(first, held, false)).toBe('sent');
    // The host dies here: the ledger still says 'sending', with the draft recorded.
    expect(await first.ledger.read(m.key)).toMatchObject({ state: 'sending', draftId: held.entry.draftId });

    // A re-run before the lease lapses waits, then gives up without sending.
    await expect(sendMailOnce(m, attempt(0, { maxWaitMs: 300 }))).rejects.toMatchObject({
      code: 'MAIL_IN_PROGRESS',
    });
    // Once it has lapsed, the re-run takes over, finds the draft already sent, and records that.
    expect(await sendMailOnce(m, attempt(LEASE_MS + 1000))).toMatchObject({ status: 'already-sent' });
    expect(await outboxTo(m.to)).toHaveLength(1);
    expect(await first.ledger.read(m.key)).toMatchObject({ state: 'sent' });
  });

  it('sends the recorded draft once when a crash came after the draft was recorded but before its send', async () => {
    const m = mail();
    const first = attempt(0, { holder: 'first' });
    const claim = await first.ledger.claim(m.key, m, 'first');
    if (claim.kind !== 'held') throw new Error(`expected to hold the key, got ${claim.kind}`);
    const held = await draftMail(m, first, claim.held);
    const before = (await drafts()).length;
    expect(await sendMailOnce(m, attempt(LEASE_MS + 1000))).toMatchObject({ status: 'sent' });
    // The recorded draft was sent, not a new one made.
    expect((await drafts()).map((d) => d.id)).not.toContain(held.entry.draftId);
    expect((await drafts()).length).toBe(before - 1);
    expect(await outboxTo(m.to)).toHaveLength(1);
  });

  it('takes a lapsed lease over, and the attempt that lost it can no longer record or send', async () => {
    const m = mail();
    const stuck = attempt(0, { holder: 'stuck' });
    const claim = await stuck.ledger.claim(m.key, m, 'stuck');
    if (claim.kind !== 'held') throw new Error(`expected to hold the key, got ${claim.kind}`);
    // Another attempt while the lease runs is refused...
    expect(await attempt(0).ledger.claim(m.key, m, 'other')).toMatchObject({ kind: 'busy' });
    // ...and takes the key over once it has lapsed, and sends.
    expect(await sendMailOnce(m, attempt(LEASE_MS + 1000, { holder: 'later' }))).toMatchObject({
      status: 'sent',
    });
    // The stuck attempt wakes up: its conditional write fails, so its draft is never recorded or sent.
    await expect(draftMail(m, stuck, claim.held)).rejects.toMatchObject({ code: 'MAIL_IN_PROGRESS' });
    expect(await outboxTo(m.to)).toHaveLength(1);
  });

  it('records a refused send as failed with its draft, and a later attempt sends that draft', async () => {
    const m = mail();
    await graph.queueFault({ method: 'POST', path: '/send$', kind: 'status', status: 400, count: 1 });
    const failed = await sendMailOnce(m, attempt());
    expect(failed).toMatchObject({ status: 'failed', code: expect.any(String) });
    const recorded = await new MailLedger(blobs, { leaseMs: LEASE_MS }).read(m.key);
    expect(recorded).toMatchObject({ state: 'failed', draftId: expect.any(String) });
    expect(await sendMailOnce(m, attempt())).toMatchObject({ status: 'sent' });
    expect(await outboxTo(m.to)).toHaveLength(1);
    expect((await drafts()).map((d) => d.id)).not.toContain(recorded?.draftId);
  });
});
