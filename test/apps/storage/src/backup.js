// The durable-functions cloud backup sample's shape: an HTTP-started orchestration lists the files
// under a folder, fans out one activity per file that copies it to a blob through an output
// binding, and returns the total number of bytes.
const { app, output } = require('@azure/functions');
const df = require('durable-functions');
const fs = require('node:fs/promises');
const path = require('node:path');

const blobOutput = output.storageBlob({
  path: 'backups/{backupPath}',
  connection: 'StorageConnString',
});

df.app.orchestration('backupSiteContent', function* (context) {
  const rootDirectory = context.df.getInput();
  if (!rootDirectory) throw new Error('A directory path is required as an input.');
  const files = yield context.df.callActivity('getFileList', rootDirectory);
  const tasks = files.map((file) =>
    context.df.callActivity('copyFileToBlob', {
      backupPath: path.relative(rootDirectory, file).split(path.sep).join('/'),
      filePath: file,
    }),
  );
  const sizes = yield context.df.Task.all(tasks);
  return sizes.reduce((total, size) => total + size, 0);
});

df.app.activity('getFileList', {
  handler: async (rootDirectory) => {
    const entries = await fs.readdir(rootDirectory, { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath ?? e.path, e.name));
  },
});

df.app.activity('copyFileToBlob', {
  extraOutputs: [blobOutput],
  handler: async ({ backupPath, filePath }, context) => {
    const content = await fs.readFile(filePath);
    context.log(`Copying '${filePath}' to 'backups/${backupPath}' (${content.length} bytes).`);
    context.extraOutputs.set(blobOutput, content);
    return content.length;
  },
});

app.http('backupStart', {
  route: 'backup',
  methods: ['POST'],
  extraInputs: [df.input.durableClient()],
  handler: async (request, context) => {
    const client = df.getClient(context);
    const { rootDirectory } = await request.json();
    const instanceId = await client.startNew('backupSiteContent', { input: rootDirectory });
    return client.createCheckStatusResponse(request, instanceId);
  },
});
