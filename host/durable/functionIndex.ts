/**
 * Finds the app's registered functions by trigger type, as the Functions host indexes them:
 * orchestrations, activities, entities (matched case-insensitively, as Azure does), HTTP and timer
 * triggers. Read-only view over the worker's registry.
 */
import type { RegisteredFunction, RpcBindingInfo, WorkerCore } from '../worker/coreApi';

export interface IndexedFunction {
  fn: RegisteredFunction;
  name: string;
  triggerKey: string;
  trigger: RpcBindingInfo;
}

export function triggerOf(fn: RegisteredFunction): { key: string; binding: RpcBindingInfo } | undefined {
  for (const [key, binding] of Object.entries(fn.metadata.bindings)) {
    if (binding.type && /trigger$/i.test(binding.type)) return { key, binding };
  }
  return undefined;
}

export class FunctionIndex {
  constructor(private readonly core: WorkerCore) {}

  all(): IndexedFunction[] {
    const out: IndexedFunction[] = [];
    for (const fn of this.core.functions.values()) {
      const t = triggerOf(fn);
      if (t) out.push({ fn, name: fn.metadata.name, triggerKey: t.key, trigger: t.binding });
    }
    return out;
  }

  byType(type: string): IndexedFunction[] {
    return this.all().filter((f) => f.trigger.type?.toLowerCase() === type.toLowerCase());
  }

  find(type: string, name: string): IndexedFunction | undefined {
    const candidates = this.byType(type);
    return (
      candidates.find((f) => f.name === name) ??
      candidates.find((f) => f.name.toLowerCase() === name.toLowerCase())
    );
  }
}
