import { describe, expect, it } from 'vitest';
import {
  ChangeValidationError,
  deterministicId,
  diffFields,
  validateChange,
  writableAttributes,
} from '../../lib/dataverse';

describe('validating a described change', () => {
  it('accepts a well-formed change', () => {
    const change = validateChange({
      description: 'new client',
      operations: [
        { op: 'create', table: 'contacts', data: { firstname: 'Ada' } },
        { op: 'update', table: 'contacts', key: { emailaddress1: 'a@b.c' }, data: { jobtitle: 'x' } },
        { op: 'delete', table: 'tasks', id: '11111111-2222-3333-4444-555555555555' },
      ],
    });
    expect(change.operations).toHaveLength(3);
  });

  it('names every problem with its field', () => {
    let error: ChangeValidationError | undefined;
    try {
      validateChange({
        operations: [
          { op: 'rename', table: 'contacts', data: { a: 1 } },
          { op: 'update', table: 'contacts', data: { a: 1 } },
          { op: 'delete', table: 'bad table!', id: 'not-a-guid' },
          { op: 'create', table: 'contacts', data: {} },
        ],
        retentionDays: -1,
      });
    } catch (err) {
      error = err as ChangeValidationError;
    }
    expect(error?.code).toBe('INVALID_CHANGE');
    expect(error?.problems.map((p) => p.field)).toEqual([
      'operations[0].op',
      'operations[1]',
      'operations[2].table',
      'operations[2].id',
      'operations[3].data',
      'retentionDays',
    ]);
    expect(() => validateChange({ operations: [] })).toThrow(/operations: must be a non-empty array/);
  });
});

describe('change helpers', () => {
  it('derives the same GUID for the same instance and step, and different ones otherwise', () => {
    const a = deterministicId('inst-1', 0);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deterministicId('inst-1', 0)).toBe(a);
    expect(deterministicId('inst-1', 1)).not.toBe(a);
    expect(deterministicId('inst-2', 0)).not.toBe(a);
  });

  it('reports only the fields that differ, treating missing as null and equal instants as equal', () => {
    const current = {
      firstname: 'Ada',
      lastname: 'Lovelace',
      birthdate: '1815-12-10T00:00:00Z',
      telephone1: null,
    };
    expect(
      diffFields(current, {
        firstname: 'Ada',
        lastname: 'Byron',
        birthdate: '1815-12-10T00:00:00.000Z',
        telephone1: null,
        fax: 'x',
      }),
    ).toEqual({ lastname: { before: 'Lovelace', after: 'Byron' }, fax: { before: null, after: 'x' } });
  });

  it('keeps only attributes that can be written back', () => {
    expect(
      writableAttributes(
        {
          '@odata.etag': 'W/"1"',
          contactid: 'x',
          firstname: 'Ada',
          _parentcustomerid_value: 'y',
          'x@OData.Community.Display.V1.FormattedValue': 'z',
          createdon: 'c',
        },
        ['createdon'],
      ),
    ).toEqual({ contactid: 'x', firstname: 'Ada' });
  });
});
