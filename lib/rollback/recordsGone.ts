/**
 * The failure of an undo that could not put back the fields of records someone deleted since the
 * change: there is nothing left to restore them into. In a changeset undo everything else is done
 * before it is thrown, so the saga reports exactly these records as not undone; a single undo action
 * says so instead of Dataverse's bare "does not exist".
 */
import { CodedError } from '../errors/codedError';
import { recordLabel } from '../dataverse/changeset';
import type { DataverseRecordRef } from '../contracts/responses';

export class RecordsGoneError extends CodedError<'RECORD_GONE'> {
  override readonly name = 'RecordsGoneError';
  /** As Dataverse answers an update of a record that does not exist. */
  readonly statusCode = 404;

  constructor(
    readonly records: DataverseRecordRef[],
    /**
     * 'changeset': the rest of the change was undone in the same changeset; 'record': one undo
     * action of a rollback or compensation, which stops there.
     */
    scope: 'changeset' | 'record' = 'changeset',
  ) {
    super('RECORD_GONE', RecordsGoneError.describe(records, scope), {
      records: records.map((r) => ({ table: r.table, id: r.id })),
    });
  }

  /** The sentence; 'also' is it alone, for an error that says more (LOOKUP_TARGET_GONE's). */
  static describe(records: DataverseRecordRef[], scope: 'changeset' | 'record' | 'also'): string {
    const names = records.map((r) => recordLabel(r));
    const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
    const one = records.length === 1;
    const lost = `${list} ${one ? 'was' : 'were'} deleted since the change, so ${one ? 'its' : 'their'} fields could not be restored`;
    if (scope === 'also') return `${lost}.`;
    return scope === 'changeset'
      ? `${lost}; everything else of the change is undone.`
      : `${lost}. Bring ${one ? 'it' : 'them'} back first (for example by rolling back the change that deleted ${one ? 'it' : 'them'}), then run the undo again.`;
  }
}
