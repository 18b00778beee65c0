const df = require('durable-functions');

const square = df.app.activity('square', {
  handler: async (n) => {
    await new Promise((r) => setTimeout(r, Math.random() * 5));
    return n * n;
  },
});

df.app.orchestration('fanOutFanIn', function* (context) {
  const count = context.df.getInput() ?? 100;
  const tasks = [];
  for (let i = 1; i <= count; i++) tasks.push(square(i));
  const results = yield context.df.Task.all(tasks);
  return results.reduce((a, b) => a + b, 0);
});
