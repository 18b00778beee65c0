/**
 * The rules of an atomic Dataverse change: whether a planned change fits one `$batch` changeset (all
 * of its writes apply or none), and how its operations are named to a person when Dataverse refuses
 * one. Pure: no I/O, so the orchestrator can decide on replay and activities can name failures alike.
 */
import { MAX_BATCH_OPERATIONS } from './batch';
import type { AlternateKey } from './keys';

/** What the rules need of a planned operation (activities/dataverseChange.ts has the whole shape). */
export interface PlannedWrite {
  index: number;
  op: 'create' | 'update' | 'upsert' | 'delete';
  table: string;
  entity?: string;
  id?: string;
  key?: AlternateKey;
  name?: string;
  inDesiredState: boolean;
  /** An earlier operation's delete makes Dataverse clear this record's lookup `attribute` first. */
  cascadeFrom?: { operation: number; attribute: string };
}

export type ChangesetFit = { fits: true; writes: number } | { fits: false; writes: number; reason: string };

function recordKey(p: PlannedWrite): string {
  const target = p.id ? p.id.toLowerCase() : JSON.stringify(p.key ?? {});
  return `${p.table}|${target}`;
}

/**
 * Whether the writes of a plan can go as one changeset: at most MAX_BATCH_OPERATIONS of them, and no
 * record written twice (each write carries the etag the plan read as If-Match, which a first write of
 * the same record in the changeset would already have changed; the per-operation saga re-reads
 * between writes instead), and for the same reason no record that Dataverse itself changes first, as
 * the cascade of an earlier delete.
 */
export function changesetFit(plan: PlannedWrite[]): ChangesetFit {
  const writes = plan.filter((p) => !p.inDesiredState);
  if (writes.length > MAX_BATCH_OPERATIONS)
    return {
      fits: false,
      writes: writes.length,
      reason: `${writes.length} writes are more than one changeset holds (${MAX_BATCH_OPERATIONS})`,
    };
  const first = new Map<string, PlannedWrite>();
  for (const p of writes) {
    const key = recordKey(p);
    const earlier = first.get(key);
    if (earlier)
      return {
        fits: false,
        writes: writes.length,
        reason: `operations #${earlier.index + 1} and #${p.index + 1} write the same record (${recordLabel(p)}), which one changeset cannot do`,
      };
    first.set(key, p);
    if (p.cascadeFrom)
      return {
        fits: false,
        writes: writes.length,
        reason: `operation #${p.cascadeFrom.operation + 1} deletes the record that ${recordLabel(p)} refers to through '${p.cascadeFrom.attribute}', and Dataverse then clears that lookup, so operation #${p.index + 1} would find the record changed inside one changeset`,
      };
  }
  return { fits: true, writes: writes.length };
}

/** `contact "Ada Lovelace" (1a2b3c4d…)`, as the CLI and dashboard name records; the whole id without a name. */
export function recordLabel(p: Pick<PlannedWrite, 'table' | 'entity' | 'id' | 'key' | 'name'>): string {
  const kind = p.entity ?? p.table;
  const id = p.id ? (p.id.length > 9 ? `${p.id.slice(0, 8)}…` : p.id) : undefined;
  if (p.name) return id ? `${kind} "${p.name}" (${id})` : `${kind} "${p.name}"`;
  if (p.id) return `${kind} ${p.id}`;
  return p.key ? `${kind} ${JSON.stringify(p.key)}` : kind;
}

/** `operation #3 (update contact "Ada Lovelace" (1a2b3c4d…))`: operation numbers count from 1. */
export function operationLabel(p: PlannedWrite): string {
  return `operation #${p.index + 1} (${p.op} ${recordLabel(p)})`;
}

/** The Content-ID an operation is sent with: its number in the change, so a failure names it directly. */
export function contentIdOf(p: Pick<PlannedWrite, 'index'>): string {
  return String(p.index + 1);
}
