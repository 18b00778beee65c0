// Fan-out/fan-in for the crash tests (test/host/crash.test.ts). Every activity
// execution appends a 'start' and an 'end' line to $CRASH_EXECUTION_LOG, so the test can count
// at-least-once re-executions after a kill -9.
const fs = require('node:fs');
const df = require('durable-functions');

function record(entry) {
  const file = process.env.CRASH_EXECUTION_LOG;
  if (file) fs.appendFileSync(file, JSON.stringify({ ...entry, pid: process.pid }) + '\n');
}

const work = df.app.activity('crashWork', {
  handler: async ({ tag, i, ms }) => {
    record({ ev: 'start', tag, i });
    await new Promise((r) => setTimeout(r, ms));
    record({ ev: 'end', tag, i });
    return { i, square: i * i };
  },
});

const combine = df.app.activity('crashCombine', {
  handler: ({ tag, results }) => ({
    tag,
    count: results.length,
    sum: results.reduce((a, r) => a + r.square, 0),
  }),
});

// Input { tag, count, ms }: `count` parallel crashWork calls, then one crashCombine over their results.
df.app.orchestration('crashFanOut', function* (context) {
  const { tag, count, ms } = context.df.getInput();
  const tasks = [];
  for (let i = 1; i <= count; i++) tasks.push(work({ tag, i, ms }));
  const results = yield context.df.Task.all(tasks);
  const summary = yield combine({ tag, results });
  return { ...summary, order: results.map((r) => r.i) };
});
