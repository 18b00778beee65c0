// Exposes DurableClient operations over HTTP so tests exercise the rpc API the way the library calls it.
const { app } = require('@azure/functions');
const df = require('durable-functions');

app.http('clientOps', {
  route: 'client/{op}/{id?}',
  methods: ['GET', 'POST', 'DELETE'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: async (request, context) => {
    const client = df.getClient(context);
    const id = request.params.id;
    const body = request.method === 'GET' ? undefined : await request.text();
    const data = body ? JSON.parse(body) : {};
    try {
      switch (request.params.op) {
        case 'start':
          return {
            jsonBody: { id: await client.startNew(data.name, { input: data.input, instanceId: id }) },
          };
        case 'status':
          return {
            jsonBody: await client.getStatus(id, {
              showHistory: data.showHistory,
              showHistoryOutput: data.showHistory,
              showInput: true,
            }),
          };
        case 'list':
          return { jsonBody: await client.getStatusBy({ runtimeStatus: data.runtimeStatus }) };
        case 'raise':
          await client.raiseEvent(id, data.event, data.data);
          return { status: 202 };
        case 'terminate':
          await client.terminate(id, data.reason);
          return { status: 202 };
        case 'suspend':
          await client.suspend(id, data.reason);
          return { status: 202 };
        case 'resume':
          await client.resume(id, data.reason);
          return { status: 202 };
        case 'rewind':
          await client.rewind(id, data.reason);
          return { status: 202 };
        case 'purge':
          return { jsonBody: await client.purgeInstanceHistory(id) };
        case 'signal':
          await client.signalEntity(new df.EntityId(data.entity, data.key), data.operation, data.input);
          return { status: 202 };
        case 'entity': {
          const state = await client.readEntityState(new df.EntityId(data.entity, data.key));
          return { jsonBody: { exists: state.entityExists, state: state.entityState } };
        }
        case 'payload':
          return { jsonBody: client.createHttpManagementPayload(id) };
        default:
          return { status: 404, jsonBody: { code: 'UNKNOWN_OP' } };
      }
    } catch (err) {
      return { status: 500, jsonBody: { error: err.message } };
    }
  },
});
