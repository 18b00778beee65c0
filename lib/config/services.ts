/**
 * Builds the app's clients from its settings, once per process: the Dataverse and Graph clients with
 * the right credentials, and the Blob-backed stores. Activities ask for what they need here instead of each
 * building their own.
 */
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { ClientSecretCredential, ManagedIdentityCredential } from '@azure/identity';
import { BlobServiceClient } from '@azure/storage-blob';
import { MemoryCache, RedisCache, type Cache } from '../cache';
import { DataverseClient, DataverseMetadata, RequestPacer } from '../dataverse';
import { GraphClient } from '../graph';
import { RollbackPointStore } from '../rollback';
import { JsonBlobs } from '../storage/jsonBlobs';
import { VersionedConfig } from './versionedConfig';
import { AppSettings, SettingsError, readSettings } from './settings';

/** For the local simulator, which accepts any bearer token. Never used when a secret or identity is configured. */
class StaticTokenCredential implements TokenCredential {
  constructor(private readonly token: string) {}
  async getToken(): Promise<AccessToken> {
    return { token: this.token, expiresOnTimestamp: Date.now() + 3600_000 };
  }
}

export function credentialFor(
  auth: AppSettings['dataverseAuth'] | AppSettings['graphAuth'],
): TokenCredential {
  switch (auth.kind) {
    case 'clientSecret':
      return new ClientSecretCredential(auth.tenantId, auth.clientId, auth.clientSecret);
    case 'staticToken':
      return new StaticTokenCredential(auth.token);
    case 'managedIdentity':
      return auth.clientId
        ? new ManagedIdentityCredential({ clientId: auth.clientId })
        : new ManagedIdentityCredential();
  }
}

export interface AppServices {
  settings: AppSettings;
  dataverse(correlationId?: string): DataverseClient;
  /** Dataverse table metadata, cached for metadataCacheSeconds in `cache`. */
  metadata(correlationId?: string): DataverseMetadata;
  /** The process's cache: Redis when REDIS_URL is set, else this process's memory. */
  cache: Cache;
  /** The Microsoft Graph client (GRAPH_URL, with the Graph credential). */
  graph(): GraphClient;
  snapshots: JsonBlobs;
  config: VersionedConfig<Record<string, unknown>>;
  rollbackPoints: RollbackPointStore;
}

function blobService(settings: AppSettings): BlobServiceClient {
  if ('connectionString' in settings.storage)
    return BlobServiceClient.fromConnectionString(settings.storage.connectionString);
  const credential = settings.storage.clientId
    ? new ManagedIdentityCredential({ clientId: settings.storage.clientId })
    : new ManagedIdentityCredential();
  return new BlobServiceClient(settings.storage.accountUrl, credential);
}

export function buildServices(settings: AppSettings): AppServices {
  const blobs = blobService(settings);
  const credential = credentialFor(settings.dataverseAuth);
  let graph: GraphClient | undefined;
  const cache: Cache = settings.redisUrl ? new RedisCache(settings.redisUrl) : new MemoryCache();
  // One budget for the one app user these clients act as, however many clients are built.
  const pacer =
    settings.dataverseRequestsPer5Min > 0
      ? new RequestPacer({ requestsPer5Min: settings.dataverseRequestsPer5Min })
      : undefined;
  const dataverse = (correlationId?: string): DataverseClient => {
    if (!settings.dataverseUrl)
      throw new SettingsError('DATAVERSE_URL is not set; point it at your environment or the simulator.');
    return new DataverseClient(settings.dataverseUrl, credential, {
      correlationId,
      maxRetries: settings.dataverseRetries,
      pacer,
    });
  };
  return {
    settings,
    dataverse,
    metadata(correlationId) {
      return new DataverseMetadata(dataverse(correlationId), cache, settings.metadataCacheSeconds * 1000);
    },
    cache,
    graph() {
      graph ??= new GraphClient(settings.graphUrl, credentialFor(settings.graphAuth), {
        maxRetries: settings.graphRetries,
      });
      return graph;
    },
    snapshots: new JsonBlobs(blobs.getContainerClient(settings.containers.snapshots)),
    config: new VersionedConfig(new JsonBlobs(blobs.getContainerClient(settings.containers.config))),
    rollbackPoints: new RollbackPointStore(
      new JsonBlobs(blobs.getContainerClient(settings.containers.rollback)),
    ),
  };
}

let cached: AppServices | undefined;

/** The process-wide services, built on first use from the environment. */
export function services(): AppServices {
  cached ??= buildServices(readSettings());
  return cached;
}
