/**
 * Sending mail through Graph once per key: the activities over lib/mail/sendOnce.ts, which creates
 * each mail as a Graph draft, records the draft in a Blob ledger under a lease, and sends only that
 * draft, so a retry, a crash at any point or a concurrent attempt never sends a key twice. The
 * ledger lives in the snapshots container; the lease lasts MAIL_LEASE_SECONDS. Must never send
 * except through sendMailOnce.
 */
import { CodedError } from '../lib/errors/codedError';
import { defineActivity } from '../lib/saga';
import { services } from '../lib/config/services';
import { SettingsError } from '../lib/config/settings';
import { MailLedger } from '../lib/mail/ledger';
import {
  sendMailOnce as sendOnce,
  type MailInput as MailFields,
  type MailOutcome,
} from '../lib/mail/sendOnce';

export type { MailOutcome, MailStatus } from '../lib/mail/sendOnce';

export interface MailInput extends MailFields {
  /** Throw a MailError when Graph refuses the message (for saga steps and durable retries). */
  failOnError?: boolean;
}

export class MailError extends CodedError {
  override readonly name = 'MailError';
}

export async function sendMailOnce(input: MailInput): Promise<MailOutcome> {
  const { settings, snapshots, graph } = services();
  if (!settings.mailSender)
    throw new SettingsError('MAIL_SENDER is not set; name the mailbox the app sends mail as.');
  const leaseMs = settings.mailLeaseSeconds * 1000;
  const outcome = await sendOnce(input, {
    graph: graph(),
    ledger: new MailLedger(snapshots, { leaseMs }),
    sender: settings.mailSender,
    maxWaitMs: leaseMs + 5000,
    rethrowTransient: input.failOnError === true,
  });
  if (outcome.status === 'failed' && input.failOnError)
    throw new MailError(
      outcome.code ?? 'MAIL_FAILED',
      `Mail to ${input.to} was not sent: ${outcome.error ?? ''}`,
    );
  return outcome;
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
