/**
 * The orchestrations a client may start through the API, each with the validator its input must
 * pass first. Anything not listed here cannot be started from outside (the API answers 404), so an
 * internal orchestration never becomes public by accident. Adding one is one line.
 */
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
  /** One line for people reading `GET /api/orchestrators`-like listings and errors. */
  description: string;
  validate: Validator;
}

const entries: PublicOrchestration[] = [
  {
    name: 'dataverseChange',
    description: 'Apply a described Dataverse change as a saga',
    validate: validateDataverseChange,
  },
  {
    name: 'configChange',
    description: 'Write a new version of the app configuration',
    validate: validateConfigChange,
  },
  { name: 'rollback', description: 'Execute (or dry-run) a rollback point', validate: validateRollback },
  {
    name: 'createRollbackPoint',
    description: 'Snapshot records by hand',
    validate: validateCreateRollbackPoint,
  },
];

export const publicOrchestrations: ReadonlyMap<string, PublicOrchestration> = new Map(
  entries.map((e) => [e.name, e]),
);

export function publicOrchestration(name: string): PublicOrchestration | undefined {
  return publicOrchestrations.get(name);
}

/** The public orchestration named `name`, or a 404 that lists the public ones. */
export function requirePublicOrchestration(name: string): PublicOrchestration {
  const entry = publicOrchestrations.get(name);
  if (!entry)
    throw ApiError.notFound(
      `No public orchestration named '${name}'. Public ones: ${[...publicOrchestrations.keys()].join(', ')}.`,
    );
  return entry;
}
