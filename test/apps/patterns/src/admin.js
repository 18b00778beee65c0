// Functions nothing triggers on its own during a test, run by hand through POST /admin/functions/{name}.
const { app, trigger } = require('@azure/functions');
const df = require('durable-functions');

// A yearly timer: each run adds 1 to the counter entity 'admin-timer'.
app.timer('yearlyTally', {
  schedule: '0 0 0 1 1 *',
  extraInputs: [df.input.durableClient()],
  handler: async (timer, context) => {
    await df.getClient(context).signalEntity(new df.EntityId('counter', 'admin-timer'), 'add', 1);
  },
});

// A trigger the local host cannot drive: the admin API hands it its input as a string.
app.generic('manualTally', {
  trigger: trigger.generic({
    type: 'serviceBusTrigger',
    name: 'message',
    queueName: 'tally',
    connection: 'SB',
  }),
  extraInputs: [df.input.durableClient()],
  handler: async (message, context) => {
    await df
      .getClient(context)
      .signalEntity(new df.EntityId('counter', 'admin-generic'), 'add', Number(message));
  },
});
