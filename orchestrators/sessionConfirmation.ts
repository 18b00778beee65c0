/**
 * A new or moved session sends the client a confirmation: started by the Dataverse webhook (Create
 * of lc_session, or an Update that touches its time or place) under an instance id derived from the
 * change, so one change confirms once. It reads the session as it is now (the webhook's copy may be
 * stale), skips sessions that are cancelled, done, in the past or whose client cannot be mailed, and
 * sends the mail as a single pivot step. No I/O here: everything goes through activities.
 */
import type { OrchestrationContext } from 'durable-functions';
import type { WebhookInput } from '../lib/dataverse/webhook';
import { sessionConfirmationFlow } from '../lib/orchestrations';
import { Saga, defineOrchestration, type RetryPolicy } from '../lib/saga';
import { loadSession, localDateTime, type Session } from '../activities/practice';
import { sendMail, type MailOutcome } from '../activities/mail';

export type ConfirmationResult =
  { sessionId: string; confirmation: MailOutcome; moved: boolean } | { sessionId: string; skipped: string };

const PLANNED = 1;
/** Reading the session: retried at a steady interval (no backoff). */
const LOAD_RETRY: RetryPolicy = { firstRetryIntervalMs: 2_000, maxAttempts: 4 };

function confirmationText(session: Session, moved: boolean, timeZone: string): string {
  const when = localDateTime(session.start as string, timeZone);
  return [
    `Dear ${session.client?.firstName ?? session.client?.name ?? 'client'},`,
    '',
    moved
      ? `your session "${session.name}" has moved. It now takes place on ${when}${session.location ? `, ${session.location}` : ''}.`
      : `this confirms your session "${session.name}" on ${when}${session.location ? `, ${session.location}` : ''}.`,
    'If the time does not suit you, please let us know.',
    '',
    'Kind regards,',
    'Your practice team',
  ].join('\n');
}

export const sessionConfirmation = defineOrchestration(
  sessionConfirmationFlow,
  function* (context: OrchestrationContext) {
    const { event, timeZone } = context.df.getInput() as WebhookInput;
    const instanceId = context.df.instanceId;
    const saga = new Saga(context, 'sessionConfirmation');
    // A step of its own, so a throttled or unreachable Dataverse is waited out, not a lost confirmation.
    const session = yield* saga.read({
      name: 'load the session',
      activity: loadSession,
      input: { id: event.id },
      retry: LOAD_RETRY,
    });
    const skip = (reason: string): ConfirmationResult =>
      saga.complete({ sessionId: event.id, skipped: reason });
    if (!session) return skip('the session no longer exists');
    if (session.status !== undefined && session.status !== PLANNED) return skip('the session is not planned');
    if (!session.start) return skip('the session has no start time');
    if (Date.parse(session.start) < context.df.currentUtcDateTime.getTime())
      return skip('the session is in the past');
    const client = session.client;
    if (!client) return skip('the session has no client');
    if (!client.email) return skip('the client has no email address');
    if (client.doNotEmail) return skip('the client does not want mail');

    const moved = event.message === 'Update';
    saga.annotate({ sessionId: session.id, moved });
    return yield* saga.run(function* () {
      const confirmation = yield* saga.step({
        name: moved ? 'send moved-session mail' : 'send confirmation mail',
        activity: sendMail,
        input: {
          key: `${instanceId}/confirmation`,
          to: client.email as string,
          toName: client.name,
          subject: moved ? `Your session has moved: ${session.name}` : `Session confirmed: ${session.name}`,
          text: confirmationText(session, moved, timeZone),
          failOnError: true,
        },
        retry: { firstRetryIntervalMs: 2_000, maxAttempts: 4, backoffCoefficient: 2 },
        pivot: true,
      });
      return { sessionId: session.id, confirmation, moved } satisfies ConfirmationResult;
    });
  },
);
