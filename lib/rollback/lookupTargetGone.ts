/**
 * The failure of an undo that would bind a record's lookup again to a record someone deleted since
 * the change: Dataverse refuses the whole write (404), so that record is not restored. Said with the
 * record, the lookup and the way out, instead of Dataverse's bare "does not exist".
 */
import { CodedError } from '../errors/codedError';
import { DataverseError } from '../dataverse/errors';
import { recordLabel } from '../dataverse/changeset';
import { bindingKey, bindingsIn, namedBinding } from '../dataverse/planChecks';
import type { DataverseRecordRef, LookupNames } from '../contracts/responses';

/** A record an undo would write with lookups bound to records that no longer exist. */
export interface GoneBindings {
  record: DataverseRecordRef & { lookupNames?: LookupNames };
  /** Navigation property → the binding the undo would write (`/accounts(<id>)`). */
  bindings: [string, string][];
}

export class LookupTargetGoneError extends CodedError<'LOOKUP_TARGET_GONE'> {
  override readonly name = 'LookupTargetGoneError';
  /** As Dataverse answers a binding to a record that does not exist. */
  readonly statusCode = 404;

  constructor(
    entries: GoneBindings[],
    how: {
      /**
       * 'changeset': Dataverse refused the undo's changeset, so nothing of it was written; 'record':
       * this one undo action was not done; 'rest-undone': these records were left out of the undo's
       * changeset (their targets were read first) and everything else was undone.
       */
      scope: 'changeset' | 'record' | 'rest-undone';
      dataverseMessage?: string;
      /** Said after, when the same undo also found records gone (RECORD_GONE's sentence). */
      also?: string;
    },
  ) {
    const refers = entries.map(
      ({ record, bindings }) =>
        `${recordLabel(record)} would refer again to ${bindings
          .map(([nav, target]) => `${targetText(target, record.lookupNames ?? {})} through '${nav}'`)
          .join(' and ')}`,
    );
    // Counted by record pointed at: two lookups onto one deleted account are one record to bring back.
    const targets = new Set(entries.flatMap((e) => e.bindings.map(([, t]) => bindingKey(t) ?? t)));
    const one = targets.size === 1;
    const gone = one ? 'that record no longer exists' : 'those records no longer exist';
    const said = how.dataverseMessage ? ` (Dataverse: ${how.dataverseMessage})` : '';
    const written =
      how.scope === 'changeset'
        ? 'Nothing of this undo was written (it is one changeset).'
        : how.scope === 'record'
          ? 'This record was not restored.'
          : `${entries.length === 1 ? 'This record was' : 'These records were'} not restored; everything else of the change is undone.`;
    const [first] = entries;
    super(
      'LOOKUP_TARGET_GONE',
      `${refers.join('; ')}, and ${gone}${said}. ${written} Bring ${one ? 'it' : 'them'} back first (for example by rolling back the change that deleted ${one ? 'it' : 'them'}), then run the undo again.${how.also ? ` ${how.also}` : ''}`,
      {
        record: { table: first.record.table, id: first.record.id },
        bindings: Object.fromEntries(first.bindings),
        records: entries.map((e) => ({
          table: e.record.table,
          id: e.record.id,
          bindings: Object.fromEntries(e.bindings),
        })),
      },
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
    const bindings = bindingsIn(data ?? {}).filter((b) => said.includes(b.target.id));
    if (bindings.length === 0) return err;
    return new LookupTargetGoneError([{ record, bindings: bindings.map((b) => [b.navigation, b.binding]) }], {
      scope,
      dataverseMessage: err.serviceMessage ?? err.message,
    });
  }
}

/** `account "Closing BV" (fb6ecd4e…)` when the plan named the record, else the binding itself. */
function targetText(binding: string, names: LookupNames): string {
  const record = namedBinding(binding, names);
  return record ? recordLabel(record) : binding;
}
