/**
 * The lint rule that keeps the app deployable alone: orchestrators/, activities/, triggers/ and lib/
 * may not import host/, sim/, cli/ or bench/. Each file is linted as if it stood at the given path
 * (ESLint's lintText with a filePath), so nothing is written into the tree.
 */
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: path.join(__dirname, '..', '..') });

async function restricted(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the app never imports the local host, the simulators, the CLI or the benchmarks', () => {
  it('fails the lint for an app file that does, however it imports', async () => {
    const cases: [string, string][] = [
      [
        'orchestrators/x.ts',
        "import { DurableEngine } from '../host/durable/engine';\nvoid DurableEngine;\n",
      ],
      ['activities/x.ts', "import type { Store } from '../sim/dataverse/store';\nexport type S = Store;\n"],
      ['triggers/api/x.ts', "export { main } from '../../cli/main';\n"],
      ['lib/api/x.ts', "import '../../bench/run';\n"],
    ];
    for (const [file, code] of cases) {
      const messages = await restricted(file, code);
      expect(messages, file).toHaveLength(1);
      expect(messages[0]).toContain('never imports host/, sim/, cli/ or bench/');
    }
  });

  it('lets the app import itself, and the host and the CLI import the app', async () => {
    expect(
      await restricted(
        'lib/api/x.ts',
        "import { readSettings } from '../config/settings';\nvoid readSettings;\n",
      ),
    ).toEqual([]);
    expect(
      await restricted(
        'cli/x.ts',
        "import { DurableEngine } from '../host/durable/engine';\nvoid DurableEngine;\n",
      ),
    ).toEqual([]);
    expect(await restricted('host/x.ts', "import { sim } from '../sim';\nvoid sim;\n")).toEqual([]);
  });
});
