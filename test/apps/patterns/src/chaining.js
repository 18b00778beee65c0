const df = require('durable-functions');

const sayHello = df.app.activity('sayHello', { handler: (name) => `Hello ${name}!` });

df.app.orchestration('chaining', function* (context) {
  const outputs = [];
  outputs.push(yield sayHello('Tokyo'));
  outputs.push(yield sayHello('Seattle'));
  outputs.push(yield context.df.callActivity('sayHello', 'London'));
  return outputs;
});
