/**
 * The field rules the orchestration contracts share (flags, descriptions, retention, GUIDs, entity
 * set names, ids), each with the message a client sees when a value breaks it. Only schemas: no I/O,
 * and nothing here knows about HTTP or orchestrations.
 */
import { z } from 'zod';
import type { AlternateKey } from '../dataverse/keys';
import { isGuid } from '../dataverse/keys';
import { idProblem, isSafeId } from '../ids';

export type JsonObject = Record<string, unknown>;

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Cross-field checks run even when a single field is already wrong (so a client hears every
 * problem at once), but only on an object: they read fields that may still hold bad values.
 */
export const onObjects = { when: (payload: { value: unknown }): boolean => isJsonObject(payload.value) };

/** An object that refuses fields not in `shape`; by default its answer names the known ones. */
export function closedObject<T extends z.ZodRawShape>(
  shape: T,
  messages: { notAnObject?: string; unknownField?: string } = {},
) {
  const unknownField =
    messages.unknownField ?? `is not a known field (known: ${Object.keys(shape).join(', ')})`;
  const notAnObject = messages.notAnObject ?? 'must be a JSON object';
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? unknownField : notAnObject),
  });
}

export const flag = z.boolean({ error: 'must be true or false' });

export const MAX_DESCRIPTION = 1000;
export const description = z
  .string({ error: `must be a string of at most ${MAX_DESCRIPTION} characters` })
  .max(MAX_DESCRIPTION, { error: `must be a string of at most ${MAX_DESCRIPTION} characters` });

export const MAX_RETENTION_DAYS = 3650;
const RETENTION = `must be a whole number of days from 1 to ${MAX_RETENTION_DAYS}`;
export const retentionDays = z
  .number({ error: RETENTION })
  .int({ error: RETENTION })
  .min(1, { error: RETENTION })
  .max(MAX_RETENTION_DAYS, { error: RETENTION });

// Field rules are a base type plus a refinement, not z.custom: a failed z.custom stops the object's
// cross-field checks (onObjects), and a client would hear about its problems one round at a time.

export const jsonObject = z.record(z.string(), z.unknown(), { error: 'must be a JSON object' });

export const guid = z.string({ error: 'must be a GUID' }).refine(isGuid, { error: 'must be a GUID' });

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const entitySetName = z
  .string({ error: 'must be an entity set name such as "contacts"' })
  .regex(IDENTIFIER, { error: 'must be an entity set name such as "contacts"' });

const KEY_RULE = 'must map attribute names to strings, numbers or booleans';

function isAlternateKey(v: Record<string, unknown>): v is AlternateKey {
  return (
    Object.keys(v).length > 0 &&
    Object.entries(v).every(
      ([k, x]) => IDENTIFIER.test(k) && ['string', 'number', 'boolean'].includes(typeof x),
    )
  );
}

export const alternateKey = z
  .record(z.string(), z.unknown(), { error: KEY_RULE })
  .refine(isAlternateKey, { error: KEY_RULE })
  .transform((key) => key as AlternateKey);

/** An id under the rule of lib/ids.ts (safe in a blob name and a URL path). */
export const safeId = z
  .string({ error: (issue) => idProblem(issue.input) })
  .refine((id) => isSafeId(id), { error: (issue) => idProblem(issue.input) });
