// Durable timers for the crash tests (test/host/crash.test.ts, test/host/timerWakeups.test.ts).
const df = require('durable-functions');

// Input { delayMs }: one durable timer, then an activity; returns when the timer was due and fired.
df.app.orchestration('crashSleeper', function* (context) {
  const { delayMs } = context.df.getInput();
  const dueAt = new Date(context.df.currentUtcDateTime.getTime() + delayMs);
  yield context.df.createTimer(dueAt);
  const after = yield context.df.callActivity('crashCombine', { tag: 'timer', results: [{ square: 7 }] });
  return { dueAt: dueAt.toISOString(), resumedAt: context.df.currentUtcDateTime.toISOString(), after };
});

// Input { delayMs }: waits for both a durable timer and an external event 'go'.
df.app.orchestration('crashTimerAndEvent', function* (context) {
  const { delayMs } = context.df.getInput();
  const dueAt = new Date(context.df.currentUtcDateTime.getTime() + delayMs);
  const [, go] = yield context.df.Task.all([
    context.df.createTimer(dueAt),
    context.df.waitForExternalEvent('go'),
  ]);
  return { dueAt: dueAt.toISOString(), go, resumedAt: context.df.currentUtcDateTime.toISOString() };
});

// Input { delaysMs: number[] }: one durable timer per delay, all pending at once.
df.app.orchestration('crashTimers', function* (context) {
  const { delaysMs } = context.df.getInput();
  const start = context.df.currentUtcDateTime.getTime();
  yield context.df.Task.all(delaysMs.map((d) => context.df.createTimer(new Date(start + d))));
  return { fired: delaysMs.length, resumedAt: context.df.currentUtcDateTime.toISOString() };
});
