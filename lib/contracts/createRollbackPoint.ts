/**
 * The contract of the createRollbackPoint orchestration's input: a manual rollback point over
 * Dataverse records and/or the configuration. The API checks a start against it and the
 * orchestration parses its input with it.
 */
import { z } from 'zod';
import { closedObject, description, entitySetName, flag, guid, onObjects, retentionDays } from './fields';

export const MAX_POINT_RECORDS = 500;

const pointRecord = z.object({ table: entitySetName, id: guid }, { error: 'must be an object {table, id}' });

export const createRollbackPointInput = closedObject({
  description: description.optional(),
  records: z
    .array(pointRecord, { error: 'must be an array of {table, id}' })
    .max(MAX_POINT_RECORDS, { error: `must have at most ${MAX_POINT_RECORDS} records` })
    .optional(),
  includeConfig: flag.optional(),
  retentionDays: retentionDays.optional(),
}).superRefine((input, ctx) => {
  if (!(Array.isArray(input.records) && input.records.length > 0) && input.includeConfig !== true)
    ctx.addIssue({
      code: 'custom',
      path: ['records'],
      message: 'give records ([{table, id}]) and/or includeConfig: true',
    });
}, onObjects);

export type CreateRollbackPointInput = z.infer<typeof createRollbackPointInput>;
