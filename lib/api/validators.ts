/**
 * Input validators for the orchestrations the API starts. Each takes the untyped body and returns
 * the problems it found (empty: valid), naming each bad field, so the API can answer 400 before
 * anything starts. The orchestrations validate again; these exist so a client hears "no" at once.
 */
import { ChangeValidationError, validateChange } from '../dataverse/changes';
import { isGuid } from '../dataverse/keys';
import { idProblem } from '../ids';
import type { FieldProblem } from './errors';

export type Validator = (input: unknown) => FieldProblem[];

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks that `input` is an object with no fields but `allowed`, then runs `check` on it. */
function objectWith(
  allowed: readonly string[],
  check: (input: Json, problems: FieldProblem[]) => void,
): Validator {
  return (input) => {
    if (!isObject(input)) return [{ field: '(body)', message: 'must be a JSON object' }];
    const problems: FieldProblem[] = [];
    for (const key of Object.keys(input))
      if (!allowed.includes(key))
        problems.push({ field: key, message: `is not a known field (known: ${allowed.join(', ')})` });
    check(input, problems);
    return problems;
  };
}

function optionalString(input: Json, field: string, problems: FieldProblem[], maxLength = 1000): void {
  const v = input[field];
  if (v !== undefined && (typeof v !== 'string' || v.length > maxLength))
    problems.push({ field, message: `must be a string of at most ${maxLength} characters` });
}

function optionalBoolean(input: Json, field: string, problems: FieldProblem[]): void {
  if (input[field] !== undefined && typeof input[field] !== 'boolean')
    problems.push({ field, message: 'must be true or false' });
}

function optionalRetention(input: Json, problems: FieldProblem[]): void {
  const v = input.retentionDays;
  if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 3650))
    problems.push({ field: 'retentionDays', message: 'must be a whole number of days from 1 to 3650' });
}

export const validateDataverseChange: Validator = (input) => {
  try {
    validateChange(input);
    return [];
  } catch (err) {
    if (err instanceof ChangeValidationError)
      return err.problems.map((p) => ({
        field: p.field === '(input)' ? '(body)' : p.field,
        message: p.message,
      }));
    throw err;
  }
};

export const validateConfigChange: Validator = objectWith(
  ['description', 'value', 'patch', 'retentionDays'],
  (input, problems) => {
    optionalString(input, 'description', problems);
    optionalRetention(input, problems);
    if ((input.value === undefined) === (input.patch === undefined))
      problems.push({
        field: 'value',
        message: 'give exactly one of value (the whole configuration) or patch',
      });
    for (const field of ['value', 'patch'] as const)
      if (input[field] !== undefined && !isObject(input[field]))
        problems.push({ field, message: 'must be a JSON object' });
  },
);

/** A rollback point id in an input: the id rule of lib/ids.ts, as a field problem. */
export function pointIdProblem(id: unknown, field = 'pointId'): FieldProblem | undefined {
  const problem = idProblem(id);
  return problem === undefined ? undefined : { field, message: problem };
}

/** The options of executing a rollback point (the body of /rollback-points/{id}/execute and /plan). */
export const validateRollbackOptions: Validator = objectWith(['cascade', 'force'], (input, problems) => {
  optionalBoolean(input, 'cascade', problems);
  optionalBoolean(input, 'force', problems);
});

export const validateRollback: Validator = objectWith(
  ['pointId', 'cascade', 'force', 'dryRun'],
  (input, problems) => {
    const bad = pointIdProblem(input.pointId);
    if (bad) problems.push(bad);
    for (const flag of ['cascade', 'force', 'dryRun']) optionalBoolean(input, flag, problems);
  },
);

const TABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const validateCreateRollbackPoint: Validator = objectWith(
  ['description', 'records', 'includeConfig', 'retentionDays'],
  (input, problems) => {
    optionalString(input, 'description', problems);
    optionalBoolean(input, 'includeConfig', problems);
    optionalRetention(input, problems);
    const records = input.records;
    if (records !== undefined && !Array.isArray(records)) {
      problems.push({ field: 'records', message: 'must be an array of {table, id}' });
    } else if (records) {
      if (records.length > 500) problems.push({ field: 'records', message: 'must have at most 500 records' });
      records.forEach((r: unknown, i) => {
        const at = `records[${i}]`;
        if (!isObject(r)) return problems.push({ field: at, message: 'must be an object {table, id}' });
        if (typeof r.table !== 'string' || !TABLE.test(r.table))
          problems.push({ field: `${at}.table`, message: 'must be an entity set name such as "contacts"' });
        if (typeof r.id !== 'string' || !isGuid(r.id))
          problems.push({ field: `${at}.id`, message: 'must be a GUID' });
      });
    }
    if (!(Array.isArray(records) && records.length > 0) && input.includeConfig !== true)
      problems.push({ field: 'records', message: 'give records ([{table, id}]) and/or includeConfig: true' });
  },
);
