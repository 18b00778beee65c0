/**
 * The daily reminders of one day: reads the day's planned sessions from Dataverse, sends each client
 * a reminder through Graph (fanned out, one activity per session, each keyed by day and session so
 * a re-run after a crash or retry never mails a client twice), and sends the practice owner a
 * summary that lists every failure. Started by the reminders timer with the instance id
 * `dailyReminders-<day>` (lib/instanceIds.ts), so a second firing of the same day (a restart, a
 * second host) finds the instance and starts nothing. No I/O here: everything goes through activities.
 */
import type { OrchestrationContext, Task } from 'durable-functions';
import { localTime, sessionsBetween, type Session } from '../activities/practice';
import { dailyRemindersFlow, type RemindersInput } from '../lib/orchestrations';
import { call, callTask, defineOrchestration, type RetryPolicy } from '../lib/saga';
import { sendMail, sendOwnerMail, type MailOutcome } from '../activities/mail';

export interface ReminderResult {
  sessionId: string;
  session: string;
  client?: string;
  status: MailOutcome['status'];
  error?: string;
}

export interface RemindersOutput {
  day: string;
  sessions: number;
  sent: number;
  results: ReminderResult[];
  problems: ReminderResult[];
  summary: MailOutcome['status'];
}

const RETRY: RetryPolicy = { firstRetryIntervalMs: 2_000, maxAttempts: 4, backoffCoefficient: 2 };

function reminderText(session: Session, timeZone: string): string {
  const start = session.start ? localTime(session.start, timeZone) : 'the agreed time';
  return [
    `Dear ${session.client?.firstName ?? session.client?.name ?? 'client'},`,
    '',
    `this is a reminder of your session "${session.name}" today at ${start}${session.location ? `, ${session.location}` : ''}.`,
    'If you cannot make it, please let us know as soon as possible.',
    '',
    'See you soon,',
    'Your practice team',
  ].join('\n');
}

function summaryText(day: string, results: ReminderResult[], timeZone: string, sessions: Session[]): string {
  const ok = results.filter((r) => r.status === 'sent' || r.status === 'already-sent');
  const problems = results.filter((r) => !(r.status === 'sent' || r.status === 'already-sent'));
  const lines = [`Reminders for ${day}: ${sessions.length} session(s), ${ok.length} reminder(s) sent.`];
  for (const s of sessions) {
    const r = results.find((x) => x.sessionId === s.id);
    lines.push(
      `- ${s.start ? localTime(s.start, timeZone) : '--:--'} ${s.name} with ${s.client?.name ?? 'no client'}: ${r?.status ?? 'not sent'}`,
    );
  }
  if (problems.length) {
    lines.push('', `Failures (${problems.length}):`);
    for (const p of problems)
      lines.push(`- ${p.session} (${p.client ?? 'no client'}): ${p.status} — ${p.error ?? ''}`);
  } else {
    lines.push('', 'No failures.');
  }
  return lines.join('\n');
}

export const dailyReminders = defineOrchestration(
  dailyRemindersFlow,
  function* (context: OrchestrationContext) {
    const input = context.df.getInput() as RemindersInput;
    const sessions = yield* call(
      context,
      sessionsBetween,
      { from: input.from, to: input.to },
      { retry: RETRY },
    );
    context.df.setCustomStatus({ day: input.day, phase: 'sending', sessions: sessions.length });

    const results: ReminderResult[] = [];
    const sending: { session: Session; task: Task }[] = [];
    for (const session of sessions) {
      const client = session.client;
      if (!client?.email || client.doNotEmail) {
        results.push({
          sessionId: session.id,
          session: session.name,
          client: client?.name,
          status: 'skipped',
          error: !client
            ? 'the session has no client'
            : client.email
              ? 'the client does not want mail'
              : 'the client has no email address',
        });
        continue;
      }
      sending.push({
        session,
        task: callTask(
          context,
          sendMail,
          {
            key: `reminders/${input.day}/${session.id}`,
            to: client.email,
            toName: client.name,
            subject: `Reminder: your session today${session.start ? ` at ${localTime(session.start, input.timeZone)}` : ''}`,
            text: reminderText(session, input.timeZone),
          },
          { retry: RETRY },
        ),
      });
    }
    const outcomes = sending.length
      ? ((yield context.df.Task.all(sending.map((s) => s.task))) as MailOutcome[])
      : [];
    outcomes.forEach((outcome, i) => {
      const { session } = sending[i];
      results.push({
        sessionId: session.id,
        session: session.name,
        client: session.client?.name,
        status: outcome.status,
        error: outcome.error,
      });
    });
    const ordered = sessions.map((s) => results.find((r) => r.sessionId === s.id) as ReminderResult);
    const problems = ordered.filter((r) => r.status !== 'sent' && r.status !== 'already-sent');

    context.df.setCustomStatus({ day: input.day, phase: 'summary', sessions: sessions.length });
    const summary = yield* call(
      context,
      sendOwnerMail,
      {
        key: `reminders/${input.day}/summary`,
        subject: `Reminders ${input.day}: ${ordered.length - problems.length} sent${problems.length ? `, ${problems.length} failed` : ''}`,
        text: summaryText(input.day, ordered, input.timeZone, sessions),
      },
      { retry: RETRY },
    );
    context.df.setCustomStatus({ day: input.day, phase: 'done', sessions: sessions.length });
    return {
      day: input.day,
      sessions: sessions.length,
      sent: ordered.length - problems.length,
      results: ordered,
      problems,
      summary: summary.status,
    } satisfies RemindersOutput;
  },
);
