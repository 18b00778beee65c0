/**
 * Every morning (REMINDERS_SCHEDULE, six-field NCRONTAB, default 09:00 in WEBSITE_TIME_ZONE) starts
 * the day's reminders as `dailyReminders-<day>`. The day is that of the occurrence being run (from
 * the timer's schedule status), or today when that occurrence's day is already over (a catch-up after
 * a long outage), in the practice's time zone. If the day's instance already exists (a restart, a second host, a catch-up
 * after a run that did happen), nothing is started: a day is reminded once. Without MAIL_SENDER the
 * reminders are off (nothing could be sent).
 */
import { app, type InvocationContext, type Timer } from '@azure/functions';
import * as df from 'durable-functions';
import { readSettings } from '../lib/config/settings';
import { services } from '../lib/config/services';
import { dayWindow, localDay } from '../activities/practice';
import { remindersInstanceId, type RemindersInput } from '../orchestrators/dailyReminders';
import { isNotFound } from '../lib/api/durable';

/** The occurrence this invocation stands for: the scheduled time, not when the handler happens to run. */
export function occurrenceOf(timer: Timer, now = Date.now()): number {
  const scheduled = Date.parse(timer.scheduleStatus?.next ?? '');
  return Number.isFinite(scheduled) ? scheduled : now;
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
  const instanceId = remindersInstanceId(day);
  const client = df.getClient(context);
  try {
    const existing = await client.getStatus(instanceId);
    context.log(
      `Reminders for ${day} already ${String(existing.runtimeStatus)} (${instanceId}); not starting again.`,
    );
    return;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const input: RemindersInput = { day, ...dayWindow(day, timeZone), timeZone };
  try {
    await client.startNew('dailyReminders', { instanceId, input });
    context.log(`Started the reminders for ${day} (${instanceId}).`);
  } catch (err) {
    // Another host may have started it between our check and our start; anything else is a failure.
    const started = await client.getStatus(instanceId).then(
      () => true,
      () => false,
    );
    if (!started) throw err;
    context.log(`Reminders for ${day} were started by another host (${instanceId}).`);
  }
}

/** Read when the app loads (a timer's schedule is fixed at registration); bad settings must not stop the app loading. */
function schedule(): string {
  try {
    return readSettings().remindersSchedule;
  } catch {
    return '0 0 9 * * *';
  }
}

app.timer('remindersTimer', {
  schedule: schedule(),
  extraInputs: [df.input.durableClient()],
  handler: startDailyReminders,
});
