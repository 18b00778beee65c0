/**
 * Typed activity handles: `defineActivity` registers an activity with `durable-functions` and
 * returns a handle whose input and result types the saga kit carries into orchestrator code, so a
 * step's types flow from the activity's definition instead of being repeated as bare strings.
 * Call it from a file under activities/ — lib/ itself registers nothing. An activity that gives up
 * on a transient outage fails with a ServiceUnavailableError (the outage, and how long saga steps
 * keep retrying per TRANSIENT_RETRY_MINUTES), so the saga waits instead of compensating.
 */
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { transientRetryMinutes } from '../config/settings';
import { asActivityFailure } from '../errors/transient';

export interface TypedActivity<I, R> {
  readonly kind: 'activity';
  readonly name: string;
  /** Phantom member: never set, it only carries the types. */
  readonly types?: { input: I; result: R };
}

export function defineActivity<I, R>(
  name: string,
  handler: (input: I, context: InvocationContext) => Promise<R> | R,
): TypedActivity<I, R> {
  df.app.activity(name, {
    handler: async (input: unknown, context: InvocationContext) => {
      try {
        return await handler(input as I, context);
      } catch (err) {
        throw asActivityFailure(err, transientRetryMinutes() * 60_000);
      }
    },
  });
  return { kind: 'activity', name };
}
