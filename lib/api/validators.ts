/**
 * The API's side of the orchestration contracts (lib/contracts/): each validator checks an untyped
 * body against the contract's schema and returns the problems it found (empty: valid), naming each
 * bad field, so the API can answer 400 before anything starts. The rules themselves live only in
 * the contracts; the orchestrations parse their input with the same schemas.
 */
import type { z } from 'zod';
import { configChangeInput } from '../contracts/configChange';
import { createRollbackPointInput } from '../contracts/createRollbackPoint';
import { dataverseChangeInput } from '../contracts/dataverseChange';
import { problemsOf, type FieldProblem } from '../contracts/problems';
import { rollbackInput, rollbackOptions } from '../contracts/rollback';

export type Validator = (input: unknown) => FieldProblem[];

/** A validator for `schema`; a problem with the body as a whole is named `(body)`. */
export function validatorOf(schema: z.ZodType): Validator {
  return (input) => {
    const result = schema.safeParse(input);
    return result.success ? [] : problemsOf(result.error, '(body)');
  };
}

export const validateDataverseChange = validatorOf(dataverseChangeInput);
export const validateConfigChange = validatorOf(configChangeInput);
export const validateRollback = validatorOf(rollbackInput);
/** The options of executing a rollback point (the body of /rollback-points/{id}/execute and /plan). */
export const validateRollbackOptions = validatorOf(rollbackOptions);
export const validateCreateRollbackPoint = validatorOf(createRollbackPointInput);
