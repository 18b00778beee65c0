/**
 * Sending one mail at most once per key, across retries, crashes and concurrent attempts. The mail
 * is created as a Graph draft first and its id recorded in the ledger (lib/mail/ledger.ts); only
 * then is that draft sent. Graph removes a draft when it sends it (the copy in Sent Items has a new
 * id), so an attempt that finds the recorded draft gone, or no longer a draft, knows it went out,
 * and a send of the same draft id a second time is refused by Graph (404) instead of delivered.
 * The attempt that holds the key's lease is the only one that creates or sends; another waits for
 * the lease to end or lapse. Must never send without holding the key, and never send anything but
 * the recorded draft.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { GraphClient } from '../graph/client';
import { GraphServiceError } from '../graph/errors';
import { recipient, type MailMessage } from '../graph/types';
import { MailLedger, MailLedgerError, type Held } from './ledger';

export interface MailInput {
  /** Identifies the message across retries and crashes: the same key is sent at most once. */
  key: string;
  to: string;
  toName?: string;
  subject: string;
  text: string;
}

export type MailStatus = 'sent' | 'already-sent' | 'failed' | 'skipped';

export interface MailOutcome {
  key: string;
  to: string;
  status: MailStatus;
  /** Why it failed or was skipped. */
  error?: string;
  code?: string;
}

export interface MailDeps {
  graph: GraphClient;
  ledger: MailLedger;
  /** The mailbox (UPN or id) the mail is sent as. */
  sender: string;
  /** This attempt's name in the ledger (default: a new random one). */
  holder?: string;
  /** How long to wait for another attempt's lease before giving up (default: a lease and a bit). */
  maxWaitMs?: number;
  /**
   * Throw a transient Graph error (down, throttling) as it is, after recording the failure, instead
   * of answering `failed`: a saga step then waits for Graph rather than giving up.
   */
  rethrowTransient?: boolean;
}

/** The message as Graph takes it. */
export function messageOf(input: MailInput): MailMessage {
  return {
    subject: input.subject,
    body: { contentType: 'text', content: input.text },
    toRecipients: [recipient(input.to, input.toName)],
  };
}

/** Claims the key, waiting while another attempt holds a live lease. */
async function claim(input: MailInput, deps: MailDeps, holder: string): Promise<Held | 'sent'> {
  const deadline = Date.now() + (deps.maxWaitMs ?? 65_000);
  for (;;) {
    const result = await deps.ledger.claim(input.key, input, holder);
    if (result.kind === 'held') return result.held;
    if (result.kind === 'sent') return 'sent';
    const wait = Math.min(1000, Math.max(50, result.until - Date.now()));
    if (Date.now() + wait > deadline)
      throw new MailLedgerError('MAIL_IN_PROGRESS', `Mail ${input.key} is being sent by another attempt.`);
    await delay(wait);
  }
}

function failure(err: unknown): { code: string; error: string } {
  return {
    code: err instanceof GraphServiceError || err instanceof MailLedgerError ? err.code : 'MAIL_FAILED',
    error: err instanceof Error ? err.message : String(err),
  };
}

const gone = (err: unknown): boolean => err instanceof GraphServiceError && err.isNotFound;

/**
 * Step 1: the draft that carries the mail, recorded in the ledger. An earlier attempt's recorded
 * draft is reused; a draft created by an attempt that crashed before recording it stays unsent.
 */
export async function draftMail(input: MailInput, deps: MailDeps, held: Held): Promise<Held> {
  if (held.entry.draftId) return held;
  const draft = await deps.graph.createDraft(deps.sender, messageOf(input));
  return deps.ledger.update(held, {
    draftId: draft.id,
    ...(draft.internetMessageId ? { internetMessageId: draft.internetMessageId } : {}),
  });
}

/**
 * Step 2: sends the recorded draft, unless it is an earlier attempt's and Graph no longer holds it
 * as a draft (then it went out before). Returns whether this attempt sent it.
 */
export async function sendDrafted(
  deps: MailDeps,
  held: Held,
  earlierDraft: boolean,
): Promise<'sent' | 'already-sent'> {
  const draftId = String(held.entry.draftId);
  if (earlierDraft) {
    const draft = await deps.graph.tryGetMessage(deps.sender, draftId, { select: ['id', 'isDraft'] });
    if (!draft || !draft.isDraft) return 'already-sent';
  }
  try {
    await deps.graph.sendDraft(deps.sender, draftId);
    return 'sent';
  } catch (err) {
    // The draft is gone: sent by an attempt whose answer was lost (Graph keeps no draft it sent).
    if (earlierDraft && gone(err)) return 'already-sent';
    throw err;
  }
}

export async function sendMailOnce(input: MailInput, deps: MailDeps): Promise<MailOutcome> {
  const holder = deps.holder ?? randomUUID();
  const claimed = await claim(input, deps, holder);
  if (claimed === 'sent') return { key: input.key, to: input.to, status: 'already-sent' };
  let held = claimed;
  try {
    const earlierDraft = held.entry.draftId !== undefined;
    held = await draftMail(input, deps, held);
    const result = await sendDrafted(deps, held, earlierDraft);
    await deps.ledger.update(held, { state: 'sent' });
    return { key: input.key, to: input.to, status: result };
  } catch (err) {
    if (err instanceof MailLedgerError) throw err;
    const { code, error } = failure(err);
    // Graph refused or did not answer; the recorded draft (if any) stays, so a later attempt sends
    // that one, or finds it already sent.
    await deps.ledger.update(held, { state: 'failed', error }).catch(() => undefined);
    if (deps.rethrowTransient && err instanceof GraphServiceError && err.transient) throw err;
    return { key: input.key, to: input.to, status: 'failed', code, error };
  }
}
