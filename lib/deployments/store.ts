/**
 * Deployment records in Blob storage: one JSON document per deployment under `deployments/`, updated
 * with etag compare-and-swap. Creating a record is create-only, which is what makes one version
 * deployable once even when two requests race. The record is what `GET /api/deployments` shows;
 * it never holds secrets (a manifest carries none).
 */
import { ManagedIdentityCredential } from '@azure/identity';
import { BlobServiceClient } from '@azure/storage-blob';
import type { AppSettings } from '../config/settings';
import type { DeploymentState, DeploymentSummary } from '../contracts/responses';
import { services } from '../config/services';
import { CodedError } from '../errors/codedError';
import type { RetryPolicy } from '../saga/retry';
import { documentBlobName } from '../ids';
import { BlobConflictError, JsonBlobs } from '../storage/jsonBlobs';
import type { DeploymentManifest } from './manifest';

export type { DeploymentState } from '../contracts/responses';

export const FINAL_STATES: readonly DeploymentState[] = ['succeeded', 'rejected', 'rolled-back', 'failed'];

export interface HealthCheckResult {
  name: string;
  ok: boolean;
  detail?: string;
}

/** The stored record: what GET /api/deployments lists of it, and the details behind. */
export interface DeploymentRecord extends Omit<DeploymentSummary, 'requireApproval' | 'runtimeStatus'> {
  manifest: DeploymentManifest;
  /** Every state the deployment went through, with orchestration time. */
  history: { state: DeploymentState; at: string; note?: string }[];
  /** What was in force before the deployment (for people; the rollback points hold the undo). */
  before?: { configVersion: number | null; dataverseChanges: number; alreadyInDesiredState: number };
  config?: { version: number; previousVersion: number | null; rollbackPointId: string };
  dataverse?: { rollbackPointId?: string; applied: number };
  health?: { ok: boolean; checkedAt: string; checks: HealthCheckResult[] };
  compensations?: { step: string; pointId: string; outcome: 'rolled-back' | 'failed'; error?: string }[];
}

export type DeploymentErrorCode =
  | 'DEPLOYMENT_EXISTS'
  | 'DEPLOYMENT_NOT_FOUND'
  | 'DEPLOYMENT_NOT_AWAITING_APPROVAL'
  | 'DEPLOYMENT_BUSY'
  | 'DEPLOYMENT_STATE_CONFLICT'
  | 'DEPLOYMENT_UNHEALTHY'
  | 'DEPLOYMENT_FAILED'
  | 'DEPLOYMENT_ROLLED_BACK'
  | 'DEPLOYMENT_ROLLBACK_FAILED';

/** Store reads and writes from a saga are retried: a transient error must not roll back good work. */
export const STORE_RETRY: RetryPolicy = { firstRetryIntervalMs: 1000, maxAttempts: 4, backoffCoefficient: 2 };

export class DeploymentError extends CodedError<DeploymentErrorCode> {
  override readonly name = 'DeploymentError';
}

/** The record of a deployment just requested. */
export function newDeploymentRecord(id: string, manifest: DeploymentManifest, at: string): DeploymentRecord {
  return {
    id,
    version: manifest.version,
    ...(manifest.description ? { description: manifest.description } : {}),
    state: 'pending',
    requestedAt: at,
    updatedAt: at,
    manifest,
    history: [{ state: 'pending', at }],
    rollbackPoints: [],
  };
}

/** Refuses an id that could name anything but a deployment record (InvalidIdError, INVALID_ID). */
const blobName = (id: string): string => documentBlobName('deployments', id);

export class DeploymentStore {
  constructor(private readonly blobs: JsonBlobs) {}

  /** Records a new deployment; a second record with the same id is a DEPLOYMENT_EXISTS error. */
  async create(record: DeploymentRecord): Promise<DeploymentRecord> {
    try {
      await this.blobs.put(blobName(record.id), record, { ifNoneMatch: '*' });
      return record;
    } catch (err) {
      if (!(err instanceof BlobConflictError)) throw err;
      const existing = await this.get(record.id);
      throw new DeploymentError(
        'DEPLOYMENT_EXISTS',
        `Deployment '${record.id}' already exists (${existing?.state ?? 'unknown state'}); a version is deployed once, so give the manifest a new version.`,
        { state: existing?.state },
      );
    }
  }

  async get(id: string): Promise<DeploymentRecord | undefined> {
    return (await this.blobs.get<DeploymentRecord>(blobName(id)))?.value;
  }

  async require(id: string): Promise<DeploymentRecord> {
    const record = await this.get(id);
    if (!record) throw new DeploymentError('DEPLOYMENT_NOT_FOUND', `No deployment with id '${id}'.`);
    return record;
  }

  /** All deployments, newest request first. */
  async list(): Promise<DeploymentRecord[]> {
    const records: DeploymentRecord[] = [];
    for (const name of await this.blobs.list('deployments/')) {
      const stored = await this.blobs.get<DeploymentRecord>(name);
      if (stored) records.push(stored.value);
    }
    return records.sort((a, b) =>
      a.requestedAt === b.requestedAt ? a.id.localeCompare(b.id) : b.requestedAt.localeCompare(a.requestedAt),
    );
  }

  /** Changes a record with compare-and-swap, retrying a few times when someone wrote in between. */
  async update(id: string, change: (r: DeploymentRecord) => DeploymentRecord): Promise<DeploymentRecord> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const stored = await this.blobs.get<DeploymentRecord>(blobName(id));
      if (!stored) throw new DeploymentError('DEPLOYMENT_NOT_FOUND', `No deployment with id '${id}'.`);
      const next = change(structuredClone(stored.value));
      try {
        await this.blobs.put(blobName(id), next, { ifMatch: stored.etag });
        return next;
      } catch (err) {
        if (!(err instanceof BlobConflictError)) throw err;
      }
    }
    throw new DeploymentError(
      'DEPLOYMENT_BUSY',
      `Deployment '${id}' kept changing while being updated; try again.`,
    );
  }
}

export const DEPLOYMENTS_CONTAINER = 'lifecockpit-deployments';

function blobService(storage: AppSettings['storage']): BlobServiceClient {
  if ('connectionString' in storage) return BlobServiceClient.fromConnectionString(storage.connectionString);
  const credential = storage.clientId
    ? new ManagedIdentityCredential({ clientId: storage.clientId })
    : new ManagedIdentityCredential();
  return new BlobServiceClient(storage.accountUrl, credential);
}

export function buildDeploymentStore(settings: AppSettings): DeploymentStore {
  return new DeploymentStore(
    new JsonBlobs(blobService(settings.storage).getContainerClient(DEPLOYMENTS_CONTAINER)),
  );
}

let cached: DeploymentStore | undefined;

/** The process-wide deployment store, on the app's storage account (`lifecockpit-deployments`). */
export function deploymentStore(): DeploymentStore {
  cached ??= buildDeploymentStore(services().settings);
  return cached;
}
