/**
 * A new client (a contact created in Dataverse) is onboarded as a saga: a follow-up task for the
 * practice (undone if the welcome cannot go out), the welcome mail through Graph (the pivot: once
 * sent it cannot be taken back, so nothing before it is undone afterwards), and a note to the
 * practice owner. Started by the Dataverse webhook under an instance id derived from the change, so
 * a change delivered twice onboards once. No I/O here: everything goes through activities.
 */
import type { OrchestrationContext } from 'durable-functions';
import type { WebhookInput } from '../lib/dataverse/webhook';
import { clientOnboardingFlow } from '../lib/orchestrations';
import { Saga, defineOrchestration, type RetryPolicy } from '../lib/saga';
import { loadClient, createFollowUpTask, deleteFollowUpTask, type Client } from '../activities/practice';
import { sendMail, sendOwnerMail, type MailOutcome } from '../activities/mail';

export interface OnboardingResult {
  clientId: string;
  taskId?: string;
  welcome: MailOutcome;
  ownerNote: MailOutcome;
}

const RETRY: RetryPolicy = { firstRetryIntervalMs: 2_000, maxAttempts: 4, backoffCoefficient: 2 };
const FOLLOW_UP_DAYS = 3;

function welcomeText(client: Client): string {
  return [
    `Dear ${client.firstName ?? client.name},`,
    '',
    'welcome to our practice. We are glad you are here.',
    'We will be in touch within the next few days to arrange your first session.',
    'If you have any questions before then, just reply to this mail.',
    '',
    'Warm regards,',
    'Your practice team',
  ].join('\n');
}

export const clientOnboarding = defineOrchestration(
  clientOnboardingFlow,
  function* (context: OrchestrationContext) {
    const { event } = context.df.getInput() as WebhookInput;
    const instanceId = context.df.instanceId;
    const saga = new Saga(context, 'clientOnboarding');
    // A step of its own, so a throttled or unreachable Dataverse is waited out, not a lost welcome.
    const client = yield* saga.read({
      name: 'load the client',
      activity: loadClient,
      input: { id: event.id },
      retry: RETRY,
    });
    if (!client) return saga.complete({ clientId: event.id, skipped: 'the contact no longer exists' });
    saga.annotate({ clientId: client.id });
    return yield* saga.run(function* () {
      const due = new Date(context.df.currentUtcDateTime.getTime() + FOLLOW_UP_DAYS * 86_400_000);
      const task = yield* saga.step({
        name: 'create follow-up task',
        activity: createFollowUpTask,
        input: { instanceId, clientId: client.id, clientName: client.name, due: due.toISOString() },
        retry: RETRY,
        compensation: {
          activity: deleteFollowUpTask,
          input: (r: { taskId: string }) => ({ taskId: r.taskId }),
        },
      });

      let welcome: OnboardingResult['welcome'];
      if (!client.email || client.doNotEmail) {
        welcome = {
          key: `${instanceId}/welcome`,
          to: client.email ?? '',
          status: 'skipped',
          error: client.email ? 'the client does not want mail' : 'the client has no email address',
        };
      } else {
        welcome = yield* saga.step({
          name: 'send welcome mail',
          activity: sendMail,
          input: {
            key: `${instanceId}/welcome`,
            to: client.email,
            toName: client.name,
            subject: 'Welcome to our practice',
            text: welcomeText(client),
            failOnError: true,
          },
          retry: RETRY,
          pivot: true,
        });
      }

      const welcomeLine =
        welcome.status === 'sent' || welcome.status === 'already-sent'
          ? `A welcome mail went to ${client.email}.`
          : welcome.status === 'skipped'
            ? `No welcome mail was sent: ${welcome.error ?? ''}.`
            : `The welcome mail to ${client.email} may not have arrived (${welcome.status}: ${welcome.error ?? ''}).`;
      const ownerNote = yield* saga.step({
        name: 'note to the practice owner',
        activity: sendOwnerMail,
        input: {
          key: `${instanceId}/owner-note`,
          subject: `New client: ${client.name}`,
          text: [
            `${client.name} was added as a new client.`,
            welcomeLine,
            `A follow-up task is due on ${due.toISOString().slice(0, 10)}.`,
          ].join('\n'),
          failOnError: true,
        },
        retry: RETRY,
      });
      return {
        clientId: client.id,
        taskId: task.taskId,
        welcome,
        ownerNote,
      } satisfies OnboardingResult;
    });
  },
);
