import { describe, expect, it } from 'vitest';
import {
  validateConfigChange,
  validateCreateRollbackPoint,
  validateRollbackOptions,
} from '../../lib/api/validators';
import { configChangeInput } from '../../lib/contracts/configChange';
import { InvalidInputError, parseInput } from '../../lib/contracts/problems';

describe('the contracts as the API reads them', () => {
  it('names each unknown field, listing the known ones', () => {
    expect(validateRollbackOptions({ dryRun: true, pointId: 'rp-1' })).toEqual([
      { field: 'dryRun', message: 'is not a known field (known: cascade, force)' },
      { field: 'pointId', message: 'is not a known field (known: cascade, force)' },
    ]);
  });

  it('reports field problems and rules between fields in one answer', () => {
    expect(validateConfigChange({ retentionDays: 'soon' })).toEqual([
      { field: 'retentionDays', message: 'must be a whole number of days from 1 to 3650' },
      { field: 'value', message: 'give exactly one of value (the whole configuration) or patch' },
    ]);
    expect(validateCreateRollbackPoint({ records: [{ table: 'contacts' }, 7] })).toEqual([
      { field: 'records[0].id', message: 'must be a GUID' },
      { field: 'records[1]', message: 'must be an object {table, id}' },
    ]);
    expect(validateConfigChange('text')).toEqual([{ field: '(body)', message: 'must be a JSON object' }]);
  });
});

describe('the contracts as an orchestration reads them', () => {
  it('returns the typed input, or an INVALID_INPUT error whose message names each bad field', () => {
    expect(parseInput(configChangeInput, { patch: { a: null } })).toEqual({ patch: { a: null } });
    let error: unknown;
    try {
      parseInput(configChangeInput, { value: [], retentionDays: 0 });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).code).toBe('INVALID_INPUT');
    expect((error as Error).message).toBe(
      '[INVALID_INPUT] The input is not valid: value: must be a JSON object; ' +
        'retentionDays: must be a whole number of days from 1 to 3650',
    );
  });
});
