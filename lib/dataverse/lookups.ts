/**
 * Lookups in before-images. Dataverse reads a lookup as `_<column>_value` (a GUID, and the target
 * table's logical name as an annotation when asked) but writes it as `<navigation>@odata.bind`. A
 * record read for a diff or a before-image gets each writable lookup in the write form as well, so a
 * change's bind is compared with the old target, an undo binds the old target again (or null), and a
 * recreated record gets its lookups back. The navigation property comes from the table's
 * ManyToOneRelationships; for a polymorphic lookup (customer, regarding) the annotation says which.
 */
import type { LookupNames } from '../contracts/responses';
import { CodedError } from '../errors/codedError';
import type { DataverseClient, DataverseRecord } from './client';
import { diffFields, type FieldChange } from './changes';
import type { DataverseMetadata, TableMetadata } from './metadata';

export type { LookupNames } from '../contracts/responses';

/** Whether data binds a lookup: only then does a diff of it need the table's navigation properties. */
export function bindsLookups(data: Record<string, unknown> | undefined): boolean {
  return Object.keys(data ?? {}).some((k) => k.endsWith(BIND));
}

/** The annotation a read must ask for (Prefer: odata.include-annotations) to tell a lookup's table. */
export const LOOKUP_ANNOTATIONS = 'Microsoft.Dynamics.CRM.lookuplogicalname';

/**
 * What a plan's reads ask for: also each lookup's FormattedValue, which Dataverse fills with the
 * target's primary name, so a plan can name the record a lookup points at now.
 */
export const NAMED_LOOKUP_ANNOTATIONS = `${LOOKUP_ANNOTATIONS},OData.Community.Display.V1.FormattedValue`;

const LOGICAL_NAME = '@Microsoft.Dynamics.CRM.lookuplogicalname';
const FORMATTED = '@OData.Community.Display.V1.FormattedValue';
const BIND = '@odata.bind';
const LOOKUP_VALUE = /^_(.+)_value$/;

export class LookupError extends CodedError<'LOOKUP_NOT_RESTORABLE'> {
  override readonly name = 'LookupError';
}

interface BoundLookup {
  attribute: string;
  id: string;
  /** The target table's logical name, from the annotation; undefined when the read did not carry it. */
  target?: string;
  /** The target's primary name, from the FormattedValue annotation when the read asked for it. */
  name?: string;
}

/** The writable lookups of a read record that point somewhere. */
function boundLookups(record: DataverseRecord, table: TableMetadata): BoundLookup[] {
  const found: BoundLookup[] = [];
  for (const [key, value] of Object.entries(record)) {
    const match = LOOKUP_VALUE.exec(key);
    if (!match || typeof value !== 'string' || value === '') continue;
    const column = table.columns[match[1]];
    // Dataverse maintains it (createdby, owningbusinessunit): no change writes it, no undo restores it.
    if (column && !column.validForCreate && !column.validForUpdate) continue;
    const target = record[`${key}${LOGICAL_NAME}`];
    const name = record[`${key}${FORMATTED}`];
    found.push({
      attribute: match[1],
      id: value.toLowerCase(),
      target: typeof target === 'string' ? target : undefined,
      name: typeof name === 'string' && name !== '' ? name : undefined,
    });
  }
  return found;
}

function navigationsOf(table: TableMetadata, attribute: string): [string, { target: string }][] {
  return Object.entries(table.navigation).filter(([, n]) => n.attribute === attribute);
}

/**
 * The navigation property a lookup is bound through and the table it points at. A lookup with one
 * navigation property needs no annotation (an owner's single `ownerid` reaches users and teams: the
 * annotation names the table); a polymorphic one without it cannot be told and is refused.
 */
function bindingOf(
  table: TableMetadata,
  lookup: BoundLookup,
): { navigation: string; target: string } | undefined {
  const navigations = navigationsOf(table, lookup.attribute);
  if (navigations.length === 0) return undefined;
  const exact = navigations.find(([, n]) => n.target === lookup.target);
  const [navigation, nav] = exact ?? (navigations.length === 1 ? navigations[0] : [undefined, undefined]);
  if (!navigation || !nav) {
    throw new LookupError(
      'LOOKUP_NOT_RESTORABLE',
      `${table.entitySetName}.${lookup.attribute} points at ${lookup.id}, but the record was read without saying which of ${navigations.map(([, n]) => n.target).join(', ')} that is; its before-image cannot bind it again.`,
    );
  }
  return { navigation, target: lookup.target ?? nav.target };
}

/** The tables a record's lookups point at: their entity set names are needed to bind them. */
export function lookupTargetTables(record: DataverseRecord, table: TableMetadata): string[] {
  return [...new Set(boundLookups(record, table).flatMap((l) => bindingOf(table, l)?.target ?? []))];
}

/**
 * The record without annotations and with `<navigation>@odata.bind: "/<set>(<id>)"` beside each
 * writable lookup that points somewhere; `entitySets` maps the target tables' logical names to their
 * entity sets. A lookup that cannot be told is refused rather than left out: an undo would clear it.
 */
export function withLookupBinds(
  record: DataverseRecord,
  table: TableMetadata,
  entitySets: Record<string, string>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) if (!k.includes('@')) out[k] = v;
  for (const lookup of boundLookups(record, table)) {
    const binding = bindingOf(table, lookup);
    if (!binding) continue;
    const set = entitySets[binding.target];
    if (!set)
      throw new LookupError(
        'LOOKUP_NOT_RESTORABLE',
        `${table.entitySetName}.${lookup.attribute} points at a ${binding.target} record, a table this environment does not name; its before-image cannot bind it again.`,
      );
    out[`${binding.navigation}${BIND}`] = `/${set}(${lookup.id})`;
  }
  return out;
}

/**
 * The targets of a record's lookups as people know them (table and primary name), by the bindings
 * withLookups gives them; a lookup read without its FormattedValue, or that cannot be told, is left out.
 */
export async function lookupNames(
  record: DataverseRecord,
  table: TableMetadata,
  metadata: DataverseMetadata,
): Promise<LookupNames> {
  const names: LookupNames = {};
  for (const lookup of boundLookups(record, table)) {
    if (lookup.name === undefined) continue;
    const navigations = navigationsOf(table, lookup.attribute);
    const target = lookup.target ?? (navigations.length === 1 ? navigations[0][1].target : undefined);
    const set = target && (await metadata.entitySetName(target));
    if (set) names[`/${set}(${lookup.id})`] = { entity: target, name: lookup.name };
  }
  return names;
}

/**
 * `<navigation>@odata.bind: null` for each writable lookup the record leaves empty, through every
 * navigation property of it: a restore to this image then clears a lookup set since, whichever table
 * it was bound to (a diff only writes the fields an image names).
 */
export function emptyLookupBindings(record: DataverseRecord, table: TableMetadata): Record<string, null> {
  const out: Record<string, null> = {};
  for (const [navigation, { attribute }] of Object.entries(table.navigation)) {
    const column = table.columns[attribute];
    // Only an update writes these nulls (a create leaves them out), and Dataverse refuses a column
    // that is not valid for update.
    if (!column?.validForUpdate) continue;
    const value = record[`_${attribute}_value`];
    if (value === null || value === undefined || value === '') out[`${navigation}${BIND}`] = null;
  }
  return out;
}

/** The record without its null bindings: a create leaves an empty lookup out rather than binding nothing. */
export function withoutNullBindings(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([k, v]) => !(k.endsWith(BIND) && v === null)));
}

/** withLookupBinds with the target tables' entity sets read from (cached) metadata. */
export async function withLookups(
  record: DataverseRecord,
  table: TableMetadata,
  metadata: DataverseMetadata,
): Promise<Record<string, unknown>> {
  const sets: Record<string, string> = {};
  for (const target of lookupTargetTables(record, table)) {
    const set = await metadata.entitySetName(target);
    if (set) sets[target] = set;
  }
  return withLookupBinds(record, table, sets);
}

/**
 * A record as withLookups gives it, keeping its `@odata.etag`; undefined when it does not exist.
 */
export async function retrieveWithLookups(
  client: DataverseClient,
  metadata: DataverseMetadata,
  entitySet: string,
  id: string,
): Promise<DataverseRecord | undefined> {
  const record = await client.tryRetrieve(entitySet, id, { annotations: LOOKUP_ANNOTATIONS });
  if (!record) return undefined;
  const table = await metadata.table(entitySet);
  if (!table) return record;
  return { ...(await withLookups(record, table, metadata)), '@odata.etag': record['@odata.etag'] };
}

/**
 * What a change writes, with the values before it, for its undo: diffFields, plus this. A change
 * that binds a polymorphic lookup through another navigation property than the record used (a
 * customer that was an account becomes a contact) also empties the old one: that is recorded as a
 * change of its own, and the new binding as restored by it, so the undo binds the old target instead
 * of clearing the lookup.
 */
export function changedFields(
  before: Record<string, unknown> | undefined,
  desired: Record<string, unknown>,
  table: TableMetadata | undefined,
): Record<string, FieldChange> {
  const changes = diffFields(before, desired);
  if (!table || !before) return changes;
  for (const [field, change] of Object.entries(changes)) {
    if (!field.endsWith(BIND) || change.before !== null) continue;
    const attribute = table.navigation[field.slice(0, -BIND.length)]?.attribute;
    if (!attribute) continue;
    for (const [navigation] of navigationsOf(table, attribute)) {
      const sibling = `${navigation}${BIND}`;
      const old = before[sibling];
      if (sibling === field || old === undefined || old === null || sibling in desired) continue;
      changes[sibling] = { before: old, after: null };
      change.restoredBy = sibling;
    }
  }
  return changes;
}
