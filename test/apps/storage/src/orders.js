// A queue-triggered function that reads the order's customer from a blob named by the message,
// and answers on another queue (its return value) and in a blob (an extra output).
const { app, input, output } = require('@azure/functions');

const customer = input.storageBlob({
  path: 'customers/{customerId}.json',
  connection: 'AzureWebJobsStorage',
});
const receipt = output.storageBlob({
  path: 'receipts/{orderId}-{rand-guid}.txt',
  connection: 'AzureWebJobsStorage',
});

app.storageQueue('processOrder', {
  queueName: 'orders',
  connection: 'AzureWebJobsStorage',
  extraInputs: [customer],
  extraOutputs: [receipt],
  return: output.storageQueue({ queueName: 'confirmations', connection: 'AzureWebJobsStorage' }),
  handler: async (order, context) => {
    const who = context.extraInputs.get(customer);
    const name = who ? JSON.parse(who.toString('utf8')).name : null;
    context.extraOutputs.set(receipt, `order ${order.orderId} for ${name}`);
    return {
      orderId: order.orderId,
      customerName: name,
      dequeueCount: context.triggerMetadata.dequeueCount,
    };
  },
});

// Always fails: its messages end in 'fragile-poison' after maxDequeueCount (host.json: 3) runs.
app.storageQueue('fragile', {
  queueName: 'fragile',
  connection: 'AzureWebJobsStorage',
  handler: async (message, context) => {
    context.log(`fragile run ${context.triggerMetadata.dequeueCount} of ${JSON.stringify(message)}`);
    throw new Error('fragile always fails');
  },
});
