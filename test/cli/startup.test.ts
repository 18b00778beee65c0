/**
 * A command that talks to an app loads only the CLI: the local host, the simulators and the
 * manifest checks load when `up`, `serve`, `sim`, `deploy` or `replay-check` runs, not before.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../support/blc';

/** The project modules (and native drivers) loaded once `blc <args>` has run in a fresh process. */
function loadedBy(args: string[]): string[] {
  const script = `
    const blc = require('./dist/cli/blc.js');
    const log = console.log; console.log = () => {}; console.error = () => {};
    blc.main(${JSON.stringify(args)}).then(() => {
      const root = process.cwd() + '/';
      log(JSON.stringify(Object.keys(require.cache).map((f) => f.replace(root, ''))));
    });`;
  return JSON.parse(
    execFileSync(process.execPath, ['-e', script], { cwd: PROJECT_ROOT }).toString(),
  ) as string[];
}

const heavy = (files: string[]) =>
  files.filter((f) => /^dist\/(host|sim)\/|better-sqlite3|durable-functions|@azure\/storage-blob/.test(f));

describe('blc startup', () => {
  it('loads neither the host nor the simulators for --help or a command that talks to an app', () => {
    expect(heavy(loadedBy(['--help']))).toEqual([]);
    expect(heavy(loadedBy(['status', 'some-id', '--url', 'http://127.0.0.1:9']))).toEqual([]);
  });

  it('loads the simulator when sim runs', () => {
    expect(heavy(loadedBy(['sim', '--help']))).toContain('dist/sim/dataverse/index.js');
  });
});
