/**
 * The failure of an undo that could not put back the fields of records someone deleted since the
 * change: there is nothing left to restore them into. Everything else of the undo is done before it
 * is thrown, so the saga reports exactly these records as not undone.
 */
import { CodedError } from '../errors/codedError';
import { recordLabel } from '../dataverse/changeset';
import type { DataverseRecordRef } from '../contracts/responses';

export class RecordsGoneError extends CodedError<'RECORD_GONE'> {
  override readonly name = 'RecordsGoneError';
  /** As Dataverse answers an update of a record that does not exist. */
  readonly statusCode = 404;

  constructor(readonly records: DataverseRecordRef[]) {
    super('RECORD_GONE', RecordsGoneError.describe(records), {
      records: records.map((r) => ({ table: r.table, id: r.id })),
    });
  }

  private static describe(records: DataverseRecordRef[]): string {
    const names = records.map((r) => recordLabel(r));
    const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
    const one = records.length === 1;
    return `${list} ${one ? 'was' : 'were'} deleted since the change, so ${one ? 'its' : 'their'} fields could not be restored; everything else of the change is undone.`;
  }
}
