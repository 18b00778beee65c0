/**
 * Daily: expires rollback points past their expiry and deletes their snapshots. Schedule from the
 * ROLLBACK_EXPIRY_SCHEDULE app setting (six-field NCRONTAB, read by lib/config/settings.ts), 02:30
 * every day by default.
 */
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { expireRollbackPoints } from '../activities/rollbackPoints';
import { timerSchedule } from '../lib/config/settings';

export async function expireRollbackPointsNow(_timer: Timer, context: InvocationContext): Promise<void> {
  const expired = await expireRollbackPoints(new Date().toISOString());
  context.log(
    `Expired ${expired.length} rollback point(s)${expired.length ? `: ${expired.join(', ')}` : ''}.`,
  );
}

app.timer('rollbackExpiry', {
  schedule: timerSchedule('rollbackExpirySchedule'),
  handler: expireRollbackPointsNow,
});
