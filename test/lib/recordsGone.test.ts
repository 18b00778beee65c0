import { describe, expect, it } from 'vitest';
import { readCode } from '../../lib/errors/codedError';
import { RecordsGoneError } from '../../lib/rollback';

describe('RecordsGoneError', () => {
  it('names one record by its table and primary name, with its code and status', () => {
    const err = new RecordsGoneError([
      {
        table: 'contacts',
        entity: 'contact',
        id: '1a2b3c4d-0000-0000-0000-000000000001',
        name: 'Ada Lovelace',
      },
    ]);
    expect(err.code).toBe('RECORD_GONE');
    expect(err.statusCode).toBe(404);
    expect(readCode(err.message)).toEqual({
      code: 'RECORD_GONE',
      message:
        'contact "Ada Lovelace" (1a2b3c4d…) was deleted since the change, so its fields could not be restored; everything else of the change is undone.',
    });
  });

  it('names several, by id where the action holds no name', () => {
    const err = new RecordsGoneError([
      { table: 'contacts', entity: 'contact', id: '1a2b3c4d-0000-0000-0000-000000000001', name: 'Ada' },
      { table: 'accounts', id: '9f8e7d6c-0000-0000-0000-000000000002' },
      { table: 'contacts', entity: 'contact', id: '5e6f7a8b-0000-0000-0000-000000000003', name: 'Bob' },
    ]);
    expect(err.message).toBe(
      '[RECORD_GONE] contact "Ada" (1a2b3c4d…), accounts 9f8e7d6c-0000-0000-0000-000000000002 and contact "Bob" (5e6f7a8b…) were deleted since the change, so their fields could not be restored; everything else of the change is undone.',
    );
    expect(err.details).toEqual({
      records: [
        { table: 'contacts', id: '1a2b3c4d-0000-0000-0000-000000000001' },
        { table: 'accounts', id: '9f8e7d6c-0000-0000-0000-000000000002' },
        { table: 'contacts', id: '5e6f7a8b-0000-0000-0000-000000000003' },
      ],
    });
  });
});
