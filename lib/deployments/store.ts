/**
 * Deployment records in Blob storage: one JSON document per deployment under `deployments/`, updated
 * with etag compare-and-swap. Creating a record is create-only, which is what makes one version
 * deployable once even when two requests race. The record is what `GET /api/deployments` shows;
 * it never holds secrets (a manifest carries none). Beside each record, an empty-bodied entry under
 * `deployments-by-time/` whose name sorts newest request first: listing pages through those names,
 * so a page reads its own records and never every deployment.
 */
import { ManagedIdentityCredential } from '@azure/identity';
import { BlobServiceClient, RestError } from '@azure/storage-blob';
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
  | 'DEPLOYMENT_ROLLBACK_FAILED'
  | 'INVALID_CONTINUATION_TOKEN';

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

const BY_TIME = 'deployments-by-time/';
/** Above every millisecond time until the year 2286: 13 digits, so names sort as numbers do. */
const LATEST = 9_999_999_999_999;

/**
 * The listing entry of a record: `deployments-by-time/<LATEST - requestedAt ms>/<id>.json`, so name
 * order is newest request first and the id orders requests of one millisecond, as the list always did.
 * Derived from the record alone, so writing it again is harmless.
 */
function timeEntryName(record: Pick<DeploymentRecord, 'id' | 'requestedAt'>): string {
  const inverted = String(LATEST - Date.parse(record.requestedAt)).padStart(13, '0');
  return documentBlobName(`${BY_TIME}${inverted}`, record.id);
}

function idOfTimeEntry(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1, -'.json'.length);
}

export interface DeploymentRecordPage {
  records: DeploymentRecord[];
  /** Where the next page starts; absent on the last one. */
  continuationToken?: string;
}

/** How many listing pages one call may read to fill a page when a state filter skips most records. */
const MAX_LIST_READS = 10;

function encodeToken(marker: string): string {
  return Buffer.from(JSON.stringify({ m: marker }), 'utf8').toString('base64url');
}

const badToken = (): DeploymentError =>
  new DeploymentError('INVALID_CONTINUATION_TOKEN', 'The continuation token is not one this API handed out.');

function decodeToken(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { m?: unknown };
    if (typeof parsed.m === 'string' && parsed.m) return parsed.m;
  } catch {
    // answered below
  }
  throw badToken();
}

export class DeploymentStore {
  constructor(private readonly blobs: JsonBlobs) {}

  /** Records a new deployment; a second record with the same id is a DEPLOYMENT_EXISTS error. */
  async create(record: DeploymentRecord): Promise<DeploymentRecord> {
    try {
      await this.blobs.put(blobName(record.id), record, { ifNoneMatch: '*' });
      await this.listed(record);
      return record;
    } catch (err) {
      if (!(err instanceof BlobConflictError)) throw err;
      const existing = await this.get(record.id);
      // A crash (or failed write) between the record and its listing entry: the retry lists it.
      if (existing) await this.listed(existing);
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

  /** Writes the record's listing entry, unless it is there already. */
  private async listed(record: DeploymentRecord): Promise<void> {
    try {
      await this.blobs.put(timeEntryName(record), {}, { ifNoneMatch: '*' });
    } catch (err) {
      if (!(err instanceof BlobConflictError)) throw err;
    }
  }

  /**
   * One page of deployments, newest request first: listing pages of at most the room left, their
   * records read, kept when their state is among `states` (all when none), until the page is full or
   * the listing ends. The token points after the last entry read, so nothing is skipped or repeated;
   * a page thinned by the state filter may come back short with a token (read on).
   */
  async listPage(options: {
    top: number;
    continuationToken?: string;
    states?: readonly DeploymentState[];
  }): Promise<DeploymentRecordPage> {
    const records: DeploymentRecord[] = [];
    let marker = options.continuationToken ? decodeToken(options.continuationToken) : undefined;
    for (let reads = 0; reads < MAX_LIST_READS; reads++) {
      let page;
      try {
        page = await this.blobs.listPage(BY_TIME, options.top - records.length, marker);
      } catch (err) {
        if (marker && err instanceof RestError && err.statusCode === 400) throw badToken(); // the storage service refused the marker: not one it handed out
        throw err;
      }
      const found = await Promise.all(page.names.map((name) => this.get(idOfTimeEntry(name))));
      for (const record of found)
        if (record && (!options.states?.length || options.states.includes(record.state)))
          records.push(record);
      marker = page.continuationToken;
      if (!marker || records.length >= options.top) break;
    }
    return marker ? { records, continuationToken: encodeToken(marker) } : { records };
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
