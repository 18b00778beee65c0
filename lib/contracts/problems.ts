/**
 * Turns what a contract's schema found wrong into field problems (`{ field, message }`, the field a
 * path such as `operations[2].id`), and the error an orchestration fails with when its input breaks
 * its contract. It never decides what is valid: that is the schemas' job, beside it.
 */
import type { z } from 'zod';
import { CodedError } from '../errors/codedError';

export interface FieldProblem {
  field: string;
  message: string;
}

/** `a.b[2].c` for the path `['a', 'b', 2, 'c']`; `root` for the value itself. */
function fieldOf(path: readonly PropertyKey[], root: string): string {
  if (path.length === 0) return root;
  return path
    .map((step, i) => (typeof step === 'number' ? `[${step}]` : `${i === 0 ? '' : '.'}${String(step)}`))
    .join('');
}

/** One problem per bad field; an unknown-fields finding becomes one problem per unknown field. */
export function problemsOf(error: z.ZodError, root: string): FieldProblem[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ field: fieldOf([...issue.path, key], root), message: issue.message }))
      : [{ field: fieldOf(issue.path, root), message: issue.message }],
  );
}

/** An input that breaks its contract; the code leads the message, which is all that crosses an activity boundary. */
export class InvalidInputError extends CodedError {
  constructor(
    readonly problems: FieldProblem[],
    code = 'INVALID_INPUT',
    what = 'The input',
  ) {
    super(code, `${what} is not valid: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
    this.name = 'InvalidInputError';
  }
}

/** `raw` as the contract's typed value, or the error `refuse` makes of every bad field (INVALID_INPUT). */
export function parseInput<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  refuse: (problems: FieldProblem[]) => Error = (problems) => new InvalidInputError(problems),
  root = '(input)',
): z.output<S> {
  const result = schema.safeParse(raw);
  if (!result.success) throw refuse(problemsOf(result.error, root));
  return result.data;
}
