/**
 * Makes `require('@azure/functions-core')` resolve to the local worker's API, from any module in the
 * process, before the app's entry point is loaded. Installing twice is an error: one process hosts
 * one app, as one Functions worker does.
 */
import Module from 'node:module';
import type { WorkerCore } from './coreApi';

const CORE_MODULE = '@azure/functions-core';
const VIRTUAL_PATH = '\0azure-functions-core';

let installed: WorkerCore | undefined;

interface ModuleInternals {
  _resolveFilename(request: string, parent: unknown, isMain: boolean, options?: unknown): string;
  _cache: Record<string, unknown>;
}

export function installCoreModule(core: WorkerCore): void {
  if (installed) {
    if (installed === core) return;
    throw new Error('@azure/functions-core is already provided by another host in this process');
  }
  installed = core;
  const internals = Module as unknown as ModuleInternals;
  const original = internals._resolveFilename;
  internals._resolveFilename = function (request, parent, isMain, options) {
    if (request === CORE_MODULE) return VIRTUAL_PATH;
    return original.call(this, request, parent, isMain, options);
  };
  const mod = new Module(VIRTUAL_PATH);
  mod.exports = core.api;
  mod.loaded = true;
  internals._cache[VIRTUAL_PATH] = mod;
}
