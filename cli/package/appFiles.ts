/**
 * What of the built project the Functions host needs at run time: host.json, the compiled app
 * (orchestrators, activities, triggers and the lib they use), the dashboard's built files when there
 * are any, and a package.json whose `main` names the registrations. The local host, the simulators
 * and the CLI stay out: Azure runs the app on its own host.
 */
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';

/** Compiled folders the app's registrations and everything they import live in. */
export const APP_DIRS = ['dist/orchestrators', 'dist/activities', 'dist/triggers', 'dist/lib'];
/** Built static files of the dashboard, packaged when present. */
export const OPTIONAL_DIRS = ['dist/ui'];
/** Production dependencies only the local host and the simulators use; the Azure package omits them. */
export const LOCAL_HOST_ONLY = ['better-sqlite3', 'selfsigned'];
/** Modules the Functions worker provides to the app; they are never installed. */
const WORKER_PROVIDED = ['@azure/functions-core'];

export class AppFilesError extends Error {
  readonly code = 'APP_FILES';
}

interface ProjectPackage {
  name: string;
  version: string;
  description?: string;
  license?: string;
  main: string;
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
}

export function readProjectPackage(projectRoot: string): ProjectPackage {
  return JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as ProjectPackage;
}

/** The dependencies the packaged app declares (and whose trees the zip carries). */
export function runtimeDependencies(pkg: ProjectPackage): Record<string, string> {
  return Object.fromEntries(
    Object.entries(pkg.dependencies ?? {}).filter(([name]) => !LOCAL_HOST_ONLY.includes(name)),
  );
}

/** The package.json inside the zip: what the host reads (`main`), nothing for development. */
export function packagedManifest(pkg: ProjectPackage): string {
  const manifest = {
    name: pkg.name,
    version: pkg.version,
    description: pkg.description,
    license: pkg.license,
    private: true,
    type: 'commonjs',
    main: pkg.main,
    engines: pkg.engines,
    dependencies: runtimeDependencies(pkg),
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Files under `dir` (relative to `root`, '/'-separated), without source maps. */
export function filesUnder(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile() && !entry.name.endsWith('.map')) out.push(child);
    }
  };
  if (fs.existsSync(path.join(root, dir))) walk(dir);
  return out.sort();
}

/** host.json and the compiled app, checked to be built. */
export function appFiles(projectRoot: string): string[] {
  const files = ['host.json'];
  for (const dir of APP_DIRS) {
    const found = filesUnder(projectRoot, dir);
    if (found.length === 0) throw new AppFilesError(`${dir} is empty or missing; run npm run build first.`);
    files.push(...found);
  }
  for (const dir of OPTIONAL_DIRS) files.push(...filesUnder(projectRoot, dir));
  return files;
}

const REQUIRE = /\brequire\(\s*["']([^"']+)["']\s*\)|\bimport\(\s*["']([^"']+)["']\s*\)/g;

function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * Checks that every module the packaged JavaScript requires is in the package: a relative require
 * must name a packaged file, a bare one a packaged top-level dependency or a Node built-in. Returns
 * the problems found (empty when the package is self-contained).
 */
export function missingRequires(projectRoot: string, files: string[], packageNames: string[]): string[] {
  const packaged = new Set(files);
  const available = new Set([...packageNames, ...WORKER_PROVIDED]);
  const problems: string[] = [];
  for (const file of files.filter((f) => f.endsWith('.js'))) {
    const source = fs.readFileSync(path.join(projectRoot, file), 'utf8');
    for (const match of source.matchAll(REQUIRE)) {
      const spec = match[1] ?? match[2];
      if (spec.startsWith('.')) {
        const base = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
        const candidates = [base, `${base}.js`, `${base}.json`, `${base}/index.js`];
        if (!candidates.some((c) => packaged.has(c)))
          problems.push(`${file} requires ${spec}, which is not packaged`);
      } else if (spec.startsWith('node:') || builtinModules.includes(spec)) {
        continue;
      } else if (!available.has(packageOf(spec))) {
        problems.push(`${file} requires ${spec}, which is not a packaged dependency`);
      }
    }
  }
  return problems;
}
