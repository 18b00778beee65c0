/**
 * The deployment manifest people start from: docs/examples/deployment.json is valid against the
 * contract and `blc deploy --dry-run` accepts it, and the README's field list names every field the
 * contract has (so a field added to the contract without documentation fails here).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { deploymentManifest } from '../../lib/contracts/deployment';
import { validateManifest } from '../../lib/deployments';

const ROOT = path.join(__dirname, '..', '..');
const EXAMPLE = path.join(ROOT, 'docs', 'examples', 'deployment.json');

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** Every field path of a schema: `a`, `a.b`, `a.list[].c`, through optionals and arrays. */
function fieldPaths(schema: z.ZodType, prefix = ''): string[] {
  const def = defOf(schema);
  if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable')
    return fieldPaths(def.innerType as z.ZodType, prefix);
  if (def.type === 'array') return fieldPaths(def.element as z.ZodType, `${prefix}[]`);
  if (def.type !== 'object' || !def.shape) return [];
  return Object.entries(def.shape).flatMap(([name, field]) => {
    const here = prefix ? `${prefix}.${name}` : name;
    return [here, ...fieldPaths(field, here)];
  });
}

/** The first column of the README's manifest field table. */
function documentedFields(): string[] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('<!-- deployment-manifest-fields');
  expect(start, 'the README has the manifest field list').toBeGreaterThan(0);
  const rows = readme.slice(start).split('\n').slice(1);
  const table = rows.slice(rows.findIndex((l) => l.startsWith('|')));
  const end = table.findIndex((l) => !l.startsWith('|'));
  return (end < 0 ? table : table.slice(0, end))
    .map((l) => /^\|\s*`([^`]+)`/.exec(l)?.[1])
    .filter((f): f is string => f !== undefined);
}

describe('the example deployment manifest', () => {
  it('is valid against the manifest contract', () => {
    const manifest = JSON.parse(fs.readFileSync(EXAMPLE, 'utf8')) as unknown;
    expect(() => validateManifest(manifest)).not.toThrow();
    expect(deploymentManifest.safeParse(manifest).success).toBe(true);
  });

  it('is accepted by blc deploy --dry-run, which sends nothing', () => {
    const res = spawnSync(
      process.execPath,
      ['bin/blc.js', 'deploy', EXAMPLE, '--dry-run', '--url', 'http://127.0.0.1:9'],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toContain('the manifest is valid; nothing was sent');
    expect(res.stdout).toContain('deploy-2026.05.1');
  });

  it('uses every top-level section, so it shows each of them', () => {
    const manifest = JSON.parse(fs.readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>;
    const topLevel = fieldPaths(deploymentManifest).filter((f) => !f.includes('.'));
    expect(Object.keys(manifest).sort()).toEqual([...topLevel].sort());
  });
});

describe("the README's list of manifest fields", () => {
  it('names every field of the contract, and no field the contract does not have', () => {
    const contract = fieldPaths(deploymentManifest);
    expect(contract).toContain('dataverse.operations[].op');
    expect(contract).toContain('healthCheck.records[].exists');
    expect(documentedFields().sort()).toEqual([...contract].sort());
  });
});
