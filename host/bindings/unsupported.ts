/**
 * The one start-up warning for what the local host cannot serve: every trigger and binding of an
 * unsupported type (Service Bus, Event Hubs, Cosmos DB, SendGrid...), each with its function, in a
 * single line, so that an app still starts and the reader sees the whole gap at once rather than a
 * warning per call. Pure: it returns the text, the host logs it.
 */
import type { IndexedFunction } from '../durable/functionIndex';

const SUPPORTED_TRIGGERS = new Set([
  'httptrigger',
  'timertrigger',
  'orchestrationtrigger',
  'activitytrigger',
  'entitytrigger',
  'queuetrigger',
  'blobtrigger',
]);
const SUPPORTED_BINDINGS = new Set(['http', 'durableclient', 'orchestrationclient', 'blob', 'queue']);

export function unsupportedBindingsWarning(functions: IndexedFunction[]): string | undefined {
  const items: string[] = [];
  for (const f of functions) {
    if (!SUPPORTED_TRIGGERS.has(String(f.trigger.type).toLowerCase()))
      items.push(
        `'${f.name}' trigger ${String(f.trigger.type)} (runs only through POST /admin/functions/${f.name})`,
      );
    for (const [key, binding] of Object.entries(f.fn.metadata.bindings)) {
      if (key === f.triggerKey) continue;
      if (!SUPPORTED_BINDINGS.has(String(binding.type ?? '').toLowerCase()))
        items.push(
          `'${f.name}' ${binding.direction ?? ''} binding '${key}' of type ${String(binding.type)} (ignored)`,
        );
    }
  }
  if (items.length === 0) return undefined;
  return (
    `The local host does not support ${items.length === 1 ? 'this binding' : 'these bindings'}; ` +
    `the app runs without them: ${items.join('; ')}.`
  );
}
