/**
 * Start claims: before the API starts an instance with a known id (chosen by the caller or derived
 * from an Idempotency-Key), it claims the id with a create-only blob. Of two requests racing with
 * one id exactly one wins and starts; the other waits for that instance and answers with it, so
 * no id ever runs twice, even when the first run finishes before the second request arrives.
 * Claims are tiny JSON blobs under `_api/starts/` in a container the app already has; a claim
 * older than STALE_MS whose instance never appeared (its claimer crashed) may be taken over.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { documentBlobName } from '../ids';
import { BlobConflictError, JsonBlobs } from '../storage/jsonBlobs';

export type ClaimOutcome = 'won' | 'taken' | 'stale';

export interface StartClaims {
  claim(instanceId: string, name: string): Promise<ClaimOutcome>;
  /** Gives a won claim back when the start failed, so a retry need not wait for it to go stale. */
  release(instanceId: string): Promise<void>;
}

interface Claim {
  instanceId: string;
  name: string;
  claimedAt: string;
}

export const STALE_MS = 30_000;

export class BlobStartClaims implements StartClaims {
  private readonly blobs: JsonBlobs;

  constructor(
    container: ContainerClient,
    private readonly now: () => number = Date.now,
  ) {
    this.blobs = new JsonBlobs(container);
  }

  private blobName(instanceId: string): string {
    return documentBlobName('_api/starts', instanceId, 'instanceId');
  }

  async release(instanceId: string): Promise<void> {
    await this.blobs.delete(this.blobName(instanceId));
  }

  async claim(instanceId: string, name: string): Promise<ClaimOutcome> {
    const blob = this.blobName(instanceId);
    const claim: Claim = { instanceId, name, claimedAt: new Date(this.now()).toISOString() };
    try {
      await this.blobs.put(blob, claim, { ifNoneMatch: '*' });
      return 'won';
    } catch (err) {
      if (!(err instanceof BlobConflictError)) throw err;
    }
    const existing = await this.blobs.get<Claim>(blob);
    if (!existing) return 'stale';
    if (this.now() - Date.parse(existing.value.claimedAt) < STALE_MS) return 'taken';
    try {
      // Take the stale claim over (compare-and-swap, so only one taker wins).
      await this.blobs.put(blob, claim, { ifMatch: existing.etag });
      return 'stale';
    } catch (err) {
      if (err instanceof BlobConflictError) return 'taken';
      throw err;
    }
  }
}
