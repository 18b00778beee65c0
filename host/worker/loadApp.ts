/**
 * Loads a v4 Functions app from its directory the way the worker does: provide
 * `@azure/functions-core`, require every file that package.json `main` names (globs allowed), then
 * run the appStart hooks. What the app registered is what the host runs.
 */
import fs from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import { WorkerCore } from './coreApi';
import { globFiles } from './glob';
import { installCoreModule } from './moduleShim';

export interface LoadedApp {
  dir: string;
  core: WorkerCore;
  entryFiles: string[];
}

export class AppLoadError extends Error {
  readonly code = 'APP_LOAD_FAILED';
}

export async function loadApp(appDir: string, core: WorkerCore = new WorkerCore()): Promise<LoadedApp> {
  const dir = path.resolve(appDir);
  const pkgPath = path.join(dir, 'package.json');
  if (!fs.existsSync(pkgPath)) throw new AppLoadError(`No package.json in ${dir}`);
  const pkg = JSON.parse(fs.readFileSync(pkgPath, 'utf8')) as { main?: string };
  const main = pkg.main ?? 'index.js';
  const entryFiles = /[*?{]/.test(main) ? globFiles(dir, main) : [path.resolve(dir, main)];
  if (entryFiles.length === 0 || !entryFiles.every((f) => fs.existsSync(f))) {
    throw new AppLoadError(
      `package.json "main" (${main}) matches no file in ${dir}; build the app first (npm run build)`,
    );
  }

  installCoreModule(core);
  const appRequire = Module.createRequire(pkgPath);
  for (const file of entryFiles) {
    try {
      appRequire(file);
    } catch (err) {
      throw new AppLoadError(
        `Worker was unable to load entry point "${path.relative(dir, file)}": ${String(err)}`,
        {
          cause: err,
        },
      );
    }
  }
  await core.runHooks('appStart', { hookData: core.appHookData, functionAppDirectory: dir });
  return { dir, core, entryFiles };
}
