// A blob-triggered function: each text blob put in 'uploads' is copied in capitals to 'processed',
// and one message per run goes to 'upload-events' (so a run can be counted from outside).
const { app, output } = require('@azure/functions');

const processed = output.storageBlob({ path: 'processed/{name}.txt', connection: 'AzureWebJobsStorage' });
const events = output.storageQueue({ queueName: 'upload-events', connection: 'AzureWebJobsStorage' });

app.storageBlob('onUpload', {
  path: 'uploads/{name}.txt',
  connection: 'AzureWebJobsStorage',
  extraOutputs: [processed, events],
  handler: async (blob, context) => {
    context.extraOutputs.set(processed, blob.toString('utf8').toUpperCase());
    context.extraOutputs.set(events, {
      name: context.triggerMetadata.name,
      path: context.triggerMetadata.blobTrigger,
    });
  },
});
