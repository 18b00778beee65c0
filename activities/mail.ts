/**
 * Sending mail through Graph at most once per key. Graph's sendMail is not idempotent, and an
 * activity runs again after a crash or a retry, so every message has a key (e.g. the day and the
 * session) and a ledger entry in Blob storage: claimed before the call, marked sent after it. A
 * re-run finds the entry and does not send again. A claim without an outcome (the host died while
 * Graph had the request, or Graph never answered) is reported as `uncertain`, never resent: a
 * client must not get the same mail twice. Must never send without claiming first.
 */
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

export type MailStatus = 'sent' | 'already-sent' | 'uncertain' | 'failed' | 'skipped';

export interface MailOutcome {
  key: string;
  to: string;
  status: MailStatus;
  /** Why it failed or is uncertain. */
  error?: string;
  code?: string;
}

interface LedgerEntry {
  state: 'sending' | 'sent' | 'failed';
  to: string;
  subject: string;
  at: string;
  error?: string;
}

export class MailError extends Error {
  override readonly name = 'MailError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`[${code}] ${message}`);
  }
}

const ledgerName = (key: string): string => `mail/${key}.json`;

/** What an existing entry means for a new attempt; undefined when it may be sent (again). */
function outcomeOf(entry: LedgerEntry, input: MailInput): MailOutcome | undefined {
  if (entry.state === 'sent') return { key: input.key, to: input.to, status: 'already-sent' };
  if (entry.state === 'sending')
    return {
      key: input.key,
      to: input.to,
      status: 'uncertain',
      code: 'MAIL_OUTCOME_UNKNOWN',
      error: `an earlier attempt (${entry.at}) was interrupted after claiming the message; it may have been delivered, so it is not sent again`,
    };
  return undefined;
}

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
  let etag: string;
  const existing = await ledger.get<LedgerEntry>(name);
  try {
    if (existing) {
      const done = outcomeOf(existing.value, input);
      if (done) return done;
      etag = await ledger.put(name, claim, { ifMatch: existing.etag });
    } else {
      etag = await ledger.put(name, claim, { ifNoneMatch: '*' });
    }
  } catch (err) {
    if (!(err instanceof BlobConflictError)) throw err;
    // Another attempt claimed it at the same moment: that one sends.
    const now = await ledger.get<LedgerEntry>(name);
    return (now && outcomeOf(now.value, input)) ?? { key: input.key, to: input.to, status: 'uncertain' };
  }

  const message: MailMessage = {
    subject: input.subject,
    body: { contentType: 'text', content: input.text },
    toRecipients: [recipient(input.to, input.toName)],
  };
  try {
    await services().graph().sendMail(settings.mailSender, message, { saveToSentItems: true });
  } catch (err) {
    if (err instanceof GraphServiceError && !err.isNoResponse) {
      // Graph answered with an error: nothing was accepted, so a later attempt may send it.
      await ledger.put(name, { ...claim, state: 'failed', error: err.message }, { ifMatch: etag });
      if (input.failOnError) throw new MailError(err.code, `Mail to ${input.to} was refused: ${err.message}`);
      return { key: input.key, to: input.to, status: 'failed', code: err.code, error: err.message };
    }
    const error = err instanceof Error ? err.message : String(err);
    if (input.failOnError)
      throw new MailError('MAIL_OUTCOME_UNKNOWN', `Graph did not answer for mail to ${input.to}: ${error}`);
    return { key: input.key, to: input.to, status: 'uncertain', code: 'MAIL_OUTCOME_UNKNOWN', error };
  }
  await ledger.put(name, { ...claim, state: 'sent', at: new Date().toISOString() }, { ifMatch: etag });
  return { key: input.key, to: input.to, status: 'sent' };
}

export const sendMail = defineActivity<MailInput, MailOutcome>('mail_send', (input) => sendMailOnce(input));

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
