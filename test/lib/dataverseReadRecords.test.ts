/**
 * readRecords: many records in one $batch of GETs. A 404 is an answer (the record does not exist);
 * a read the answer leaves out is not, since undo and re-run decisions rest on what was read.
 */
import { describe, expect, it } from 'vitest';
import type { BatchReadResult, BatchRequest, DataverseClient } from '../../lib/dataverse';
import { DataverseError } from '../../lib/dataverse';
import { readRecords, recordKeyOf } from '../../lib/dataverse/readRecords';

function clientAnswering(reads: BatchReadResult[]): DataverseClient {
  return {
    executeBatch: async (request: BatchRequest) => {
      expect(request.continueOnError).toBe(true);
      return { reads, changeset: undefined };
    },
  } as unknown as DataverseClient;
}

const A = '00000000-0000-0000-0000-00000000000a';
const B = '00000000-0000-0000-0000-00000000000b';
const targets = [
  { entitySet: 'contacts', key: A },
  { entitySet: 'contacts', key: B },
];

describe('readRecords', () => {
  it('takes a 404 for a record that does not exist, and keeps the others', async () => {
    const found = await readRecords(
      clientAnswering([
        { ran: true, status: 200, record: { contactid: A } },
        {
          ran: true,
          status: 404,
          error: new DataverseError('GET contacts failed with 404', 404, '0x80040217'),
        },
      ]),
      targets,
    );
    expect(found.get(recordKeyOf('contacts', A))).toEqual({ contactid: A });
    expect(found.has(recordKeyOf('contacts', B))).toBe(true);
    expect(found.get(recordKeyOf('contacts', B))).toBeUndefined();
  });

  it('refuses an answer that leaves a read out instead of taking that record for missing', async () => {
    await expect(
      readRecords(
        clientAnswering([
          { ran: true, status: 200, record: { contactid: A } },
          { ran: false, status: 0 },
        ]),
        targets,
      ),
    ).rejects.toThrow(/without running the read of contacts #2/);
  });

  it('throws a throttled read before another failed one, so the caller waits and retries', async () => {
    const throttled = new DataverseError(
      'GET contacts failed with 429',
      429,
      '0x80072322',
      undefined,
      20_000,
    );
    await expect(
      readRecords(
        clientAnswering([
          {
            ran: true,
            status: 500,
            error: new DataverseError('GET contacts failed with 500', 500, '0x80040216'),
          },
          { ran: true, status: 429, error: throttled },
        ]),
        targets,
      ),
    ).rejects.toBe(throttled);
  });
});
