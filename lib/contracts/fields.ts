/**
 * The field rules the orchestration contracts share (flags, descriptions, retention, GUIDs, entity
 * set names, ids), each with the message a client sees when a value breaks it. Only schemas: no I/O,
 * and nothing here knows about HTTP or orchestrations.
 */
import { z } from 'zod';
import type { AlternateKey } from '../dataverse/keys';
import { isGuid } from '../dataverse/keys';
import { idProblem, isSafeId, type SafeId } from '../ids';

export type JsonObject = Record<string, unknown>;

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Cross-field checks run even when a single field is already wrong (so a client hears every
 * problem at once), but only on an object: they read fields that may still hold bad values.
 */
export const onObjects = { when: (payload: { value: unknown }): boolean => isJsonObject(payload.value) };

/** An object that refuses fields not in `shape`, naming the known ones. */
export function closedObject<T extends z.ZodRawShape>(shape: T, message = 'must be a JSON object') {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? `is not a known field (known: ${known})` : message,
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

export const jsonObject = z.custom<JsonObject>(isJsonObject, { error: 'must be a JSON object' });

export const guid = z.custom<string>((v) => typeof v === 'string' && isGuid(v), { error: 'must be a GUID' });

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const entitySetName = z
  .string({ error: 'must be an entity set name such as "contacts"' })
  .regex(IDENTIFIER, { error: 'must be an entity set name such as "contacts"' });

function isAlternateKey(v: unknown): v is AlternateKey {
  return (
    isJsonObject(v) &&
    Object.keys(v).length > 0 &&
    Object.entries(v).every(
      ([k, x]) => IDENTIFIER.test(k) && ['string', 'number', 'boolean'].includes(typeof x),
    )
  );
}

export const alternateKey = z.custom<AlternateKey>(isAlternateKey, {
  error: 'must map attribute names to strings, numbers or booleans',
});

/** An id under the rule of lib/ids.ts (safe in a blob name and a URL path). */
export const safeId = z.custom<SafeId>((v) => isSafeId(v), {
  error: (issue) => idProblem(issue.input) ?? 'is not a usable id',
});
