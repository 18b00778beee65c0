/**
 * Invokes a registered function the way the Node worker does: through the app's programming model
 * (getInvocationModel → getArguments → hooks → invokeFunction → hooks → getResponse), so the app
 * sees the same InvocationContext, bindings and conversions as on Azure. Input and output bindings
 * the host itself serves (storage) go through `core.invocationBindings`, when the host set one:
 * inputs are read before the function runs, outputs written only after it succeeded.
 */
import { randomUUID } from 'node:crypto';
import type { CoreInvocationContext, RegisteredFunction, RpcTypedData, WorkerCore } from './coreApi';

export interface InvocationInput {
  /** Binding name → typed data, as the host would send it over gRPC. */
  inputData: { name: string; data: RpcTypedData }[];
  triggerMetadata?: Record<string, RpcTypedData>;
  invocationId?: string;
  /** Told of the invocation's core context as soon as it exists (the durable engine routes logs). */
  onCoreContext?: (coreContext: CoreInvocationContext) => void;
  /**
   * The trigger's binding data (what `{name}` expressions in other bindings resolve from), when the
   * caller knows it better than the trigger data alone says (queue and blob triggers, activities).
   */
  bindingData?: Record<string, unknown>;
}

/** Bindings the host serves around an invocation (the Functions host's side of storage bindings). */
export interface InvocationBindings {
  /**
   * Typed data for the function's input bindings the host reads (e.g. blobs); undefined, without
   * a promise, when it has none (most invocations: the durable engine's path stays as it was).
   */
  inputs(
    fn: RegisteredFunction,
    input: InvocationInput,
  ): Promise<{ name: string; data: RpcTypedData }[]> | undefined;
  /** Writes the function's output bindings (undefined when it has none); a failure fails the invocation, as on Azure. */
  outputs(
    fn: RegisteredFunction,
    input: InvocationInput,
    response: { returnValue?: RpcTypedData | null; outputData: unknown[] },
  ): Promise<void> | undefined;
}

export interface InvocationResult {
  returnValue?: RpcTypedData | null;
  outputData: unknown[];
  /** The InvocationContext the programming model built (the durable engine keeps live orchestrations through it). */
  context?: unknown;
  /** The core context that InvocationContext logs through. */
  coreContext?: CoreInvocationContext;
  /** What the function returned, after the postInvocation hooks had their say. */
  returned?: unknown;
}

export async function invokeFunction(
  core: WorkerCore,
  fn: RegisteredFunction,
  input: InvocationInput,
): Promise<InvocationResult> {
  const invocationId = input.invocationId ?? randomUUID();
  const bindings = core.invocationBindings;
  const reading = bindings?.inputs(fn, input);
  const inputData = reading ? [...input.inputData, ...(await reading)] : input.inputData;
  const current: { context?: unknown } = {};
  const coreContext: CoreInvocationContext = {
    invocationId,
    metadata: fn.metadata,
    request: { invocationId, inputData, triggerMetadata: input.triggerMetadata },
    log: (level, category, message) => core.log(level, category, message, current.context),
  };
  input.onCoreContext?.(coreContext);
  const model = core.programmingModel.getInvocationModel(coreContext);
  const { context, inputs } = await model.getArguments();
  current.context = context;

  let callback = fn.callback;
  let args = inputs;
  const hookData: Record<string, unknown> = {};
  if (core.hasHooks('preInvocation')) {
    coreContext.state = 'preInvocationHooks';
    const pre: Record<string, unknown> = {
      hookData,
      appHookData: core.appHookData,
      invocationContext: context,
      inputs: args,
      functionCallback: callback,
    };
    await core.runHooks('preInvocation', pre);
    args = pre.inputs as unknown[];
    callback = pre.functionCallback as typeof callback;
  }

  coreContext.state = 'invocation';
  let result: unknown;
  let error: unknown;
  try {
    result = await model.invokeFunction(context, args, callback);
  } catch (err) {
    error = err;
  }

  if (core.hasHooks('postInvocation')) {
    coreContext.state = 'postInvocationHooks';
    const post: Record<string, unknown> = {
      hookData,
      appHookData: core.appHookData,
      invocationContext: context,
      inputs: args,
      result,
      error,
    };
    await core.runHooks('postInvocation', post);
    result = post.result;
    error = post.error;
  }
  coreContext.state = undefined;
  if (error !== undefined && error !== null) throw error;

  const response = await model.getResponse(context, result);
  const outputData = response.outputData ?? [];
  const writing = bindings?.outputs(fn, input, { returnValue: response.returnValue, outputData });
  if (writing) await writing;
  return { returnValue: response.returnValue, outputData, context, coreContext, returned: result };
}

/** Turns an RPC return value back into a JS value (the inverse of the library's toRpcTypedData). */
export function fromTypedData(data: RpcTypedData | null | undefined): unknown {
  if (!data) return undefined;
  if (data.json !== undefined && data.json !== null) return JSON.parse(data.json);
  if (data.string !== undefined && data.string !== null) return data.string;
  if (data.int !== undefined && data.int !== null) return data.int;
  if (data.double !== undefined && data.double !== null) return data.double;
  if (data.bytes !== undefined && data.bytes !== null) return Buffer.from(data.bytes);
  return undefined;
}
