/**
 * A 404 to an undo's write is put as a lookup target that is gone only when Dataverse's answer names
 * a record the write binds; otherwise (the record written is itself gone) it stays Dataverse's error.
 */
import { describe, expect, it } from 'vitest';
import { DataverseError } from '../../lib/dataverse';
import { LookupTargetGoneError } from '../../lib/rollback';

const CONTACT = 'c0000000-0000-4000-8000-000000000001';
const FIRM = 'a0000000-0000-4000-8000-00000000000f';
const OWNER = 'b0000000-0000-4000-8000-0000000000b0';
const record = { table: 'contacts', entity: 'contact', id: CONTACT, name: 'Ada Lovelace' };
const data = {
  jobtitle: 'Analyst',
  'parentcustomerid_account@odata.bind': `/accounts(${FIRM.toUpperCase()})`,
  'ownerid@odata.bind': `/systemusers(${OWNER})`,
  'primarycontactid@odata.bind': null,
};
const notFound = (what: string, id: string, inBatch = false) =>
  new DataverseError(
    `PATCH /api/data/v9.2/contacts(${CONTACT}) failed with 404: ${what} With Id = ${id} Does Not Exist`,
    404,
    '0x80040217',
    undefined,
    undefined,
    inBatch ? `${what} With Id = ${id} Does Not Exist` : undefined,
  );

describe('LookupTargetGoneError.from', () => {
  it('names the lookup whose target Dataverse says does not exist, and only that one', () => {
    const err = LookupTargetGoneError.from(notFound('account', FIRM, true), record, data, 'changeset');
    expect(err).toBeInstanceOf(LookupTargetGoneError);
    expect(err).toMatchObject({
      code: 'LOOKUP_TARGET_GONE',
      statusCode: 404,
      details: { bindings: { parentcustomerid_account: `/accounts(${FIRM.toUpperCase()})` } },
    });
    expect((err as Error).message).toBe(
      `[LOOKUP_TARGET_GONE] contact "Ada Lovelace" (c0000000…) would refer again to /accounts(${FIRM.toUpperCase()}) through 'parentcustomerid_account', and that record no longer exists (Dataverse: account With Id = ${FIRM} Does Not Exist). Nothing of this undo was written (it is one changeset). Bring it back first (for example by rolling back the change that deleted it), then run the undo again.`,
    );
  });

  it('names every lookup whose target Dataverse names, in the plural', () => {
    const both = notFound('account', `${FIRM}; systemuser With Id = ${OWNER}`);
    expect((LookupTargetGoneError.from(both, record, data, 'record') as Error).message).toMatch(
      new RegExp(
        `would refer again to /accounts\\(${FIRM.toUpperCase()}\\) through 'parentcustomerid_account' and /systemusers\\(${OWNER}\\) through 'ownerid', and those records no longer exist .* This record was not restored\\. Bring them back first \\(for example by rolling back the change that deleted them\\)`,
      ),
    );
  });

  it("leaves Dataverse's error as it is when the record written is what is gone", () => {
    const gone = notFound('contact', CONTACT);
    expect(LookupTargetGoneError.from(gone, record, data, 'record')).toBe(gone);
  });

  it('leaves any other failure as it is', () => {
    const refused = new DataverseError(`account With Id = ${FIRM}: refused`, 400, '0x80040203');
    expect(LookupTargetGoneError.from(refused, record, data, 'record')).toBe(refused);
    const plain = new Error('socket hang up');
    expect(LookupTargetGoneError.from(plain, record, data, 'record')).toBe(plain);
  });
});

describe('LookupTargetGoneError for records an undo left out', () => {
  it('names each record with its gone target (one record, however many lookups), says the rest is undone, and what else was gone', () => {
    const other = { table: 'contacts', entity: 'contact', id: OWNER, name: 'Grace Hopper' };
    const err = new LookupTargetGoneError(
      [
        {
          record: {
            ...record,
            lookupNames: { [`/accounts(${FIRM})`]: { entity: 'account', name: 'Closed BV' } },
          },
          bindings: [['parentcustomerid_account', `/accounts(${FIRM})`]],
        },
        { record: other, bindings: [['parentcustomerid_account', `/accounts(${FIRM})`]] },
      ],
      { scope: 'rest-undone', also: 'Also, contact "Gone" (dddddddd…) was deleted since the change.' },
    );
    expect(err.message).toBe(
      `[LOOKUP_TARGET_GONE] contact "Ada Lovelace" (c0000000…) would refer again to account "Closed BV" (a0000000…) through 'parentcustomerid_account'; contact "Grace Hopper" (b0000000…) would refer again to /accounts(${FIRM}) through 'parentcustomerid_account', and that record no longer exists. These records were not restored; everything else of the change is undone. Bring it back first (for example by rolling back the change that deleted it), then run the undo again. Also, contact "Gone" (dddddddd…) was deleted since the change.`,
    );
    expect(err.details).toMatchObject({
      records: [
        { table: 'contacts', id: CONTACT, bindings: { parentcustomerid_account: `/accounts(${FIRM})` } },
        { table: 'contacts', id: OWNER, bindings: { parentcustomerid_account: `/accounts(${FIRM})` } },
      ],
    });
  });
});
