const df = require('durable-functions');

df.app.activity('echo', { handler: (x) => x });

// Waits for events until told to stop; used for terminate, suspend/resume and events.
df.app.orchestration('waiter', function* (context) {
  const received = [];
  for (;;) {
    const e = yield context.df.waitForExternalEvent('next');
    if (e === 'stop') return received;
    received.push(yield context.df.callActivity('echo', e));
    context.df.setCustomStatus({ received: received.length });
  }
});

const failOnce = new Set();
df.app.activity('failFirstTime', {
  handler: (key) => {
    if (!failOnce.has(key)) {
      failOnce.add(key);
      throw new Error(`first run of ${key} fails`);
    }
    return `${key} ok`;
  },
});

df.app.orchestration('rewindable', function* (context) {
  const a = yield context.df.callActivity('echo', 'a');
  const b = yield context.df.callActivity('failFirstTime', context.df.instanceId);
  return [a, b];
});

df.app.orchestration('failing', function* (context) {
  yield context.df.callActivity('echo', 1);
  throw new Error('orchestrator gave up');
});

// Its shape depends on a module-level flag, so a test can "deploy" different code mid-flight.
globalThis.__lifeCockpitVersion = globalThis.__lifeCockpitVersion ?? 1;
df.app.orchestration('versioned', function* (context) {
  yield context.df.callActivity('echo', 'first');
  yield context.df.waitForExternalEvent('go');
  if (globalThis.__lifeCockpitVersion === 1) {
    yield context.df.callActivity('echo', 'second');
  } else {
    yield context.df.callActivity('sayHello', 'changed');
  }
  context.df.setCustomStatus('second done');
  yield context.df.waitForExternalEvent('finish');
  yield context.df.callActivity('echo', 'third');
  return 'done';
});

df.app.activity('sleepy', {
  handler: (ms) => new Promise((resolve) => setTimeout(() => resolve('woke'), ms)),
});

df.app.orchestration('timeoutCaller', function* (context) {
  try {
    return yield context.df.callActivity('sleepy', context.df.getInput());
  } catch (err) {
    return { failed: err.message };
  }
});
