/**
 * Every morning (REMINDERS_SCHEDULE, six-field NCRONTAB, default 09:00 in WEBSITE_TIME_ZONE) starts
 * the day's reminders as `dailyReminders-<day>`. The day is that of the occurrence being run (from
 * the timer's schedule status), or today when that occurrence's day is already over (a catch-up after
 * a long outage), in the practice's time zone. If the day's reminders already exist (a restart, a
 * second host, a catch-up after a run that did happen), nothing is started: a day is reminded once.
 * An instance of another orchestration under the day's id is not the day's reminders: it is logged
 * as an error and the day runs under the next id of lib/instanceIds.ts (`dailyReminders-<day>-2`...),
 * which every host derives alike. Without MAIL_SENDER the reminders are off (nothing could be sent).
 */
import { CodedError } from '../lib/errors/codedError';
import { app, type InvocationContext, type Timer } from '@azure/functions';
import * as df from 'durable-functions';
import { timerSchedule } from '../lib/config/settings';
import { services } from '../lib/config/services';
import { startOnce } from '../lib/api/durable';
import { ApiError } from '../lib/api/errors';
import { remindersInstanceId } from '../lib/instanceIds';
import { dayWindow, localDay } from '../activities/practice';
import { dailyRemindersFlow, type RemindersInput } from '../lib/orchestrations';

/** Ids tried for one day before giving up; more than one taken is already someone's doing. */
const MAX_IDS_PER_DAY = 5;

/** The occurrence this invocation stands for: the scheduled time, not when the handler happens to run. */
export function occurrenceOf(timer: Timer, now = Date.now()): number {
  const scheduled = Date.parse(timer.scheduleStatus?.next ?? '');
  return Number.isFinite(scheduled) ? scheduled : now;
}

type Outcome = 'started' | 'already' | 'taken';

/** Starts the day's reminders under `instanceId`, unless they exist; 'taken': another orchestration holds it. */
async function startUnder(
  client: df.DurableClient,
  instanceId: string,
  input: RemindersInput,
  context: InvocationContext,
): Promise<Outcome> {
  try {
    // Another host starting it between our check and our start is answered as existing, too.
    const started = await startOnce(client, { name: dailyRemindersFlow.name, input, instanceId });
    if (started.existing) {
      context.log(
        `Reminders for ${input.day} already ${String(started.runtimeStatus)} (${instanceId}); not starting again.`,
      );
      return 'already';
    }
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 'CONFLICT')) throw err;
    context.error(
      `${err.message} It is not the reminders of ${input.day}, so that id cannot be used for them.`,
    );
    return 'taken';
  }
  context.log(`Started the reminders for ${input.day} (${instanceId}).`);
  return 'started';
}

export async function startDailyReminders(timer: Timer, context: InvocationContext): Promise<void> {
  const { timeZone, mailSender } = services().settings;
  if (!mailSender) {
    context.warn(
      'Daily reminders are off: MAIL_SENDER is not set, so there is no mailbox to send them from.',
    );
    return;
  }
  // A catch-up after a long outage reminds today's clients, not those of a day already gone.
  const day = localDay(Math.max(occurrenceOf(timer), Date.now()), timeZone);
  const input: RemindersInput = { day, ...dayWindow(day, timeZone), timeZone };
  const client = df.getClient(context);
  for (let attempt = 0; attempt < MAX_IDS_PER_DAY; attempt++) {
    if ((await startUnder(client, remindersInstanceId(day, attempt), input, context)) !== 'taken') return;
  }
  throw new CodedError(
    'REMINDERS_ID_TAKEN',
    `The reminders for ${day} were not started: other orchestrations hold all of ${remindersInstanceId(day)} to ${remindersInstanceId(day, MAX_IDS_PER_DAY - 1)}.`,
  );
}

app.timer('remindersTimer', {
  schedule: timerSchedule('remindersSchedule'),
  extraInputs: [df.input.durableClient()],
  handler: startDailyReminders,
});
