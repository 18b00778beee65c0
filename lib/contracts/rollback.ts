/**
 * The contract of the rollback orchestration's input (which rollback point, and how), and of the
 * options the rollback-point routes take for it. The API checks against these and the orchestration
 * parses its input with the same schema.
 */
import type { z } from 'zod';
import { closedObject, flag, safeId } from './fields';

const options = {
  /** Undo later points that touched the same records first, newest first. */
  cascade: flag.optional(),
  /** Roll back even when the records were edited since. */
  force: flag.optional(),
};

/** The body of /rollback-points/{id}/execute and /plan: the point comes from the path. */
export const rollbackOptions = closedObject(options);

export const rollbackInput = closedObject({
  pointId: safeId,
  ...options,
  /** Only plan: return the steps and conflicts, undo nothing. */
  dryRun: flag.optional(),
});

export type RollbackOptions = z.infer<typeof rollbackOptions>;
export type RollbackInput = z.infer<typeof rollbackInput>;
