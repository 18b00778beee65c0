/**
 * Sending mail through Graph once per key. Graph's sendMail is not idempotent, and an activity runs
 * again after a crash or a retry, so every message has a key (e.g. the day and the session) and a
 * ledger entry in Blob storage: claimed before the call, marked sent after Graph accepted it. A
 * re-run that finds the message marked sent does not send it again. A claim without an outcome (the
 * host died while the request was in flight) is sent again: a request cut off with its caller is
 * not delivered, and a missing reminder costs more than a duplicate. The one window left is a crash
 * between Graph's 202 and the ledger write (milliseconds); such a resend is flagged in the outcome.
 * Must never send without claiming first.
 */
import { CodedError } from '../lib/errors/codedError';
import { defineActivity } from '../lib/saga';
import { services } from '../lib/config/services';
import { SettingsError } from '../lib/config/settings';
import { GraphServiceError, recipient, type MailMessage } from '../lib/graph';
import { BlobConflictError } from '../lib/storage/jsonBlobs';

export interface MailInput {
  /** Identifies the message across retries and crashes: the same key is sent at most once. */
  key: string;
  to: string;
  toName?: string;
  subject: string;
  text: string;
  /** Throw a MailError when Graph refuses the message (for saga steps and durable retries). */
  failOnError?: boolean;
}

export type MailStatus = 'sent' | 'already-sent' | 'failed' | 'skipped';

export interface MailOutcome {
  key: string;
  to: string;
  status: MailStatus;
  /** Why it failed or was skipped. */
  error?: string;
  code?: string;
  /** Sent again after an attempt that was interrupted before its outcome was recorded. */
  resent?: boolean;
}

interface LedgerEntry {
  state: 'sending' | 'sent' | 'failed';
  to: string;
  subject: string;
  at: string;
  error?: string;
}

export class MailError extends CodedError {
  override readonly name = 'MailError';
}

const ledgerName = (key: string): string => `mail/${key}.json`;

export async function sendMailOnce(input: MailInput): Promise<MailOutcome> {
  const { settings } = services();
  const ledger = services().snapshots;
  if (!settings.mailSender)
    throw new SettingsError('MAIL_SENDER is not set; name the mailbox the app sends mail as.');
  const name = ledgerName(input.key);
  const claim: LedgerEntry = {
    state: 'sending',
    to: input.to,
    subject: input.subject,
    at: new Date().toISOString(),
  };
  const existing = await ledger.get<LedgerEntry>(name);
  if (existing?.value.state === 'sent') return { key: input.key, to: input.to, status: 'already-sent' };
  const resent = existing?.value.state === 'sending';
  let etag: string;
  try {
    etag = existing
      ? await ledger.put(name, claim, { ifMatch: existing.etag })
      : await ledger.put(name, claim, { ifNoneMatch: '*' });
  } catch (err) {
    if (!(err instanceof BlobConflictError)) throw err;
    // Another attempt claimed it at the same moment: that one sends.
    throw new MailError('MAIL_IN_PROGRESS', `Mail ${input.key} is being sent by another attempt.`);
  }

  const message: MailMessage = {
    subject: input.subject,
    body: { contentType: 'text', content: input.text },
    toRecipients: [recipient(input.to, input.toName)],
  };
  try {
    await services().graph().sendMail(settings.mailSender, message, { saveToSentItems: true });
  } catch (err) {
    const graphError = err instanceof GraphServiceError ? err : undefined;
    const error = err instanceof Error ? err.message : String(err);
    const code = graphError?.code ?? 'MAIL_FAILED';
    // Nothing was accepted (an error answer, or no answer with the request cut off): a later attempt may send it.
    await ledger.put(name, { ...claim, state: 'failed', error }, { ifMatch: etag });
    // Graph down or throttling: thrown as it is, so a saga step waits for Graph instead of giving up.
    if (input.failOnError && graphError?.transient) throw graphError;
    if (input.failOnError) throw new MailError(code, `Mail to ${input.to} was not sent: ${error}`);
    return { key: input.key, to: input.to, status: 'failed', code, error };
  }
  await ledger.put(name, { ...claim, state: 'sent', at: new Date().toISOString() }, { ifMatch: etag });
  return { key: input.key, to: input.to, status: 'sent', ...(resent ? { resent } : {}) };
}

/**
 * Without `failOnError` every problem becomes a `failed` outcome, never a throw: a fan-out of
 * reminders must still reach its summary when one mail cannot be sent.
 */
export const sendMail = defineActivity<MailInput, MailOutcome>('mail_send', async (input) => {
  if (input.failOnError) return sendMailOnce(input);
  try {
    return await sendMailOnce(input);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return {
      key: input.key,
      to: input.to,
      status: 'failed',
      code: typeof code === 'string' ? code : 'MAIL_FAILED',
      error: err instanceof Error ? err.message : String(err),
    };
  }
});

/** A note to the practice owner (PRACTICE_OWNER_EMAIL); skipped when no owner is configured. */
export const sendOwnerMail = defineActivity<Omit<MailInput, 'to' | 'toName'>, MailOutcome>(
  'mail_sendToOwner',
  (input) => {
    const owner = services().settings.ownerEmail;
    if (!owner)
      return { key: input.key, to: '', status: 'skipped', error: 'PRACTICE_OWNER_EMAIL is not set' };
    return sendMailOnce({ ...input, to: owner });
  },
);
