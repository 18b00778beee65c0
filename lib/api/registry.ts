/**
 * The orchestrations a client may start through the API, each with the validator its input must
 * pass first. Anything not listed here cannot be started from outside (the API answers 404), so an
 * internal orchestration never becomes public by accident. Adding one is one line.
 */
import {
  configChangeFlow,
  createRollbackPointFlow,
  dataverseChangeFlow,
  rollbackFlow,
} from '../orchestrations';
import type { TypedOrchestration } from '../saga/orchestration';
import { closestName } from './closestName';
import { ApiError } from './errors';
import {
  validateConfigChange,
  validateCreateRollbackPoint,
  validateDataverseChange,
  validateRollback,
  type Validator,
} from './validators';

export interface PublicOrchestration {
  /** The orchestration function's name, as registered with df.app.orchestration. */
  name: string;
  /** Checks the input before anything starts; the orchestration checks again when it runs. */
  validate: Validator;
}

/** Orchestration → input validator. One line per public orchestration. */
const PUBLIC: [TypedOrchestration<unknown, unknown>, Validator][] = [
  [dataverseChangeFlow, validateDataverseChange],
  [configChangeFlow, validateConfigChange],
  [rollbackFlow, validateRollback],
  [createRollbackPointFlow, validateCreateRollbackPoint],
];

export const publicOrchestrations: ReadonlyMap<string, PublicOrchestration> = new Map(
  PUBLIC.map(([{ name }, validate]) => [name, { name, validate }]),
);
export function publicOrchestration(name: string): PublicOrchestration | undefined {
  return publicOrchestrations.get(name);
}

/** The public orchestration named `name`, or a 404 that suggests the nearest and lists the public ones. */
export function requirePublicOrchestration(name: string): PublicOrchestration {
  const entry = publicOrchestrations.get(name);
  if (!entry) {
    const meant = closestName(name, publicOrchestrations.keys());
    throw ApiError.notFound(
      `No public orchestration named '${name}'.${meant ? ` Did you mean ${meant}?` : ''} Public ones: ${[...publicOrchestrations.keys()].join(', ')}.`,
    );
  }
  return entry;
}
