// Bindings the local host does not serve: the app must still start, with one warning naming them.
const { app, input, output, trigger } = require('@azure/functions');

app.generic('tallyFromBus', {
  trigger: trigger.generic({
    type: 'serviceBusTrigger',
    name: 'message',
    queueName: 'tally',
    connection: 'SB',
  }),
  handler: async () => undefined,
});

app.http('mailer', {
  route: 'mailer',
  methods: ['POST'],
  extraInputs: [
    input.cosmosDB({ databaseName: 'db', containerName: 'people', connection: 'Cosmos', id: '1' }),
  ],
  extraOutputs: [output.generic({ type: 'sendGrid', name: 'mail', apiKey: 'SendGridKey' })],
  handler: async () => ({ status: 204 }),
});
