/**
 * The contract of the configChange orchestration's input: a new configuration, whole or as a patch
 * of top-level keys. The API checks a start against it and the orchestration parses its input with it.
 */
import { z } from 'zod';
import { closedObject, description, jsonObject, onObjects, retentionDays } from './fields';

/** The rule a configuration change and a deployment's config share: a whole value or a patch. */
export function oneOfValueOrPatch(field: string[]) {
  return (input: { value?: unknown; patch?: unknown }, ctx: z.RefinementCtx): void => {
    if ((input.value === undefined) === (input.patch === undefined))
      ctx.addIssue({
        code: 'custom',
        path: field,
        message: 'give exactly one of value (the whole configuration) or patch',
      });
  };
}

export const configChangeInput = closedObject({
  description: description.optional(),
  /** Replaces the whole configuration. */
  value: jsonObject.optional(),
  /** Merged into the current configuration (top-level keys; null removes a key). */
  patch: jsonObject.optional(),
  retentionDays: retentionDays.optional(),
}).superRefine(oneOfValueOrPatch(['value']), onObjects);

export type ConfigChangeInput = z.infer<typeof configChangeInput>;
