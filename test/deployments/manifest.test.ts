import { describe, expect, it } from 'vitest';
import {
  ManifestValidationError,
  configChangeOf,
  ncrontabProblem,
  validateManifest,
} from '../../lib/deployments/manifest';

function problemsOf(input: unknown): Record<string, string> {
  try {
    validateManifest(input);
  } catch (err) {
    if (err instanceof ManifestValidationError)
      return Object.fromEntries(err.problems.map((p) => [p.field, p.message]));
    throw err;
  }
  return {};
}

const ID = '5b026182-ff1d-551f-b7ff-d7d00547d624';

describe('validateManifest', () => {
  it('accepts a full manifest and returns it typed', () => {
    const manifest = {
      version: '2026.11.1',
      description: 'November release',
      config: { patch: { reminderHour: 8, oldKey: null } },
      dataverse: { operations: [{ op: 'update', table: 'contacts', id: ID, data: { jobtitle: 'x' } }] },
      schedules: { reminders: '0 30 8 * * Mon-Fri' },
      requireApproval: true,
      approvalTimeoutHours: 12,
      healthCheck: { records: [{ table: 'accounts', key: { accountnumber: 'A-1' }, fields: { name: 'A' } }] },
    };
    expect(validateManifest(manifest)).toEqual(manifest);
    expect(problemsOf({ version: 'v1', schedules: { reminders: '0 0 9 * * *' } })).toEqual({});
  });

  it('names every bad field, with Dataverse operations checked as the change saga checks them', () => {
    expect(
      problemsOf({
        version: '../etc',
        config: { value: [], patch: { a: 1 } },
        dataverse: { operations: [{ op: 'update', table: 'contacts' }], dryRun: true },
        schedules: { reminders: '0 9 * * *', nightly: '0 0 0 * * *' },
        requireApproval: 'yes',
        healthCheck: { records: [{ table: 'contacts', id: 'not-a-guid' }] },
        surprise: 1,
      }),
    ).toMatchObject({
      version: expect.stringContaining('letters, digits'),
      config: expect.stringContaining('exactly one'),
      'config.value': 'must be a JSON object',
      'dataverse.dryRun': 'is not a dataverse field',
      'dataverse.operations[0]': 'update needs an id or an alternate key',
      'dataverse.operations[0].data': expect.any(String),
      'schedules.reminders': expect.stringContaining('six-field'),
      'schedules.nightly': expect.any(String),
      requireApproval: 'must be true or false',
      'healthCheck.records[0].id': 'must be a GUID',
      'healthCheck.records[0]': 'give the fields to check, or exists: false',
      surprise: expect.stringContaining('not a manifest field'),
    });
  });

  it('refuses a manifest that changes nothing, and a timeout without approval', () => {
    expect(problemsOf({ version: '1' })).toHaveProperty('(manifest)');
    expect(problemsOf(null)).toHaveProperty('(manifest)');
    expect(problemsOf({ version: '1', config: { patch: { a: 1 } }, approvalTimeoutHours: 2 })).toEqual({
      approvalTimeoutHours: 'only applies with requireApproval: true',
    });
    expect(
      problemsOf({
        version: '1',
        config: { patch: { a: 1 } },
        requireApproval: true,
        approvalTimeoutHours: 0,
      }),
    ).toHaveProperty('approvalTimeoutHours');
  });

  it('leads its message with the code', () => {
    expect(() => validateManifest({ version: '1' })).toThrow(/^\[INVALID_MANIFEST\] /);
  });
});

describe('ncrontabProblem', () => {
  it('accepts six-field expressions with lists, ranges, steps and names', () => {
    for (const ok of ['0 0 9 * * *', '*/15 * * * * *', '0 30 8 * Jan,Jul Mon-Fri', '0 0 0 1-15/2 * 0'])
      expect(ncrontabProblem(ok)).toBeUndefined();
  });

  it('explains what is wrong', () => {
    expect(ncrontabProblem('0 9 * * *')).toContain('got 5 field(s)');
    expect(ncrontabProblem('0 0 24 * * *')).toContain('hour');
    expect(ncrontabProblem('0 0 9 * * 7')).toContain('day of week');
    expect(ncrontabProblem('0 0 9 * * */0')).toContain('step');
  });
});

describe('configChangeOf', () => {
  it('folds schedule settings into the configuration change', () => {
    expect(configChangeOf({ version: '1', schedules: { reminders: '0 0 9 * * *' } })).toEqual({
      patch: { schedules: { reminders: '0 0 9 * * *' } },
    });
    expect(
      configChangeOf({ version: '1', config: { value: { a: 1 } }, schedules: { reminders: 'x' } }),
    ).toEqual({
      value: { a: 1, schedules: { reminders: 'x' } },
    });
    expect(configChangeOf({ version: '1', dataverse: { operations: [] } })).toBeUndefined();
  });
});
