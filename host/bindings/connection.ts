/**
 * Turns a storage binding's `connection` into blob and queue clients, as the Functions host reads
 * it: the app setting named by the binding (default `AzureWebJobsStorage`, also tried with the
 * `AzureWebJobs` prefix), either a connection string (`UseDevelopmentStorage=true` is Azurite's
 * well-known account on 127.0.0.1:10000/10001) or identity-style settings `<name>__accountName`,
 * `<name>__blobServiceUri`, `<name>__queueServiceUri`, `<name>__serviceUri` used with
 * DefaultAzureCredential (`<name>__clientId` picks a user-assigned identity). Locally, identity
 * settings need an endpoint this machine can reach and a credential DefaultAzureCredential finds.
 * It reads only the settings it is given, never process.env on its own, and never logs a secret.
 */
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';

export const DEFAULT_CONNECTION = 'AzureWebJobsStorage';

/** Azurite's development account: public, the same on every machine. */
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
export const DEVELOPMENT_STORAGE =
  `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};` +
  `BlobEndpoint=http://127.0.0.1:10000/${DEV_ACCOUNT};QueueEndpoint=http://127.0.0.1:10001/${DEV_ACCOUNT};`;

export type StorageSettings = Record<string, string | undefined>;

/** Where a connection points, before any client exists (what tests and messages look at). */
export type ConnectionTarget =
  | { kind: 'connectionString'; setting: string; connectionString: string }
  | {
      kind: 'identity';
      setting: string;
      blobServiceUri?: string;
      queueServiceUri?: string;
      clientId?: string;
    };

export class StorageConnectionError extends Error {
  override readonly name = 'StorageConnectionError';
  readonly code = 'STORAGE_CONNECTION_MISSING';
}

/** Reads the settings behind a binding's `connection` (case-insensitive, as app settings are). */
export function connectionTarget(
  connection: string | undefined,
  settings: StorageSettings,
): ConnectionTarget {
  const name = connection?.trim() || DEFAULT_CONNECTION;
  const lookup = caseInsensitive(settings);
  for (const candidate of [name, `AzureWebJobs${name}`]) {
    const value = lookup(candidate);
    if (value?.trim()) {
      const text = value.trim();
      const connectionString = /^UseDevelopmentStorage=true;?$/i.test(text) ? DEVELOPMENT_STORAGE : text;
      return { kind: 'connectionString', setting: candidate, connectionString };
    }
    const account = lookup(`${candidate}__accountName`);
    const blob = lookup(`${candidate}__blobServiceUri`) ?? lookup(`${candidate}__serviceUri`);
    const queue = lookup(`${candidate}__queueServiceUri`);
    if (account || blob || queue) {
      return {
        kind: 'identity',
        setting: candidate,
        blobServiceUri: blob ?? (account ? `https://${account}.blob.core.windows.net` : undefined),
        queueServiceUri: queue ?? (account ? `https://${account}.queue.core.windows.net` : undefined),
        clientId: lookup(`${candidate}__clientId`),
      };
    }
  }
  throw new StorageConnectionError(
    `The storage connection '${name}' is not configured: set '${name}' to a connection string ` +
      `(UseDevelopmentStorage=true for Azurite) or '${name}__accountName' in local.settings.json Values.`,
  );
}

function caseInsensitive(settings: StorageSettings): (key: string) => string | undefined {
  const lower = new Map<string, string>();
  for (const [k, v] of Object.entries(settings)) if (v !== undefined) lower.set(k.toLowerCase(), v);
  return (key) => lower.get(key.toLowerCase());
}

/** Clients for one connection, made once and shared by every binding that names it. */
export class StorageConnections {
  private readonly blobs = new Map<string, BlobServiceClient>();
  private readonly queues = new Map<string, QueueServiceClient>();
  private credential: TokenCredential | undefined;

  constructor(private readonly settings: StorageSettings) {}

  blobService(connection: string | undefined): BlobServiceClient {
    const target = connectionTarget(connection, this.settings);
    const key = target.setting;
    let client = this.blobs.get(key);
    if (!client) {
      if (target.kind === 'connectionString')
        client = BlobServiceClient.fromConnectionString(target.connectionString);
      else if (target.blobServiceUri)
        client = new BlobServiceClient(target.blobServiceUri, this.tokenCredential(target.clientId));
      else
        throw new StorageConnectionError(
          `The storage connection '${target.setting}' has no blob endpoint: set '${target.setting}__accountName' or '${target.setting}__blobServiceUri'.`,
        );
      this.blobs.set(key, client);
    }
    return client;
  }

  queueService(connection: string | undefined): QueueServiceClient {
    const target = connectionTarget(connection, this.settings);
    const key = target.setting;
    let client = this.queues.get(key);
    if (!client) {
      if (target.kind === 'connectionString')
        client = QueueServiceClient.fromConnectionString(target.connectionString);
      else if (target.queueServiceUri)
        client = new QueueServiceClient(target.queueServiceUri, this.tokenCredential(target.clientId));
      else
        throw new StorageConnectionError(
          `The storage connection '${target.setting}' has no queue endpoint: set '${target.setting}__accountName' or '${target.setting}__queueServiceUri'.`,
        );
      this.queues.set(key, client);
    }
    return client;
  }

  private tokenCredential(clientId: string | undefined): TokenCredential {
    if (clientId) return new DefaultAzureCredential({ managedIdentityClientId: clientId });
    this.credential ??= new DefaultAzureCredential();
    return this.credential;
  }
}
