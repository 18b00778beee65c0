import { BlobServiceClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';

describe('the shared Azurite', () => {
  it('stores and reads a blob through the real storage client', async () => {
    const service = BlobServiceClient.fromConnectionString(
      String(process.env.AZURE_STORAGE_CONNECTION_STRING),
    );
    const container = service.getContainerClient(`probe-${Date.now()}`);
    await container.createIfNotExists();
    await container.getBlockBlobClient('hello.json').upload('{"hi":1}', 8);
    const text = (await container.getBlobClient('hello.json').downloadToBuffer()).toString();
    expect(JSON.parse(text)).toEqual({ hi: 1 });
  });
});
