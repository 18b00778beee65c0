/**
 * The API's answers are declared once (lib/contracts/responses.d.ts) and the app, `blc` and the
 * dashboard compile against that declaration: none of them may declare a response shape again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.join(__dirname, '..', '..');
const RESPONSES = path.join(ROOT, 'lib', 'contracts', 'responses.d.ts');

function sources(dir: string): string[] {
  return fs
    .readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(ROOT, dir, f));
}

function declaredNames(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/^export (?:interface|type) (\w+)/gm)].map((m) => m[1]);
}

describe('the response shapes', () => {
  it('are declared in one module that imports nothing', () => {
    const text = fs.readFileSync(RESPONSES, 'utf8');
    expect(text).not.toMatch(/^\s*import\b/m);
    expect(declaredNames(RESPONSES)).toEqual(
      expect.arrayContaining([
        'InstanceView',
        'StepStatus',
        'RollbackPoint',
        'RollbackPlan',
        'DeploymentSummary',
      ]),
    );
  });

  it('are not declared again by the API, blc or the dashboard', () => {
    const shapes = [
      'InstanceView',
      'InstanceSummary',
      'StepView',
      'Step',
      'StepStatus',
      'RollbackPoint',
      'Point',
    ];
    const declaring = new RegExp(`^(?:export )?(?:interface|type) (?:${shapes.join('|')})\\b(?! =)`, 'm');
    const again = [...sources('ui'), ...sources('cli'), ...sources('lib/api')].filter((file) =>
      declaring.test(fs.readFileSync(file, 'utf8')),
    );
    expect(again.map((f) => path.relative(ROOT, f))).toEqual([]);
  });
});
