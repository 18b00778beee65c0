/**
 * Helpers for the deployment tests: run the built packager, read and extract zips with yauzl, lay
 * out directories outside the project (so nothing resolves from the project's own node_modules), and
 * read the functions a host printed at start-up.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import yauzl from 'yauzl';
import { productionTree } from '../../cli/package/productionTree';

export const ROOT = path.resolve(__dirname, '..', '..');
const run = promisify(execFile);

/** Runs `node dist/cli/package.js --out FILE` as `npm run package` does after its build (on `root`'s build). */
export async function runPackager(outFile: string, root = ROOT): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    [path.join(ROOT, 'dist', 'cli', 'package.js'), '--out', outFile, '--root', root],
    {
      cwd: ROOT,
      maxBuffer: 10 * 1024 * 1024,
    },
  );
  return stdout;
}

export interface ZipEntryInfo {
  name: string;
  /** Unix permission bits from the entry's external attributes. */
  mode: number;
  size: number;
  crc32: number;
  /** The entry's DOS timestamp, as written. */
  modified: number;
}

/** The entries of an open zip, one at a time (yauzl's lazy mode, so none is missed before we listen). */
async function* zipEntries(zip: yauzl.ZipFile): AsyncGenerator<yauzl.Entry> {
  for (;;) {
    const entry = await new Promise<yauzl.Entry | undefined>((resolve, reject) => {
      const onEntry = (e: yauzl.Entry): void => done(e);
      const onEnd = (): void => done(undefined);
      const onError = (err: Error): void => {
        zip.off('entry', onEntry).off('end', onEnd);
        reject(err);
      };
      const done = (e: yauzl.Entry | undefined): void => {
        zip.off('entry', onEntry).off('end', onEnd).off('error', onError);
        resolve(e);
      };
      zip.once('entry', onEntry).once('end', onEnd).once('error', onError);
      zip.readEntry();
    });
    if (!entry) return;
    yield entry;
  }
}

export async function listZip(file: string): Promise<ZipEntryInfo[]> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false });
  const entries: ZipEntryInfo[] = [];
  try {
    for await (const e of zipEntries(zip))
      entries.push({
        name: e.fileName,
        mode: (e.externalFileAttributes >>> 16) & 0o777,
        size: e.uncompressedSize,
        crc32: e.crc32,
        modified: e.lastModFileDate * 0x10000 + e.lastModFileTime,
      });
  } finally {
    zip.close();
  }
  return entries;
}

export async function readZipEntry(file: string, name: string): Promise<Buffer> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false });
  try {
    for await (const entry of zipEntries(zip)) {
      if (entry.fileName !== name) continue;
      const chunks: Buffer[] = [];
      for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    }
    throw new Error(`${name} is not in ${file}`);
  } finally {
    zip.close();
  }
}

/** Extracts every entry of `file` into `dir`, keeping permission bits (as the Functions host's unzip does). */
export async function extractZip(file: string, dir: string): Promise<void> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false });
  try {
    for await (const entry of zipEntries(zip)) {
      const target = path.join(dir, entry.fileName);
      if (!target.startsWith(dir + path.sep))
        throw new Error(`${entry.fileName} leaves the extraction folder`);
      if (entry.fileName.endsWith('/')) {
        fs.mkdirSync(target, { recursive: true });
        continue;
      }
      fs.mkdirSync(path.dirname(target), { recursive: true });
      const mode = (entry.externalFileAttributes >>> 16) & 0o777 || 0o644;
      await pipeline(await zip.openReadStreamPromise(entry), fs.createWriteStream(target, { mode }));
    }
  } finally {
    zip.close();
  }
}

/**
 * A copy of the built project as `npm ci && npm run build` leaves it, taken once: package.json, the
 * lockfile, host.json, dist/ (copied: a rebuild elsewhere on this machine must not change it under
 * the packager) and the production packages (hard-linked: installed packages do not change). With no
 * development package in it, it also shows that packaging needs none of them at run time.
 */
export function snapshotBuiltProject(target: string): void {
  fs.mkdirSync(target, { recursive: true });
  for (const file of ['package.json', 'package-lock.json', 'host.json'])
    fs.copyFileSync(path.join(ROOT, file), path.join(target, file));
  fs.cpSync(path.join(ROOT, 'dist'), path.join(target, 'dist'), {
    recursive: true,
    filter: (from) => !['package', 'coverage'].includes(path.relative(path.join(ROOT, 'dist'), from)),
  });
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  for (const p of productionTree(ROOT, Object.keys(pkg.dependencies)))
    linkTree(path.join(ROOT, p.location), path.join(target, p.location), (rel) => rel === 'node_modules');
}

/** Hard-links every file under `from` into `to` (same file system), except what `skip` names. */
export function linkTree(
  from: string,
  to: string,
  skip: (rel: string) => boolean = () => false,
  rel = '',
): void {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const child = rel ? `${rel}/${entry.name}` : entry.name;
    if (skip(child)) continue;
    if (entry.isDirectory()) linkTree(path.join(from, entry.name), path.join(to, entry.name), skip, child);
    else if (entry.isFile()) fs.linkSync(path.join(from, entry.name), path.join(to, entry.name));
  }
}

/**
 * A temporary folder with no node_modules in any folder above it, so an app laid out there finds
 * only the packages it carries itself.
 */
export function isolatedTempDir(prefix: string): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  for (let at = path.dirname(dir); ; at = path.dirname(at)) {
    if (fs.existsSync(path.join(at, 'node_modules')))
      throw new Error(`${at}/node_modules would leak packages into ${dir}; choose another TMPDIR`);
    if (path.dirname(at) === at) break;
  }
  return dir;
}

/** `name → description` of the functions a host printed at start-up, with its URL's port taken out. */
export function printedFunctions(output: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const m of output.matchAll(/^\t(\w+): (.*)$/gm))
    found.set(m[1], m[2].replace(/localhost:\d+/g, 'localhost:PORT'));
  return found;
}
