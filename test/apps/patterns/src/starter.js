// HTTP starter in the shape of the durable-functions samples: POST /api/orchestrators/{name}[/{id}].
const { app } = require('@azure/functions');
const df = require('durable-functions');

app.http('startOrchestration', {
  route: 'orchestrators/{orchestratorName}/{instanceId?}',
  methods: ['POST'],
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: async (request, context) => {
    const client = df.getClient(context);
    const text = await request.text();
    const input = text ? JSON.parse(text) : undefined;
    const instanceId = await client.startNew(request.params.orchestratorName, {
      input,
      instanceId: request.params.instanceId,
    });
    context.log(`Started orchestration with ID = '${instanceId}'.`);
    return client.createCheckStatusResponse(request, instanceId);
  },
});

app.http('startAndWait', {
  route: 'run/{orchestratorName}',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: async (request, context) => {
    const client = df.getClient(context);
    const text = await request.text();
    const instanceId = await client.startNew(request.params.orchestratorName, {
      input: text ? JSON.parse(text) : undefined,
    });
    return client.waitForCompletionOrCreateCheckStatusResponse(request, instanceId, {
      timeoutInMilliseconds: 20000,
      retryIntervalInMilliseconds: 50,
    });
  },
});

// A timer trigger with a durable client input: runs once at start and starts an orchestration.
app.timer('startOnBoot', {
  schedule: '0 0 0 1 1 *',
  runOnStartup: true,
  extraInputs: [df.input.durableClient()],
  handler: async (timer, context) => {
    const client = df.getClient(context);
    const existing = await client.getStatus('started-by-timer').catch(() => undefined);
    if (!existing || !existing.runtimeStatus)
      await client.startNew('chaining', { instanceId: 'started-by-timer' });
  },
});
