/**
 * Many records read in as few `$batch` calls of GETs as Dataverse allows (1,000 reads each), with
 * continue-on-error so a record that does not exist (404) is an answer, not the end of the batch.
 * Any other failed read, or one the answer leaves out, is thrown (a transient one first, so the caller
 * retries rather than gives up), except that a read refused for want of a read privilege (403) is
 * handed back in `refused` when the caller asks for it (a plan lists it as a problem of the operation
 * that needs the record). Read only: it never writes.
 */
import { MAX_BATCH_OPERATIONS, type BatchRead } from './batch';
import type { DataverseClient, DataverseRecord } from './client';
import type { DataverseError } from './errors';
import type { RecordKey } from './keys';

export interface RecordTarget {
  entitySet: string;
  key: RecordKey;
}

/** How a record is found in readRecords' answer: entity set and id (any case) or alternate key. */
export function recordKeyOf(entitySet: string, key: RecordKey): string {
  return `${entitySet}|${typeof key === 'string' ? key.toLowerCase() : JSON.stringify(key)}`;
}

/** Each target's record by recordKeyOf, undefined for one that does not exist. */
export async function readRecords(
  client: DataverseClient,
  targets: RecordTarget[],
  annotations?: string,
  refused?: Map<string, DataverseError>,
): Promise<Map<string, DataverseRecord | undefined>> {
  const found = new Map<string, DataverseRecord | undefined>();
  const all = [...new Map(targets.map((t) => [recordKeyOf(t.entitySet, t.key), t])).values()];
  for (let from = 0; from < all.length; from += MAX_BATCH_OPERATIONS) {
    const chunk = all.slice(from, from + MAX_BATCH_OPERATIONS);
    const reads: BatchRead[] = chunk.map((t) => ({
      entitySet: t.entitySet,
      key: t.key,
      ...(annotations ? { annotations } : {}),
    }));
    const answer = await client.executeBatch({ reads, continueOnError: true });
    // A throttled or failed-over read makes the whole read worth retrying, whatever else failed.
    const failed = answer.reads.flatMap((r) =>
      r.error && !r.error.isNotFound && !(r.error.isForbidden && refused) ? [r.error] : [],
    );
    const first = failed.find((e) => e.transient) ?? failed[0];
    if (first) throw first;
    answer.reads.forEach((r, i) => {
      const key = recordKeyOf(chunk[i].entitySet, chunk[i].key);
      if (r.error?.isForbidden && refused) {
        refused.set(key, r.error);
        return;
      }
      // A read left out of the answer says nothing of its record: taking it for missing would turn an
      // undo into "set every field to null".
      if (!r.ran)
        throw new Error(
          `Dataverse answered the $batch without running the read of ${chunk[i].entitySet} #${i + 1}; nothing can be concluded about that record.`,
        );
      found.set(key, r.record);
    });
  }
  return found;
}
