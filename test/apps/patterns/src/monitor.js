const df = require('durable-functions');

df.app.activity('checkJob', { handler: (input) => input.checks + 1 >= input.doneAfter });

df.app.orchestration('monitor', function* (context) {
  const { doneAfter, intervalMs } = context.df.getInput();
  let checks = 0;
  for (;;) {
    const done = yield context.df.callActivity('checkJob', { checks, doneAfter });
    checks++;
    context.df.setCustomStatus({ checks });
    if (done) return { checks, finishedAt: context.df.currentUtcDateTime.toISOString() };
    yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + intervalMs));
  }
});
