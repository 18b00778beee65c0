const df = require('durable-functions');

df.app.entity('counter', (context) => {
  const value = context.df.getState(() => 0);
  switch (context.df.operationName) {
    case 'add':
      context.df.setState(value + context.df.getInput());
      break;
    case 'reset':
      context.df.setState(0);
      break;
    case 'get':
      context.df.return(value);
      break;
    case 'fail':
      throw new Error('counter refused');
  }
});

df.app.orchestration('counterUser', function* (context) {
  const id = new df.EntityId('counter', context.df.getInput().key);
  context.df.signalEntity(id, 'add', 5);
  const before = yield context.df.callEntity(id, 'get');
  yield context.df.callEntity(id, 'add', 10);
  const after = yield context.df.callEntity(id, 'get');
  return { before, after };
});

df.app.orchestration('lockedTransfer', function* (context) {
  const { from, to, amount } = context.df.getInput();
  const a = new df.EntityId('counter', from);
  const b = new df.EntityId('counter', to);
  const lock = yield context.df.lock([a, b]);
  const held = context.df.isLocked().ownedLocks.map((e) => `${e.name}@${e.key}`);
  const balance = yield context.df.callEntity(a, 'get');
  yield context.df.callEntity(a, 'add', -amount);
  yield context.df.callEntity(b, 'add', amount);
  lock.release();
  return { held, balanceBefore: balance };
});

df.app.orchestration('lockThenThrow', function* (context) {
  const id = new df.EntityId('counter', context.df.getInput().key);
  yield context.df.lock([id]);
  yield context.df.callEntity(id, 'add', 1);
  throw new Error('critical section crashed');
});
