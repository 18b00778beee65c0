/**
 * How the dashboard names a Dataverse record to a person: `account "Lindqvist Physio" (3eedb109…)`,
 * from the names a rollback point or plan captured (DataverseRecordRef). The full GUID is always in
 * the element's title, so it can be read and copied. It must never hide a record whose names are
 * unknown: then it shows the table and the whole GUID.
 */
import { h } from './dom.js';
import type { DataverseRecordRef } from './types.js';

/** The words shown for a record (see the module comment for the shapes). */
export function recordText(ref: DataverseRecordRef): string {
  const table = ref.entity ?? ref.table;
  if (ref.name) return `${table} "${ref.name}" (${ref.id.slice(0, 8)}…)`;
  return `${table} ${ref.id}`;
}

/** The record as an element whose tooltip is its full GUID. */
export function recordRef(ref: DataverseRecordRef): HTMLElement {
  return h(
    'span',
    { class: 'record', title: ref.id, 'data-testid': 'record', 'data-record-id': ref.id },
    recordText(ref),
  );
}
