/**
 * The `@azure/functions-core` module as the Functions worker provides it: a registry of functions
 * (metadata + handler), the programming model, and the app/invocation hooks. `@azure/functions`
 * calls into this object exactly as it calls the real worker; nothing here may depend on the app.
 */
import type { InvocationBindings } from './invoke';

export type RpcTypedData = {
  string?: string | null;
  json?: string | null;
  bytes?: Uint8Array | null;
  http?: RpcHttpData | null;
  int?: number | null;
  double?: number | null;
};

export interface RpcHttpData {
  method?: string | null;
  url?: string | null;
  headers?: Record<string, string> | null;
  body?: RpcTypedData | null;
  params?: Record<string, string> | null;
  statusCode?: string | null;
  query?: Record<string, string> | null;
  cookies?: unknown[] | null;
  enableContentNegotiation?: boolean | null;
}

export interface RpcBindingInfo {
  type?: string | null;
  direction?: 'in' | 'out' | 'inout' | null;
  dataType?: string | null;
  [option: string]: unknown;
}

export interface FunctionMetadata {
  name: string;
  bindings: Record<string, RpcBindingInfo>;
  retryOptions?: unknown;
  [extra: string]: unknown;
}

export type FunctionCallback = (...args: unknown[]) => unknown;

export interface RegisteredFunction {
  metadata: FunctionMetadata;
  callback: FunctionCallback;
}

export type LogLevel = 'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical' | 'none';
export type LogCategory = 'user' | 'system' | 'customMetric';

export interface CoreInvocationContext {
  invocationId: string;
  metadata: FunctionMetadata;
  request: {
    invocationId: string;
    inputData: { name: string; data: RpcTypedData }[];
    triggerMetadata?: Record<string, RpcTypedData>;
  };
  state?: 'preInvocationHooks' | 'postInvocationHooks' | 'invocation';
  log(level: LogLevel, category: LogCategory, message: string): void;
}

export interface InvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], callback: FunctionCallback): Promise<unknown>;
  getResponse(
    context: unknown,
    result: unknown,
  ): Promise<{ returnValue?: RpcTypedData | null; outputData?: unknown[] }>;
}

export interface ProgrammingModel {
  name: string;
  version: string;
  getInvocationModel(coreContext: CoreInvocationContext): InvocationModel;
  getCapabilities?(
    capabilities: Record<string, string>,
  ): Promise<Record<string, string>> | Record<string, string>;
}

export type HookName = 'appStart' | 'appTerminate' | 'preInvocation' | 'postInvocation' | 'log';
const hookNames: readonly HookName[] = ['appStart', 'appTerminate', 'preInvocation', 'postInvocation', 'log'];
type HookCallback = (context: Record<string, unknown>) => unknown;

export interface Disposable {
  dispose(): void;
}

/** Host version reported to the library; >= 4.28 unlocks `log` and HTTP streaming checks. */
export const HOST_VERSION = '4.1037.0';

export class WorkerCore {
  readonly functions = new Map<string, RegisteredFunction>();
  readonly appHookData: Record<string, unknown> = {};
  /**
   * What the programming model announced at worker init (`getCapabilities`): e.g. `HttpUri`, the
   * address of its own HTTP server when the app enabled HTTP streaming. Empty until negotiated.
   */
  capabilities: Readonly<Record<string, string>> = {};
  private model: ProgrammingModel | undefined;
  private readonly hooks = new Map<HookName, HookCallback[]>();
  /** The host's storage bindings, once it has set them up (invocations before that have none). */
  invocationBindings: InvocationBindings | undefined;
  /** Where `log()` output goes; the host replaces it once its logger exists. */
  logSink: (level: LogLevel, category: LogCategory, message: string) => void = (
    level,
    _category,
    message,
  ) => {
    if (level === 'error' || level === 'critical') console.error(message);
    else if (level !== 'trace' && level !== 'debug' && level !== 'none') console.log(message);
  };

  /** The object `require('@azure/functions-core')` returns. */
  readonly api = {
    version: '3.0.0',
    hostVersion: HOST_VERSION,
    registerFunction: (metadata: FunctionMetadata, callback: FunctionCallback): Disposable =>
      this.registerFunction(metadata, callback),
    setProgrammingModel: (model: ProgrammingModel): void => {
      this.model = model;
    },
    getProgrammingModel: (): ProgrammingModel | undefined => this.model,
    registerHook: (name: string, callback: HookCallback): Disposable => this.registerHook(name, callback),
    log: (level: LogLevel, category: LogCategory, message: string): void =>
      this.log(level, category, message),
  };

  get programmingModel(): ProgrammingModel {
    if (!this.model) throw new Error('The app never set a programming model (it registered no functions).');
    return this.model;
  }

  /**
   * Asks the programming model for its capabilities, as the worker does when it answers the host's
   * init request; the model locks its setup then (no `app.setup` after this point).
   */
  async negotiateCapabilities(): Promise<Readonly<Record<string, string>>> {
    const announced = this.model?.getCapabilities ? await this.model.getCapabilities({}) : {};
    this.capabilities = { ...announced };
    return this.capabilities;
  }

  registerFunction(metadata: FunctionMetadata, callback: FunctionCallback): Disposable {
    if (!metadata?.name) throw new Error('registerFunction: metadata.name is required');
    if (this.functions.has(metadata.name)) {
      throw new Error(`A function with the name "${metadata.name}" has already been registered.`);
    }
    this.functions.set(metadata.name, { metadata, callback });
    return { dispose: () => void this.functions.delete(metadata.name) };
  }

  registerHook(name: string, callback: HookCallback): Disposable {
    if (!hookNames.includes(name as HookName)) throw new RangeError(`Unrecognized hook "${name}"`);
    const list = this.hooks.get(name as HookName) ?? [];
    list.push(callback);
    this.hooks.set(name as HookName, list);
    return {
      dispose: () => {
        const current = this.hooks.get(name as HookName) ?? [];
        this.hooks.set(
          name as HookName,
          current.filter((c) => c !== callback),
        );
      },
    };
  }

  hasHooks(name: HookName): boolean {
    return (this.hooks.get(name)?.length ?? 0) > 0;
  }

  async runHooks(name: HookName, context: Record<string, unknown>): Promise<void> {
    for (const hook of this.hooks.get(name) ?? []) await hook(context);
  }

  log(level: LogLevel, category: LogCategory, message: string, invocationContext?: unknown): void {
    const logHooks = this.hooks.get('log');
    if (logHooks?.length) {
      const ctx: Record<string, unknown> = {
        level,
        category,
        message,
        invocationContext,
        hookData: {},
        appHookData: this.appHookData,
      };
      for (const hook of logHooks) {
        try {
          hook(ctx);
        } catch {
          // A failing log hook must not break the invocation that logged.
        }
      }
      this.logSink(ctx.level as LogLevel, ctx.category as LogCategory, String(ctx.message));
      return;
    }
    this.logSink(level, category, message);
  }
}
