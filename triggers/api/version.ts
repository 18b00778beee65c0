/**
 * GET /api/version: what is running — the app's name and version, Node.js, and the versions of the
 * Functions programming model and durable-functions it was built with. Nothing from settings.
 */
import { app, type HttpResponseInit } from '@azure/functions';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { answering } from '../../lib/api/errors';

interface PackageJson {
  name?: string;
  version?: string;
}

/** The nearest package.json at or above `dir` whose name passes `accept`. */
function packageAbove(dir: string, accept: (p: PackageJson) => boolean): PackageJson | undefined {
  for (let at = dir; ; at = dirname(at)) {
    const file = join(at, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as PackageJson;
      if (accept(pkg)) return pkg;
    }
    if (dirname(at) === at) return undefined;
  }
}

function dependencyVersion(name: string): string | undefined {
  try {
    return packageAbove(dirname(require.resolve(name)), (p) => p.name === name)?.version;
  } catch {
    return undefined;
  }
}

let cached: Record<string, unknown> | undefined;

export function versionInfo(): Record<string, unknown> {
  if (!cached) {
    const self = packageAbove(__dirname, (p) => typeof p.name === 'string' && typeof p.version === 'string');
    cached = {
      name: self?.name ?? 'unknown',
      version: self?.version ?? 'unknown',
      node: process.version,
      host: {
        functionsRuntime: '~4',
        programmingModel: `@azure/functions ${dependencyVersion('@azure/functions') ?? 'unknown'}`,
        durableFunctions: dependencyVersion('durable-functions') ?? 'unknown',
      },
    };
  }
  return cached;
}

app.http('apiVersion', {
  route: 'version',
  methods: ['GET'],
  authLevel: 'function',
  handler: answering(async (): Promise<HttpResponseInit> => ({ status: 200, jsonBody: versionInfo() })),
});
