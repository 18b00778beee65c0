const df = require('durable-functions');

df.app.activity('increment', { handler: (n) => n + 1 });

df.app.orchestration('eternalCounter', function* (context) {
  const state = context.df.getInput();
  const next = yield context.df.callActivity('increment', state.value);
  if (next >= state.stopAt) return { value: next, generations: state.generations + 1 };
  yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 1000));
  context.df.continueAsNew({ value: next, stopAt: state.stopAt, generations: state.generations + 1 });
  return undefined;
});
