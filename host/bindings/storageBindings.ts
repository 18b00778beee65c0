/**
 * The host's side of blob input, blob output and queue output bindings, for every invocation
 * whatever its trigger: before the function runs, each `blob` input's path is resolved from the
 * trigger's binding data and the blob read (bytes, or text with dataType 'string'; a missing blob
 * is no value, as on Azure); after the function returned successfully, each `blob` output is
 * written and each `queue` output sent (from extraOutputs, or the return value for `$return`).
 * A function that failed writes nothing. It never runs app code and never decides retries.
 */
import type { RegisteredFunction, RpcBindingInfo, RpcTypedData } from '../worker/coreApi';
import type { InvocationBindings, InvocationInput } from '../worker/invoke';
import { readBlob, writeBlob } from './blobs';
import type { StorageConnections } from './connection';
import { resolveAppSettings, resolveBindingPath } from './pathExpressions';
import { sendQueueMessages } from './queues';
import { jsonProperties } from './values';

export interface StorageBindingsOptions {
  connections: StorageConnections;
  settings: Record<string, string | undefined>;
  /** The host's clock (epoch ms), for `{DateTime}`. */
  now: () => number;
}

const RETURN = '$return';

interface Served {
  inputs: [string, RpcBindingInfo][];
  outputs: [string, RpcBindingInfo][];
}

export class StorageBindings implements InvocationBindings {
  private readonly byFunction = new WeakMap<RegisteredFunction, Served>();

  constructor(private readonly options: StorageBindingsOptions) {}

  inputs(
    fn: RegisteredFunction,
    input: InvocationInput,
  ): Promise<{ name: string; data: RpcTypedData }[]> | undefined {
    const blobs = this.served(fn).inputs;
    return blobs.length === 0 ? undefined : this.readInputs(blobs, fn, input);
  }

  outputs(
    fn: RegisteredFunction,
    input: InvocationInput,
    response: { returnValue?: RpcTypedData | null; outputData: unknown[] },
  ): Promise<void> | undefined {
    const outs = this.served(fn).outputs;
    return outs.length === 0 ? undefined : this.writeOutputs(outs, fn, input, response);
  }

  /** The function's blob inputs and blob/queue outputs, found once per registration. */
  private served(fn: RegisteredFunction): Served {
    let found = this.byFunction.get(fn);
    if (!found) {
      const all = Object.entries(fn.metadata.bindings);
      found = {
        inputs: all.filter(([, b]) => b.direction === 'in' && typeOf(b) === 'blob'),
        outputs: all.filter(
          ([, b]) => b.direction === 'out' && (typeOf(b) === 'blob' || typeOf(b) === 'queue'),
        ),
      };
      this.byFunction.set(fn, found);
    }
    return found;
  }

  private async readInputs(
    blobs: [string, RpcBindingInfo][],
    fn: RegisteredFunction,
    input: InvocationInput,
  ): Promise<{ name: string; data: RpcTypedData }[]> {
    const data = bindingDataOf(fn, input);
    const out: { name: string; data: RpcTypedData }[] = [];
    for (const [name, binding] of blobs) {
      const target = this.path(binding, data);
      const bytes = await readBlob(this.options.connections, connectionOf(binding), target);
      if (bytes === undefined) continue;
      out.push({
        name,
        data: binding.dataType === 'string' ? { string: bytes.toString('utf8') } : { bytes },
      });
    }
    return out;
  }

  private async writeOutputs(
    outs: [string, RpcBindingInfo][],
    fn: RegisteredFunction,
    input: InvocationInput,
    response: { returnValue?: RpcTypedData | null; outputData: unknown[] },
  ): Promise<void> {
    const data = bindingDataOf(fn, input);
    const given = new Map<string, RpcTypedData>();
    for (const o of response.outputData as { name?: string; data?: RpcTypedData | null }[])
      if (o.name && o.data) given.set(o.name, o.data);
    const writes: Promise<void>[] = [];
    for (const [name, binding] of outs) {
      const value = name === RETURN ? response.returnValue : given.get(name);
      if (!value) continue;
      const connection = connectionOf(binding);
      if (typeOf(binding) === 'blob')
        writes.push(writeBlob(this.options.connections, connection, this.path(binding, data), value));
      else
        writes.push(
          sendQueueMessages(this.options.connections, connection, this.queueName(binding, data), value),
        );
    }
    await Promise.all(writes);
  }

  private path(binding: RpcBindingInfo, data: Record<string, unknown>): string {
    const template = resolveAppSettings(String(binding.path ?? ''), this.options.settings);
    return resolveBindingPath(template, data, this.options.now());
  }

  private queueName(binding: RpcBindingInfo, data: Record<string, unknown>): string {
    const template = resolveAppSettings(String(binding.queueName ?? ''), this.options.settings);
    // Queue names are lower case; the host lower-cases what the binding says.
    return resolveBindingPath(template, data, this.options.now()).toLowerCase();
  }
}

function typeOf(binding: RpcBindingInfo): string {
  return String(binding.type ?? '').toLowerCase();
}

function connectionOf(binding: RpcBindingInfo): string | undefined {
  return typeof binding.connection === 'string' ? binding.connection : undefined;
}

/**
 * What `{name}` resolves from when the caller did not say: an HTTP request's route parameters,
 * `query.*` and its JSON body's properties; for other triggers, the properties of a JSON payload.
 */
export function bindingDataOf(fn: RegisteredFunction, input: InvocationInput): Record<string, unknown> {
  if (input.bindingData) return input.bindingData;
  const triggerKey = Object.keys(fn.metadata.bindings).find((k) =>
    /trigger$/i.test(String(fn.metadata.bindings[k]?.type ?? '')),
  );
  const trigger = input.inputData.find((d) => d.name === triggerKey)?.data;
  if (!trigger) return {};
  if (trigger.http) {
    const body = trigger.http.body;
    const text =
      body?.string ?? body?.json ?? (body?.bytes ? Buffer.from(body.bytes).toString('utf8') : undefined);
    return {
      ...jsonProperties(text ?? undefined),
      query: trigger.http.query ?? {},
      ...(trigger.http.params ?? {}),
    };
  }
  return jsonProperties(trigger.json ?? trigger.string ?? undefined);
}
