const df = require('durable-functions');

// Fails until the attempt counter (kept in the entity-free global store below) reaches the threshold.
const attempts = new Map();
df.app.activity('flaky', {
  handler: (input) => {
    const n = (attempts.get(input.key) ?? 0) + 1;
    attempts.set(input.key, n);
    if (n < input.succeedOnAttempt) throw new Error(`attempt ${n} failed`);
    return { key: input.key, attempts: n };
  },
});

df.app.orchestration('flakyChild', function* (context) {
  const input = context.df.getInput();
  return yield context.df.callActivity('flaky', input);
});

df.app.orchestration('parentWithRetry', function* (context) {
  const input = context.df.getInput();
  const retry = new df.RetryOptions(100, 4);
  const children = [];
  for (let i = 0; i < input.children; i++) {
    children.push(
      context.df.callSubOrchestratorWithRetry('flakyChild', retry, {
        key: `${input.key}-${i}`,
        succeedOnAttempt: input.succeedOnAttempt,
      }),
    );
  }
  return yield context.df.Task.all(children);
});

df.app.orchestration('activityRetry', function* (context) {
  const input = context.df.getInput();
  const retry = new df.RetryOptions(1000, input.maxAttempts);
  retry.backoffCoefficient = 2;
  try {
    return yield context.df.callActivityWithRetry('flaky', retry, input);
  } catch (err) {
    return { failed: true, message: err.message };
  }
});

// Retries and plain completions land in the same episodes; ids must still line up.
df.app.orchestration('mixedRetry', function* (context) {
  const { key } = context.df.getInput();
  const retry = new df.RetryOptions(10, 3);
  const tasks = [];
  for (let i = 0; i < 4; i++) {
    tasks.push(context.df.callActivityWithRetry('flaky', retry, { key: `${key}-${i}`, succeedOnAttempt: 2 }));
    tasks.push(context.df.callActivity('sayHello', `n${i}`));
  }
  const results = yield context.df.Task.all(tasks);
  const after = yield context.df.callActivity('sayHello', 'after');
  return { results, after };
});
