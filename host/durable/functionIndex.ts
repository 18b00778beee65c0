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
  private cache?: { size: number; all: IndexedFunction[]; byKey: Map<string, IndexedFunction> };

  constructor(private readonly core: WorkerCore) {}

  /** Registrations rarely change after load; rebuild the lookup only when the registry does. */
  private index(): { all: IndexedFunction[]; byKey: Map<string, IndexedFunction> } {
    if (this.cache?.size === this.core.functions.size) return this.cache;
    const all = this.scan();
    const byKey = new Map<string, IndexedFunction>();
    for (const f of all) {
      const type = String(f.trigger.type).toLowerCase();
      byKey.set(`${type}\0${f.name}`, f);
      if (!byKey.has(`${type}\0~${f.name.toLowerCase()}`)) byKey.set(`${type}\0~${f.name.toLowerCase()}`, f);
    }
    this.cache = { size: this.core.functions.size, all, byKey };
    return this.cache;
  }

  all(): IndexedFunction[] {
    return this.index().all;
  }

  private scan(): IndexedFunction[] {
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
    const { byKey } = this.index();
    const t = type.toLowerCase();
    return byKey.get(`${t}\0${name}`) ?? byKey.get(`${t}\0~${name.toLowerCase()}`);
  }
}
