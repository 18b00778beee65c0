// A timer trigger for the past-due crash test. It is registered only when $CRASH_TIMER_LOG is set,
// so the durable crash tests run without it. Each invocation appends one JSON line to that file.
const fs = require('node:fs');
const { app } = require('@azure/functions');

if (process.env.CRASH_TIMER_LOG) {
  app.timer('crashTick', {
    schedule: process.env.CRASH_TIMER_SCHEDULE || '*/1 * * * * *',
    handler: (timer) => {
      fs.appendFileSync(
        process.env.CRASH_TIMER_LOG,
        JSON.stringify({
          at: Date.now(),
          pid: process.pid,
          isPastDue: timer.isPastDue,
          scheduleStatus: timer.scheduleStatus ?? null,
        }) + '\n',
      );
    },
  });
}
