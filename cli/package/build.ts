/**
 * `npm run package` (after the build): writes the zip the Azure Functions host deploys —
 * package.json, host.json, the compiled app and its production dependency tree as `npm ci`
 * installed it — to dist/package/lifecockpit.zip (or `--out FILE`). The zip is reproducible: entries
 * are sorted and carry a fixed timestamp, so the same build gives the same bytes.
 *
 * Run as `node dist/cli/package.js` (cli/package.ts); it is not a `blc` command because it needs yazl, a development
 * dependency that a production install (the container) does not have.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import yazl from 'yazl';
import {
  appFiles,
  missingRequires,
  packagedManifest,
  readProjectPackage,
  runtimeDependencies,
} from './appFiles';
import { productionTree, type InstalledPackage } from './productionTree';
import { projectRoot } from '../version';

export const DEFAULT_OUT = path.join('dist', 'package', 'lifecockpit.zip');
/** Zip timestamps are fixed so that a rebuild of the same sources gives the same file. */
const FIXED_MTIME = new Date('2020-01-01T00:00:00Z');

export interface PackageResult {
  file: string;
  bytes: number;
  /** Zip entry names, sorted. */
  entries: string[];
  packages: InstalledPackage[];
}

/**
 * Type declarations and source maps are more than half of the tree's bytes and nothing loads them at
 * run time; leaving them out makes the package (and so every cold start) smaller.
 */
const NOT_NEEDED_AT_RUN_TIME = /\.d\.[cm]?ts$|\.map$/;

/** Files of one installed package, relative to the project root; its own node_modules are separate entries. */
function installedFiles(root: string, location: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') walk(child);
      } else if (entry.isFile() && !NOT_NEEDED_AT_RUN_TIME.test(entry.name)) out.push(child);
    }
  };
  walk(location);
  return out;
}

/** Lists everything the package holds and checks it is self-contained; writes nothing. */
export function planPackage(root: string): {
  files: string[];
  manifest: string;
  packages: InstalledPackage[];
} {
  const pkg = readProjectPackage(root);
  const packages = productionTree(root, Object.keys(runtimeDependencies(pkg)));
  const app = appFiles(root);
  const topLevel = packages.filter((p) => p.location === `node_modules/${p.name}`).map((p) => p.name);
  const problems = missingRequires(root, app, topLevel);
  if (problems.length > 0)
    throw new Error(`The package would not load on its own:\n  ${problems.join('\n  ')}`);
  const files = [...app, ...packages.flatMap((p) => installedFiles(root, p.location))];
  return { files, manifest: packagedManifest(pkg), packages };
}

export async function buildPackage(root: string, outFile: string): Promise<PackageResult> {
  const { files, manifest, packages } = planPackage(root);
  const zip = new yazl.ZipFile();
  const entries = ['package.json', ...files].sort();
  for (const name of entries) {
    if (name === 'package.json') {
      zip.addBuffer(Buffer.from(manifest), name, { mtime: FIXED_MTIME, mode: 0o100644 });
    } else {
      const mode = fs.statSync(path.join(root, name)).mode;
      zip.addFile(path.join(root, name), name, { mtime: FIXED_MTIME, mode });
    }
  }
  zip.end();
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  const partial = `${outFile}.partial`;
  await pipeline(zip.outputStream, fs.createWriteStream(partial));
  fs.renameSync(partial, outFile);
  return { file: outFile, bytes: fs.statSync(outFile).size, entries, packages };
}

export async function main(argv: string[]): Promise<number> {
  let out: string | undefined;
  let from: string | undefined;
  try {
    ({ out, root: from } = parseArgs({
      args: argv,
      options: { out: { type: 'string' }, root: { type: 'string' } },
      strict: true,
    }).values);
  } catch (err) {
    console.error(`package: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
  // --root packages another built copy of the project (the tests package a snapshot of it).
  const root = from ? path.resolve(from) : projectRoot();
  const file = path.resolve(out ?? path.join(root, DEFAULT_OUT));
  try {
    const result = await buildPackage(root, file);
    const mib = (result.bytes / 1024 / 1024).toFixed(1);
    console.log(
      `Wrote ${path.relative(process.cwd(), result.file) || result.file}: ${result.entries.length} files, ` +
        `${result.packages.length} production packages, ${mib} MiB.`,
    );
    return 0;
  } catch (err) {
    console.error(`package: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
