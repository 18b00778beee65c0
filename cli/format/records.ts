/**
 * How `blc` names things to a person: a Dataverse record as `account "Lindqvist Physio" (3eedb109…)`
 * (the table's logical name, the record's primary name, the start of its GUID), falling back to the
 * full GUID and the entity set name when a point or result recorded before names were kept has none;
 * a field value as a short text. Formatting only: the full GUIDs stay in `--json`.
 */
import type {
  DataverseRecordRef,
  LookupNames,
  TouchedResource,
  UndoAction,
} from '../../lib/contracts/responses';
import { namedBinding } from '../../lib/dataverse/planChecks';

const BIND = '@odata.bind';

/** The start of a GUID, enough to tell records apart on screen. */
export function shortId(id: string): string {
  return id.length > 9 ? `${id.slice(0, 8)}…` : id;
}

/** `account "Lindqvist Physio" (3eedb109…)`; without a name `account 3eedb109-…` (the whole GUID). */
export function recordName(ref: Partial<DataverseRecordRef> & { table: string }): string {
  const kind = ref.entity ?? ref.table;
  if (ref.name) return ref.id ? `${kind} "${ref.name}" (${shortId(ref.id)})` : `${kind} "${ref.name}"`;
  return ref.id ? `${kind} ${ref.id}` : kind;
}

/**
 * A value as a person reads it in `before → after`: strings as they are, nothing as "(empty)", and a
 * lookup binding whose record `names` knows as that record (`account "Northwind Logistics" (ef05fc7f…)`).
 */
export function valueText(value: unknown, names?: LookupNames): string {
  if (value === undefined || value === null || value === '') return '(empty)';
  if (typeof value === 'string') return (names && boundRecordName(value, names)) ?? value;
  return JSON.stringify(value);
}

function boundRecordName(binding: string, names: LookupNames): string | undefined {
  const record = namedBinding(binding, names);
  return record && recordName(record);
}

/** A field as a person reads it: a lookup by its navigation property, without `@odata.bind`. */
export function fieldText(field: string): string {
  return field.endsWith(BIND) ? field.slice(0, -BIND.length) : field;
}

export function resourceText(r: TouchedResource): string {
  return r.kind === 'dataverse' ? recordName(r) : `configuration ${r.name} (version ${r.versionAfter})`;
}

function fieldList(fields: Record<string, unknown>, names?: LookupNames): string {
  const entries = Object.entries(fields);
  return entries.length
    ? entries.map(([f, v]) => `${fieldText(f)} → ${valueText(v, names)}`).join(', ')
    : '(no fields)';
}

/** One undo action as a sentence: what the rollback would do to which record. */
export function actionText(a: UndoAction): string {
  switch (a.kind) {
    case 'dataverse-delete':
      return `delete ${recordName(a)}`;
    case 'dataverse-restore-fields':
      return `restore ${recordName(a)}: ${fieldList(a.fields, a.lookupNames)}`;
    case 'dataverse-recreate':
      return `re-create ${recordName(a)}`;
    case 'dataverse-restore-record':
      return `restore ${recordName(a)} as it was (update it, or create it again)`;
    case 'config-activate':
      return `activate configuration ${a.name} version ${a.version}`;
  }
}
