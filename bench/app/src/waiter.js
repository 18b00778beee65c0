/**
 * Benchmark app: an orchestration that waits for an external event 'go' (what most of a practice's
 * instances do most of the time: wait for a person or a date), then returns what it was sent.
 */
const df = require('durable-functions');

df.app.orchestration('benchWaiter', function* (context) {
  context.df.setCustomStatus('waiting');
  const value = yield context.df.waitForExternalEvent('go');
  return value;
});
