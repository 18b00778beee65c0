/**
 * The production dependency tree of the project, read from package-lock.json (lockfile v2/v3) and
 * checked against what is installed in node_modules. Nothing is downloaded: the package is built
 * from the tree `npm ci` already installed, so the zip holds exactly the locked versions.
 */
import fs from 'node:fs';
import path from 'node:path';

interface LockEntry {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  link?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

export interface InstalledPackage {
  name: string;
  version: string;
  /** Path relative to the project root, e.g. `node_modules/a/node_modules/b`. */
  location: string;
}

export class DependencyTreeError extends Error {
  readonly code = 'DEPENDENCY_TREE';
}

function packageName(location: string): string {
  const at = location.lastIndexOf('node_modules/');
  return location.slice(at + 'node_modules/'.length);
}

/**
 * Where Node would find `name` when required from the package at `from` (a lock location, '' for
 * the project): its own node_modules first, then each enclosing node_modules up to the root.
 */
function resolveFrom(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!base) return undefined;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut < 0 ? '' : base.slice(0, cut);
  }
}

/**
 * Every package reachable from `roots` through dependencies, optional dependencies and installed
 * peer dependencies. A required package missing from the lock or the disk is an error (run
 * `npm ci`); an optional one that is absent (another platform's binary) is skipped.
 */
export function productionTree(projectRoot: string, roots: string[]): InstalledPackage[] {
  const lock = JSON.parse(fs.readFileSync(path.join(projectRoot, 'package-lock.json'), 'utf8')) as {
    lockfileVersion?: number;
    packages?: Record<string, LockEntry>;
  };
  if (!lock.packages || (lock.lockfileVersion ?? 0) < 2)
    throw new DependencyTreeError('package-lock.json must be lockfile version 2 or 3 (npm 7 or later).');
  const packages = lock.packages;
  const found = new Map<string, InstalledPackage>();

  const visit = (from: string, name: string, optional: boolean): void => {
    const location = resolveFrom(packages, from, name);
    const installed =
      location !== undefined && fs.existsSync(path.join(projectRoot, location, 'package.json'));
    if (!location || !installed) {
      if (optional) return;
      throw new DependencyTreeError(
        `'${name}' (needed by ${from || 'the project'}) is not installed; run npm ci first.`,
      );
    }
    if (found.has(location)) return;
    const entry = packages[location];
    if (entry.link)
      throw new DependencyTreeError(
        `'${name}' is a linked package (${location}); a package cannot hold links.`,
      );
    found.set(location, { name: packageName(location), version: entry.version ?? '0.0.0', location });
    for (const dep of Object.keys(entry.dependencies ?? {})) visit(location, dep, false);
    for (const dep of Object.keys(entry.optionalDependencies ?? {})) visit(location, dep, true);
    for (const dep of Object.keys(entry.peerDependencies ?? {}))
      visit(location, dep, entry.peerDependenciesMeta?.[dep]?.optional === true);
  };
  for (const root of roots) visit('', root, false);
  return [...found.values()].sort((a, b) => a.location.localeCompare(b.location));
}
