import { describe, expect, it } from 'vitest';
import { changedFields, withLookupBinds } from '../../lib/dataverse/lookups';
import type { TableMetadata } from '../../lib/dataverse/metadata';

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const C = 'cccccccc-0000-4000-8000-000000000003';
const contact: TableMetadata = {
  logicalName: 'contact',
  entitySetName: 'contacts',
  primaryIdAttribute: 'contactid',
  columns: {},
  navigation: {
    parentcustomerid_account: { attribute: 'parentcustomerid', target: 'account' },
    parentcustomerid_contact: { attribute: 'parentcustomerid', target: 'contact' },
  },
  keys: [],
};
const sets = { account: 'accounts', contact: 'contacts' };

describe('lookups in before-images', () => {
  it('binds a polymorphic lookup through the navigation property its annotation names', () => {
    const record = {
      _parentcustomerid_value: A.toUpperCase(),
      '_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname': 'account',
    };
    expect(withLookupBinds(record, contact, sets)).toEqual({
      _parentcustomerid_value: A.toUpperCase(),
      'parentcustomerid_account@odata.bind': `/accounts(${A})`,
    });
  });

  it('refuses a polymorphic lookup read without its annotation instead of guessing', () => {
    expect(() => withLookupBinds({ _parentcustomerid_value: A }, contact, sets)).toThrow(
      /LOOKUP_NOT_RESTORABLE/,
    );
  });

  it('records the old binding when a change rebinds through another navigation property', () => {
    const before = { 'parentcustomerid_account@odata.bind': `/accounts(${A})` };
    const changes = changedFields(
      before,
      { 'parentcustomerid_contact@odata.bind': `/contacts(${C})` },
      contact,
    );
    expect(changes).toEqual({
      'parentcustomerid_contact@odata.bind': {
        before: null,
        after: `/contacts(${C})`,
        restoredBy: 'parentcustomerid_account@odata.bind',
      },
      'parentcustomerid_account@odata.bind': { before: `/accounts(${A})`, after: null },
    });
  });
});
