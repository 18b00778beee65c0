/**
 * Benchmark app: a sequential chain of no-op activities. The activity records when it started and
 * ended (performance.now(), same process as the benchmark) in globalThis.__benchSamples, keyed by
 * instance and step, so the benchmark can measure the delay from one step's end to the next one's
 * start; globalThis.__benchOnSample, when set, is told of each sample. Nothing else is done, so
 * what is measured is the host and the library.
 */
const df = require('durable-functions');
const { performance } = require('node:perf_hooks');

df.app.activity('benchNoop', {
  handler: (input) => {
    const start = performance.now();
    const sample = { id: input.id, k: input.k, start, end: 0 };
    if (!globalThis.__benchSamples) globalThis.__benchSamples = [];
    globalThis.__benchSamples.push(sample);
    if (globalThis.__benchOnSample) globalThis.__benchOnSample(sample);
    sample.end = performance.now();
    return input.k;
  },
});

df.app.orchestration('benchChain', function* (context) {
  const { steps } = context.df.getInput();
  const id = context.df.instanceId;
  let last = -1;
  for (let k = 0; k < steps; k++) last = yield context.df.callActivity('benchNoop', { id, k });
  return last + 1;
});
