import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicOrchestration } from '../../lib/api/registry';
import { startAppWithDataverse, type AppUnderTest } from '../support/appHost';
import { startOrchestration, waitFor } from '../support/durable';

let app: AppUnderTest;
beforeAll(async () => {
  app = await startAppWithDataverse();
});
afterAll(async () => app?.close());

// Inputs each orchestration used to take when started directly (not through the API), though the
// API refused them: one contract now decides for both.
const REFUSED: [string, unknown, string[]][] = [
  ['configChange', { patch: { reminderHour: 8 }, retentionDays: 0 }, ['retentionDays']],
  ['rollback', { pointId: 'rp-x', extra: true }, ['extra']],
  ['rollback', { pointId: 'rp-a/../rp-b' }, ['pointId']],
  ['createRollbackPoint', { includeConfig: true, records: 'contacts' }, ['records']],
  [
    'dataverseChange',
    { operations: [{ op: 'create', table: 'contacts', data: { firstname: 'A' } }], retentionDays: 5000 },
    ['retentionDays'],
  ],
];

describe('one contract per orchestration input', () => {
  it('an orchestration refuses, naming the same fields, every input the API refuses', async () => {
    for (const [name, input, fields] of REFUSED) {
      const api = publicOrchestration(name)?.validate(input) ?? [];
      expect(
        api.map((p) => p.field),
        `API ${name}`,
      ).toEqual(fields);
      const status = await waitFor(
        app.host,
        await startOrchestration(app.host, name, input),
        undefined,
        30_000,
      );
      expect(status.runtimeStatus, `${name} ${JSON.stringify(input)}`).toBe('Failed');
      const output = String(status.output);
      expect(output).toMatch(/\[INVALID_(INPUT|CHANGE)\] /);
      for (const p of api) expect(output).toContain(`${p.field}: ${p.message}`);
    }
  });
});
