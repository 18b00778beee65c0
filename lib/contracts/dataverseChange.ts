/**
 * The contract of the dataverseChange orchestration's input: a described list of Dataverse
 * operations. The API checks a start against it and the orchestration parses its input with it, so
 * both apply the same rules. The tables' existence is checked later, against the environment.
 */
import { z } from 'zod';
import {
  alternateKey,
  closedObject,
  description,
  entitySetName,
  flag,
  guid,
  isJsonObject,
  onObjects,
  retentionDays,
  type JsonObject,
} from './fields';

export const OPERATION_KINDS = ['create', 'update', 'upsert', 'delete'] as const;

/** The checks between an operation's fields: what it targets and what data it carries. */
function checkOperation(op: JsonObject, ctx: z.RefinementCtx): void {
  if (op.id !== undefined && op.key !== undefined)
    ctx.addIssue({ code: 'custom', path: [], message: 'give either id or key, not both' });
  const needsTarget = op.op === 'update' || op.op === 'delete' || op.op === 'upsert';
  if (needsTarget && op.id === undefined && op.key === undefined)
    ctx.addIssue({ code: 'custom', path: [], message: `${String(op.op)} needs an id or an alternate key` });
  if (op.op !== 'delete' && !(isJsonObject(op.data) && Object.keys(op.data).length > 0))
    ctx.addIssue({
      code: 'custom',
      path: ['data'],
      message: 'must be an object with at least one attribute',
    });
  if (op.op === 'delete' && op.data !== undefined)
    ctx.addIssue({ code: 'custom', path: ['data'], message: 'delete takes no data' });
}

export const dataverseOperation = z
  .object(
    {
      op: z.enum(OPERATION_KINDS, { error: `must be one of ${OPERATION_KINDS.join(', ')}` }),
      /** Entity set name, e.g. "contacts". */
      table: entitySetName,
      id: guid.optional(),
      key: alternateKey.optional(),
      data: z.record(z.string(), z.unknown(), { error: 'must be an object' }).optional(),
      /** The etag the record must still carry when the change is applied. */
      expectedEtag: z.string({ error: 'must be an etag string such as W/"123"' }).optional(),
    },
    { error: 'must be an object' },
  )
  .superRefine((op, ctx) => checkOperation(op, ctx), onObjects);

export const dataverseChangeInput = closedObject({
  operations: z
    .array(dataverseOperation, { error: 'must be a non-empty array' })
    .min(1, { error: 'must be a non-empty array' }),
  description: description.optional(),
  dryRun: flag.optional(),
  /**
   * Apply even when the plan finds problems (the write is then refused by Dataverse itself and the
   * saga compensates): to show or test compensation, never to get a change through.
   */
  skipPlanChecks: flag.optional(),
  /**
   * Apply all writes in one all-or-nothing Dataverse changeset (default true) when they fit one: at
   * most 1,000 writes and no record written twice; otherwise operation by operation. false: always
   * operation by operation, each with its own snapshot and compensation.
   */
  atomic: flag.optional(),
  /** Days the rollback point is kept; default 30. */
  retentionDays: retentionDays.optional(),
});

export type DataverseOperation = z.infer<typeof dataverseOperation>;
export type OperationKind = DataverseOperation['op'];
export type DataverseChangeInput = z.infer<typeof dataverseChangeInput>;
