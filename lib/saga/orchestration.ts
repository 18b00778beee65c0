/**
 * Typed orchestration handles. `orchestrationRef` names an orchestration and the input it takes,
 * without registering anything, so lower layers (the API registry, the webhook routes, the timers)
 * can start it by handle; `defineOrchestration` registers the generator under a handle's name from
 * a file under orchestrators/ and returns the handle with the output type its generator produces,
 * which is what a parent orchestration calls. lib/ itself registers nothing.
 */
import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';

export interface TypedOrchestration<I, O> {
  readonly kind: 'orchestration';
  readonly name: string;
  /** Phantom member: never set, it only carries the types. */
  readonly types?: { input: I; result: O };
}

export function orchestrationRef<I, O = unknown>(name: string): TypedOrchestration<I, O> {
  return { kind: 'orchestration', name };
}

export function defineOrchestration<I, O>(
  ref: TypedOrchestration<I, unknown>,
  handler: (context: OrchestrationContext) => Generator<Task, O, unknown>,
): TypedOrchestration<I, O> {
  df.app.orchestration(ref.name, handler);
  return { kind: 'orchestration', name: ref.name };
}
