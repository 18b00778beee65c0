/**
 * The failure of an undo that would bind a record's lookup again to a record someone deleted since
 * the change: Dataverse refuses the whole write (404), so that record is not restored. Said with the
 * record, the lookup and the way out, instead of Dataverse's bare "does not exist".
 */
import { CodedError } from '../errors/codedError';
import { DataverseError } from '../dataverse/errors';
import { recordLabel } from '../dataverse/changeset';
import { namedBinding, parseBinding } from '../dataverse/planChecks';
import type { DataverseRecordRef, LookupNames } from '../contracts/responses';

const BIND = '@odata.bind';

export class LookupTargetGoneError extends CodedError<'LOOKUP_TARGET_GONE'> {
  override readonly name = 'LookupTargetGoneError';
  /** As Dataverse answers a binding to a record that does not exist. */
  readonly statusCode = 404;

  constructor(
    record: DataverseRecordRef,
    bindings: [string, string][],
    dataverseMessage: string,
    /** 'changeset': the undo was one changeset, so nothing of it was written. */
    scope: 'changeset' | 'record',
    /** The targets' names as the change's plan read them (a deleted record's can no longer be read). */
    names: LookupNames = {},
  ) {
    const refers = bindings
      .map(([nav, target]) => `${targetText(target, names)} through '${nav}'`)
      .join(' and ');
    const one = bindings.length === 1;
    const gone = one ? 'that record no longer exists' : 'those records no longer exist';
    const written =
      scope === 'changeset'
        ? 'Nothing of this undo was written (it is one changeset).'
        : 'This record was not restored.';
    super(
      'LOOKUP_TARGET_GONE',
      `${recordLabel(record)} would refer again to ${refers}, and ${gone} (Dataverse: ${dataverseMessage}). ${written} Bring ${one ? 'it' : 'them'} back first (for example by rolling back the change that deleted ${one ? 'it' : 'them'}), then run the undo again.`,
      { record: { table: record.table, id: record.id }, bindings: Object.fromEntries(bindings) },
    );
  }

  /**
   * The error to throw for Dataverse's refusal `err` of a write of `data` to `record`: this one when
   * the 404 names a record that `data` binds a lookup to (Dataverse says "<table> With Id = <guid>
   * Does Not Exist"), else `err` itself: the record written may be what is gone.
   */
  static from(
    err: unknown,
    record: DataverseRecordRef & { lookupNames?: LookupNames },
    data: Record<string, unknown> | undefined,
    scope: 'changeset' | 'record',
  ): unknown {
    if (!(err instanceof DataverseError && err.isNotFound)) return err;
    const said = (err.serviceMessage ?? err.message).toLowerCase();
    const bindings = Object.entries(data ?? {}).filter((e): e is [string, string] => {
      const id = e[0].endsWith(BIND) && typeof e[1] === 'string' ? parseBinding(e[1])?.id : undefined;
      return id !== undefined && said.includes(id);
    });
    if (bindings.length === 0) return err;
    return new LookupTargetGoneError(
      record,
      bindings.map(([k, v]) => [k.slice(0, -BIND.length), v]),
      err.serviceMessage ?? err.message,
      scope,
      record.lookupNames,
    );
  }
}

/** `account "Closing BV" (fb6ecd4e…)` when the plan named the record, else the binding itself. */
function targetText(binding: string, names: LookupNames): string {
  const record = namedBinding(binding, names);
  return record ? recordLabel(record) : binding;
}
