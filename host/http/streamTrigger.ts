/**
 * Invokes an HTTP-triggered function of an app that enabled HTTP streaming, as the Functions host
 * does for a worker that announced an `HttpUri`: the trigger input is a placeholder, the request's
 * headers and route parameters travel as trigger metadata, and the request itself (body included)
 * reaches the app through its own HTTP server (workerProxy.ts), matched by the invocation id.
 * The app's answer never comes back through here: it writes it to that server's response. This file
 * must never see a body byte.
 */
import type { RegisteredFunction, RpcTypedData, WorkerCore } from '../worker/coreApi';
import { type InvocationResult, invokeFunction } from '../worker/invoke';
import { durableClientInputs } from './httpTrigger';

export interface StreamedHttpCall {
  invocationId: string;
  /** The request URL the host built (Host header checked, key checks done). */
  url: string;
  headers: Record<string, string>;
  params: Record<string, string>;
}

export interface StreamedHttpOutcome {
  result: InvocationResult;
  /** Whether the app handed the library a response to write (else nobody will answer the proxy). */
  responded: boolean;
}

/** Trigger metadata as the host sends it for an HTTP trigger: Headers, Query, then each route parameter. */
export function httpTriggerMetadata(call: StreamedHttpCall): Record<string, RpcTypedData> {
  const query: Record<string, string> = {};
  new URL(call.url).searchParams.forEach((v, k) => {
    query[k] = v;
  });
  const metadata: Record<string, RpcTypedData> = {
    Headers: { json: JSON.stringify(call.headers) },
    Query: { json: JSON.stringify(query) },
  };
  // The library reads every other entry as a route parameter, so nothing else may go here.
  for (const [name, value] of Object.entries(call.params)) {
    if (name !== 'Headers' && name !== 'Query') metadata[name] = { string: value };
  }
  return metadata;
}

interface OutputsLike {
  extraOutputs?: { get(name: string): unknown };
}

/** True when some `http` output binding got a value: the library then wrote it to its proxy response. */
function gaveResponse(fn: RegisteredFunction, result: InvocationResult): boolean {
  for (const [key, binding] of Object.entries(fn.metadata.bindings)) {
    if (binding.direction !== 'out' || String(binding.type).toLowerCase() !== 'http') continue;
    const value =
      key === '$return'
        ? result.returned
        : (result.context as OutputsLike | undefined)?.extraOutputs?.get(key);
    if (value !== undefined && value !== null) return true;
  }
  return false;
}

export async function invokeStreamedHttpFunction(
  core: WorkerCore,
  fn: RegisteredFunction,
  triggerKey: string,
  call: StreamedHttpCall,
  durableClientValue: () => Record<string, unknown>,
): Promise<StreamedHttpOutcome> {
  const result = await invokeFunction(core, fn, {
    invocationId: call.invocationId,
    inputData: [
      { name: triggerKey, data: { http: {} } },
      ...durableClientInputs(fn, triggerKey, durableClientValue),
    ],
    triggerMetadata: httpTriggerMetadata(call),
  });
  return { result, responded: gaveResponse(fn, result) };
}
