/**
 * `npm run package`: the zip holds what the Functions host needs (package.json whose `main` names
 * the registrations, host.json, the compiled app, its production dependencies), leaves out
 * development, local-host and secret material, is reproducible, and — extracted where no other
 * node_modules can help it — loads on the local host with every function the project registers.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllHosts, spawnHost, type ChildHost } from '../support/childHost';
import {
  ROOT,
  extractZip,
  snapshotBuiltProject,
  isolatedTempDir,
  listZip,
  printedFunctions,
  readZipEntry,
  runPackager,
  type ZipEntryInfo,
} from './support';

const project = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  main: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { dev?: boolean }>;
};
const LOCAL_HOST_PACKAGES = ['better-sqlite3', 'selfsigned'];

let work: string;
/** The built project, as packaged (a snapshot, so concurrent rebuilds here cannot change it midway). */
let built: string;
let zipFile: string;
let entries: ZipEntryInfo[];
let names: Set<string>;

beforeAll(async () => {
  work = isolatedTempDir('lc-package-');
  built = path.join(work, 'project');
  snapshotBuiltProject(built);
  zipFile = path.join(work, 'lifecockpit.zip');
  await runPackager(zipFile, built);
  entries = await listZip(zipFile);
  names = new Set(entries.map((e) => e.name));
}, 300_000);

afterAll(async () => {
  await killAllHosts();
  if (work) fs.rmSync(work, { recursive: true, force: true });
}, 120_000);

/** Installed package folders in the zip: `node_modules/a`, `node_modules/a/node_modules/@s/b`, … */
function packagedPackages(): string[] {
  return [...names]
    .filter((n) => /(^|\/)node_modules\/(@[^/]+\/)?[^/@][^/]*\/package\.json$/.test(n))
    .map((n) => n.slice(0, -'/package.json'.length))
    .filter((dir) => dir.split('/').at(-2) === 'node_modules' || dir.split('/').at(-3) === 'node_modules');
}

describe('npm run package', () => {
  it('writes a package.json that names the compiled registrations and only runtime dependencies', async () => {
    const manifest = JSON.parse((await readZipEntry(zipFile, 'package.json')).toString('utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest.name).toBe(project.name);
    expect(manifest.main).toBe(project.main);
    expect(manifest.devDependencies).toBeUndefined();
    expect(manifest.scripts).toBeUndefined();
    const expected = Object.keys(project.dependencies).filter((d) => !LOCAL_HOST_PACKAGES.includes(d));
    expect(Object.keys(manifest.dependencies as object).sort()).toEqual(expected.sort());
  });

  it('carries host.json unchanged and the compiled app with the library it uses', async () => {
    expect((await readZipEntry(zipFile, 'host.json')).toString('utf8')).toBe(
      fs.readFileSync(path.join(built, 'host.json'), 'utf8'),
    );
    for (const dir of ['orchestrators', 'activities', 'triggers', 'lib']) {
      const compiled = fs
        .readdirSync(path.join(built, 'dist', dir), { recursive: true })
        .map(String)
        .filter((f) => f.endsWith('.js'))
        .map((f) => `dist/${dir}/${f.split(path.sep).join('/')}`);
      expect(compiled.length).toBeGreaterThan(0);
      expect(compiled.filter((f) => !names.has(f))).toEqual([]);
    }
  });

  it('carries every runtime dependency at its top level, as the Functions host resolves them', () => {
    for (const dep of Object.keys(project.dependencies).filter((d) => !LOCAL_HOST_PACKAGES.includes(d)))
      expect(names.has(`node_modules/${dep}/package.json`), dep).toBe(true);
  });

  it('leaves out development-only packages, the local host, the CLI, the simulators and tests', () => {
    const devOnly = packagedPackages().filter((dir) => lock.packages[dir]?.dev === true);
    expect(devOnly).toEqual([]);
    const notInLock = packagedPackages().filter((dir) => !lock.packages[dir]);
    expect(notInLock).toEqual([]);
    // Some development tools are also dependencies of runtime packages (@types/node is); those the
    // lockfile marks as development-only are checked above, and these must never ship.
    for (const dep of [
      'vitest',
      'typescript',
      'eslint',
      'prettier',
      'azurite',
      'playwright-core',
      'yazl',
      ...LOCAL_HOST_PACKAGES,
    ])
      expect(names.has(`node_modules/${dep}/package.json`), dep).toBe(false);
    const outside = [...names].filter((n) =>
      /^(dist\/(host|cli|sim|bench)\/|test\/|host\/|cli\/|sim\/|bin\/|\.data\/|[^/]+\.ts$)/.test(n),
    );
    expect(outside).toEqual([]);
  });

  it('holds no settings, keys, certificates or source maps', () => {
    const secrets = [...names].filter((n) =>
      /(^|\/)(local\.settings[^/]*\.json|keys\.json|\.env[^/]*|[^/]+\.(pem|key|pfx))$/.test(n),
    );
    expect(secrets).toEqual([]);
    expect([...names].filter((n) => n.endsWith('.map'))).toEqual([]);
  });

  it('is reproducible: packaging the same build again gives the same bytes', async () => {
    const again = path.join(work, 'again.zip');
    await runPackager(again, built);
    const digest = (f: string): string => createHash('sha256').update(fs.readFileSync(f)).digest('hex');
    expect(digest(again)).toBe(digest(zipFile));
  }, 300_000);

  describe('extracted on its own', () => {
    let appDir: string;
    let packaged: ChildHost;
    let source: ChildHost;
    const env = (): Record<string, string> => ({
      AzureWebJobsStorage: String(process.env.AZURE_STORAGE_CONNECTION_STRING),
    });

    beforeAll(async () => {
      appDir = path.join(work, 'wwwroot');
      await extractZip(zipFile, appDir);
      [packaged, source] = await Promise.all([
        spawnHost({ appDir, dataDir: path.join(work, 'data-packaged'), env: env(), timeoutMs: 60_000 }),
        spawnHost({ appDir: built, dataDir: path.join(work, 'data-source'), env: env(), timeoutMs: 60_000 }),
      ]);
    }, 300_000);

    it('registers exactly the functions the project registers', () => {
      const fromPackage = printedFunctions(packaged.output());
      expect(fromPackage.size).toBeGreaterThan(10);
      expect([...fromPackage.entries()].sort()).toEqual(
        [...printedFunctions(source.output()).entries()].sort(),
      );
    });

    it('answers GET /api/version with the packaged name and the packaged durable-functions', async () => {
      const keys = JSON.parse(fs.readFileSync(path.join(work, 'data-packaged', 'keys.json'), 'utf8')) as {
        default: string;
      };
      const res = await fetch(`${packaged.url}/api/version`, {
        headers: { 'x-functions-key': keys.default },
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { name: string; host: { durableFunctions: string } };
      expect(body.name).toBe(project.name);
      const packagedDf = JSON.parse(
        fs.readFileSync(path.join(appDir, 'node_modules', 'durable-functions', 'package.json'), 'utf8'),
      ) as { version: string };
      expect(body.host.durableFunctions).toBe(packagedDf.version);
    });

    it('resolves its packages from its own node_modules, not the project', () => {
      const resolved = require.resolve('@azure/functions', {
        paths: [path.join(appDir, 'dist', 'triggers')],
      });
      expect(resolved.startsWith(path.join(appDir, 'node_modules') + path.sep)).toBe(true);
    });
  });
});
