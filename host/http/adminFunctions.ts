/**
 * `POST /admin/functions/{name}`: runs a function that is not HTTP-triggered now, as `func start`
 * and Azure do when given the master key and `{"input": "..."}`. The answer is 202 once the run has
 * begun; the run's outcome goes to the log, as on Azure. It refuses HTTP and durable triggers (an
 * HTTP function has its URL; an activity or orchestration runs only under the durable engine) and
 * never reads the body before the route, method and master key have passed.
 */
import type { IndexedFunction } from '../durable/functionIndex';
import { MAX_JSON_DEPTH, jsonNestsDeeperThan } from './jsonDepth';

export const ADMIN_FUNCTIONS_PREFIX = '/admin/functions/';

export type AdminInvokeAnswer = { status: 202 } | { status: 400 | 404; code: string; message: string };

export interface AdminInvoker {
  find(name: string): IndexedFunction | undefined;
  /** Starts the function with the given input; resolves when it has finished. */
  run(fn: IndexedFunction, input: string | undefined): Promise<void>;
  log(level: 'information' | 'error', message: string): void;
}

const NOT_INVOCABLE = new Set(['httptrigger', 'orchestrationtrigger', 'activitytrigger', 'entitytrigger']);

/** The `input` of the body: a string as Azure takes it (other JSON is passed as its text). */
function parseInput(body: Buffer): { input?: string } | { error: string; code?: string } {
  if (body.length === 0) return {};
  const text = body.toString('utf8');
  // Parsing a deep value works, but turning a non-string input back into text would overflow the stack.
  if (jsonNestsDeeperThan(text, MAX_JSON_DEPTH))
    return { code: 'JSON_TOO_DEEP', error: `The request body nests deeper than ${MAX_JSON_DEPTH} levels.` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { error: 'The body must be JSON: {"input": "..."}.' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return { error: 'The body must be a JSON object: {"input": "..."}.' };
  const input = (parsed as { input?: unknown }).input;
  if (input === undefined || input === null) return {};
  return { input: typeof input === 'string' ? input : JSON.stringify(input) };
}

export function invokeByAdmin(invoker: AdminInvoker, name: string, body: Buffer): AdminInvokeAnswer {
  const fn = invoker.find(name);
  if (!fn) return { status: 404, code: 'FUNCTION_NOT_FOUND', message: `No function is named '${name}'.` };
  const trigger = String(fn.trigger.type).toLowerCase();
  if (NOT_INVOCABLE.has(trigger))
    return {
      status: 400,
      code: 'NOT_INVOCABLE',
      message:
        trigger === 'httptrigger'
          ? `'${fn.name}' is HTTP-triggered: call it at its own URL.`
          : `'${fn.name}' is a ${fn.trigger.type} function: it runs only under the durable engine.`,
    };
  const parsed = parseInput(body);
  if ('error' in parsed) return { status: 400, code: parsed.code ?? 'INVALID_BODY', message: parsed.error };
  invoker.log('information', `Executing 'Functions.${fn.name}' (Reason='Invoked through the admin API')`);
  invoker.run(fn, parsed.input).then(
    () => invoker.log('information', `Executed 'Functions.${fn.name}' (Succeeded)`),
    (err: unknown) =>
      invoker.log(
        'error',
        `Executed 'Functions.${fn.name}' (Failed): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      ),
  );
  return { status: 202 };
}
