/**
 * Activities of the atomic Dataverse change: plan with every record read in one `$batch` of GETs, and
 * apply every write in one changeset (all or nothing, each update and delete with If-Match = the etag
 * the plan read, creates under their deterministic ids); undoChangeset.ts undoes one.
 * Before-images are stored exactly as the per-operation saga stores them (one blob per operation,
 * `<instance>/<index>.json`), so rollback points and their undo work the same for both.
 *
 * Safe to run again: a changeset that committed before a crash is refused on the re-run (412: the
 * etags moved on, the created ids exist; 404: the deleted records are gone); the apply then reads the
 * records back and succeeds when they are as the change left them, writing nothing twice.
 */
import { defineActivity } from '../lib/saga';
import { services } from '../lib/config/services';
import {
  LOOKUP_ANNOTATIONS,
  NAMED_LOOKUP_ANNOTATIONS,
  bindsLookups,
  changedFields,
  checkOperationData,
  contentIdOf,
  diffFields,
  operationLabel,
  readRecords,
  recordKeyOf,
  withLookups,
  type BatchChangesetFailure,
  type BatchWrite,
  type BatchWriteResult,
  type DataverseClient,
  type DataverseError,
  type DataverseOperation,
  type DataverseMetadata,
  type DataverseRecord,
  type RecordKey,
  type TableMetadata,
} from '../lib/dataverse';
import type { JsonBlobs } from '../lib/storage/jsonBlobs';
import {
  ChangeError,
  buildPlan,
  collidingKey,
  nameOf,
  operationTarget,
  stripAnnotations,
  type ApplyResult,
  type PlannedOperation,
  type RecordSource,
  type Snapshot,
} from './dataverseChange';

/** A record as the plan read it, before the change: what the rollback point restores. */
export interface BeforeImage {
  index: number;
  exists: boolean;
  etag?: string;
  record?: Record<string, unknown>;
}

export interface BatchedPlan {
  plan: PlannedOperation[];
  /** One per operation that writes (not in its desired state already). */
  images: BeforeImage[];
}

/**
 * Records read up front; one not read then (there should be none) is read on its own. A read refused
 * up front fails when asked for, as a GET of its own would.
 */
function prefetched(
  client: DataverseClient,
  found: Map<string, DataverseRecord | undefined>,
  refused: Map<string, DataverseError>,
): RecordSource {
  return {
    get: async (entitySet, key, select) => {
      const k = recordKeyOf(entitySet, key);
      const refusal = refused.get(k);
      if (refusal) throw refusal;
      if (found.has(k)) return found.get(k);
      return client.tryRetrieve(entitySet, key, {
        ...(select?.length ? { select } : {}),
        annotations: NAMED_LOOKUP_ANNOTATIONS,
      });
    },
  };
}

/**
 * Every record a plan will read: the operations' targets and the records their lookups point at,
 * only where the lookup may point at that table (the plan does not read the others, and reading them
 * could fail for want of a privilege the change never needs).
 */
async function planTargets(
  instanceId: string,
  operations: DataverseOperation[],
): Promise<{ entitySet: string; key: RecordKey }[]> {
  const metadata = services().metadata(instanceId);
  const targets: { entitySet: string; key: RecordKey }[] = [];
  for (const [index, op] of operations.entries()) {
    const target = operationTarget(instanceId, index, op);
    if (target !== undefined) targets.push({ entitySet: op.table, key: target });
    const table = op.op === 'delete' ? undefined : await metadata.table(op.table);
    if (!table) continue; // an unknown table: the plan itself says so
    const { lookups } = checkOperationData({
      index,
      table,
      data: op.data ?? {},
      creating: false,
      key: op.key,
    });
    for (const ref of lookups) {
      const target = await metadata.table(ref.entitySet);
      if (target && ref.targets.includes(target.logicalName))
        targets.push({ entitySet: ref.entitySet, key: ref.id });
    }
  }
  return targets;
}

function isCreate(p: PlannedOperation): boolean {
  return !p.exists && (p.op === 'create' || p.op === 'upsert');
}

/** The plan of a change, with all of its records read in one $batch of GETs (after cached metadata). */
export const planChangeset = defineActivity<
  { instanceId: string; operations: DataverseOperation[] },
  BatchedPlan
>('dataverseChange_planBatched', async ({ instanceId, operations }) => {
  const client = services().dataverse(instanceId);
  const metadata = services().metadata(instanceId);
  const refused = new Map<string, DataverseError>();
  const found = await readRecords(
    client,
    await planTargets(instanceId, operations),
    NAMED_LOOKUP_ANNOTATIONS,
    refused,
  );
  const plan = await buildPlan(instanceId, operations, metadata, prefetched(client, found, refused));
  const images: BeforeImage[] = [];
  for (const p of plan.filter((planned) => !planned.inDesiredState)) {
    const target = operationTarget(instanceId, p.index, operations[p.index]);
    const current = target === undefined ? undefined : found.get(recordKeyOf(p.table, target));
    images.push(
      current
        ? {
            index: p.index,
            exists: true,
            etag: current['@odata.etag'],
            record: await readable(current, await metadata.table(p.table), metadata),
          }
        : { index: p.index, exists: false },
    );
  }
  return { plan, images };
});

/** A read record as before-images and diffs take it: lookups also as bindings, no annotations. */
async function readable(
  record: DataverseRecord,
  table: TableMetadata | undefined,
  metadata: DataverseMetadata,
): Promise<Record<string, unknown>> {
  return table ? withLookups(record, table, metadata) : stripAnnotations(record);
}

/** The snapshot blob of one operation, as the per-operation saga names and fills it. */
export function snapshotOf(instanceId: string, image: BeforeImage): Snapshot {
  const blob = `${instanceId}/${image.index}.json`;
  return image.exists
    ? { exists: true, etag: image.etag, record: image.record, blob }
    : { exists: false, blob };
}

/**
 * Written once: a re-run after a crash keeps the image from before the change, not after it. Says
 * whether this call wrote it (false: an earlier attempt of the step got this far, and may have sent
 * its changeset).
 */
async function storeSnapshot(blobs: JsonBlobs, snapshot: Snapshot): Promise<boolean> {
  try {
    await blobs.put(snapshot.blob, snapshot, { ifNoneMatch: '*' });
    return true;
  } catch (err) {
    if (!(await blobs.get<Snapshot>(snapshot.blob))) throw err;
    return false;
  }
}

function writeOf(p: PlannedOperation): BatchWrite {
  const contentId = contentIdOf(p);
  if (isCreate(p)) {
    if (p.op === 'upsert' && p.key)
      return {
        kind: 'upsert',
        entitySet: p.table,
        key: p.key,
        data: p.data ?? {},
        mode: 'create',
        contentId,
        returnRepresentation: true,
      };
    return {
      kind: 'create',
      entitySet: p.table,
      id: p.id,
      data: p.data ?? {},
      contentId,
      returnRepresentation: true,
    };
  }
  const id = String(p.id);
  if (p.op === 'delete') return { kind: 'delete', entitySet: p.table, key: id, ifMatch: p.etag, contentId };
  const data = Object.fromEntries(Object.entries(p.changes).map(([f, c]) => [f, c.after]));
  return {
    kind: 'update',
    entitySet: p.table,
    key: id,
    data,
    ifMatch: p.etag ?? '*',
    contentId,
    returnRepresentation: true,
  };
}

/** What one operation of the committed changeset did, as the per-operation apply reports it. */
function resultOf(
  p: PlannedOperation,
  image: BeforeImage | undefined,
  table: TableMetadata | undefined,
  written?: Pick<BatchWriteResult, 'id' | 'etag' | 'record'>,
): ApplyResult {
  const base = { index: p.index, table: p.table, entity: p.entity };
  if (isCreate(p)) {
    const id = (written?.record?.[p.primaryIdAttribute] as string | undefined) ?? written?.id ?? p.id;
    return {
      ...base,
      name: nameOf(written?.record ?? p.data, p.primaryNameAttribute) ?? p.name,
      id: String(id),
      action: 'created',
      etagAfter: written?.etag,
      changed: {},
    };
  }
  const id = String(p.id);
  if (p.op === 'delete')
    return {
      ...base,
      name: nameOf(image?.record, p.primaryNameAttribute) ?? p.name,
      id,
      action: 'deleted',
      changed: {},
    };
  return {
    ...base,
    name: nameOf(written?.record, p.primaryNameAttribute) ?? p.name,
    id,
    action: 'updated',
    etagAfter: written?.etag,
    changed: changedFields(image?.record, p.data ?? {}, table),
  };
}

/**
 * After a refused changeset: whether every record already is as the change leaves it (the changeset
 * committed on an earlier run of this activity). Reads them all in one $batch; undefined when not.
 */
async function alreadyApplied(
  client: DataverseClient,
  metadata: DataverseMetadata,
  tables: Map<string, TableMetadata | undefined>,
  writes: PlannedOperation[],
  images: Map<number, BeforeImage>,
): Promise<ApplyResult[] | undefined> {
  const targetOf = (p: PlannedOperation): RecordKey => (p.id ?? p.key) as RecordKey;
  const found = await readRecords(
    client,
    writes.map((p) => ({ entitySet: p.table, key: targetOf(p) })),
    LOOKUP_ANNOTATIONS,
  );
  // All or nothing: a record created under this change's deterministic id proves the changeset
  // committed, whatever has been written to its records since.
  const committed = writes.some((p) => p.op === 'create' && found.has(recordKeyOf(p.table, targetOf(p))));
  const results: ApplyResult[] = [];
  for (const p of writes) {
    const current = found.get(recordKeyOf(p.table, targetOf(p)));
    if (committed) {
      results.push(
        resultOf(
          p,
          images.get(p.index),
          tables.get(p.table),
          current && { etag: current['@odata.etag'], record: current },
        ),
      );
      continue;
    }
    if (p.op === 'delete') {
      if (current) return undefined;
    } else if (!current) {
      return undefined;
    } else if (p.op !== 'create') {
      // A created record under this change's deterministic id is proof enough; anything else must
      // hold the values written, its lookups compared as the bindings written.
      const now = await readable(current, tables.get(p.table), metadata);
      if (Object.keys(diffFields(now, p.data ?? {})).length > 0) return undefined;
    }
    const written = current ? { etag: current['@odata.etag'], record: current } : undefined;
    results.push(resultOf(p, images.get(p.index), tables.get(p.table), written));
  }
  return results;
}

/** The failure of a changeset that did not commit, naming the operation Dataverse named. */
async function refusal(
  instanceId: string,
  failure: BatchChangesetFailure | undefined,
  writes: PlannedOperation[],
  interrupted: boolean,
): Promise<Error> {
  const error = failure?.error;
  if (error?.transient) return error; // nothing was written; the saga waits and tries again
  const failed = failure?.index !== undefined ? writes[failure.index] : undefined;
  const what = failed ? operationLabel(failed) : `the changeset of ${writes.length} operations`;
  // An earlier attempt may have committed the same changeset, and its records no longer show it.
  if (interrupted && (error?.isConflict || error?.isDuplicate || error?.isNotFound))
    return new ChangeError(
      'CHANGESET_OUTCOME_UNKNOWN',
      `${what} was refused (${error.statusCode}), and an earlier attempt of this step was interrupted after it may have sent the same changeset. The records no longer hold what it wrote, so whether that attempt committed (all of the change) or not (none of it) cannot be told from them. Check the records before running the change again.`,
    );
  const detail = error?.serviceMessage ?? error?.message ?? 'Dataverse answered without naming a failure';
  if (failed && error?.isDuplicate) {
    const key = await collidingKey(instanceId, failed);
    return new ChangeError(
      'ALREADY_EXISTS',
      `${failed.table} with ${key ?? 'the same key'} already exists: ${what} was refused and nothing of the change was written.`,
    );
  }
  if (failed && error?.isConflict)
    return new ChangeError(
      'CONFLICT',
      `${what}: the record was changed after the plan read it (by someone else, or by Dataverse itself as a consequence of an earlier operation of this change, such as a cascade); nothing of the change was written. Run it again to plan it anew, or with atomic: false to apply it operation by operation.`,
    );
  return new ChangeError('CHANGESET_REFUSED', `${what}: ${detail}`);
}

export interface ChangesetInput {
  instanceId: string;
  /** The operations that write, in order. */
  writes: PlannedOperation[];
  images: BeforeImage[];
}

/** Stores the before-images, then applies every write in one changeset (or recognises it applied). */
export async function applyWrites({ instanceId, writes, images }: ChangesetInput): Promise<ApplyResult[]> {
  const app = services();
  const byIndex = new Map(images.map((i) => [i.index, i]));
  const imageOf = (p: PlannedOperation): BeforeImage =>
    byIndex.get(p.index) ?? { index: p.index, exists: p.exists };
  const stored = await Promise.all(
    writes.map((p) => storeSnapshot(app.snapshots, snapshotOf(instanceId, imageOf(p)))),
  );
  // Every image new: no earlier attempt reached the send, so a refusal below wrote nothing.
  const interrupted = stored.some((fresh) => !fresh);
  const client = app.dataverse(instanceId);
  const metadata = app.metadata(instanceId);
  // Read before the send (cached since the plan), for the writes that bind lookups only: their
  // results name what an undo binds again.
  const tables = new Map<string, TableMetadata | undefined>();
  for (const p of writes)
    if (bindsLookups(p.data) && !tables.has(p.table)) tables.set(p.table, await metadata.table(p.table));
  const answer = await client.executeBatch({ changeset: writes.map(writeOf) });
  const changeset = answer.changeset;
  if (changeset?.outcome === 'committed')
    return writes.map((p, i) => resultOf(p, imageOf(p), tables.get(p.table), changeset.operations[i]));
  const error = changeset?.failure?.error;
  // What an earlier, committed run of this changeset makes the same request answer.
  if (interrupted && error && (error.isConflict || error.isDuplicate || error.isNotFound)) {
    const applied = await alreadyApplied(client, metadata, tables, writes, byIndex);
    if (applied) return applied;
  }
  throw await refusal(instanceId, changeset?.failure, writes, interrupted);
}

export const applyChangeset = defineActivity<ChangesetInput, ApplyResult[]>(
  'dataverseChange_applyChangeset',
  applyWrites,
);
