/**
 * What blc says about itself, with no app involved: the command list, `--help` for every command it
 * lists (read from its own usage, so a new command without help fails here), `--version`, and the
 * one-line usage errors of the commands that start services (which must not start anything).
 */
import { describe, expect, it } from 'vitest';
import { runBlc, type BlcRun } from '../support/blc';

function blc(...args: string[]): Promise<BlcRun> {
  return runBlc(args);
}

/** The command names `blc --help` lists. */
function commandsOf(usage: string): string[] {
  const section = usage.slice(usage.indexOf('Commands:\n') + 'Commands:\n'.length);
  return section
    .slice(0, section.indexOf('\n\n'))
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0]);
}

describe('blc usage', () => {
  it('lists its commands with --help (exit 0) and without a command (exit 2)', async () => {
    const help = await blc('--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^Usage: blc <command> \[options\]/);
    const commands = commandsOf(help.out);
    expect(commands).toEqual(
      expect.arrayContaining([
        'up',
        'serve',
        'sim',
        'version',
        'auth',
        'start',
        'status',
        'list',
        'terminate',
        'suspend',
        'resume',
        'raise',
        'purge',
        'rollback',
        'deploy',
        'replay-check',
      ]),
    );
    const bare = await blc();
    expect(bare.code).toBe(2);
    expect(bare.out).toBe(help.out);
    expect((await blc('help')).code).toBe(0);
  });

  it('has --help for every command it lists', async () => {
    const commands = commandsOf((await blc('--help')).out);
    const asked = [
      ...commands.map((name) => [name]),
      ...['list', 'show', 'plan', 'execute', 'create'].map((action) => ['rollback', action]),
    ];
    const answers = await Promise.all(asked.map((words) => blc(...words, '--help')));
    asked.forEach((words, i) => {
      const what = `blc ${words.join(' ')} --help`;
      expect(answers[i].code, `${what}: ${answers[i].err}`).toBe(0);
      expect(answers[i].out, what).toMatch(new RegExp(`^Usage: blc ${words[0]}\\b`));
      expect(answers[i].err, what).toBe('');
    });
  }, 120_000);

  it("lists up's port options in its help", async () => {
    const help = await blc('up', '--help');
    expect(help.code).toBe(0);
    for (const option of ['--port N', '--azurite-port N', '--dataverse-port N', '--graph-port N'])
      expect(help.out).toMatch(new RegExp(`^  ${option}\\s+\\S`, 'm'));
  });

  it('prints its version with --version', async () => {
    const res = await blc('--version');
    expect(res.code).toBe(0);
    expect(res.out.trim()).toBe((await blc('version')).out.trim());
    expect(res.out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('refuses bad options of up and serve in one line, starting nothing', async () => {
    const up = await blc('up', '--port', 'nope');
    expect(up.code).toBe(2);
    expect(up.out).toBe('');
    expect(up.err.trim().split('\n')).toEqual([
      "blc up: --port must be a number between 0 and 65535, got 'nope'",
    ]);
    const unknown = await blc('up', '--colour');
    expect(unknown.code).toBe(2);
    expect(unknown.err.trim().split('\n')).toEqual([
      expect.stringMatching(/^blc up: Unknown option '--colour'/),
    ]);
    for (const option of ['--azurite-port', '--dataverse-port', '--graph-port', '--port'])
      for (const bad of ['abc', '-1', '70000', '', '1e3']) {
        const res = await blc('up', option, bad);
        expect(res.code, `${option} ${bad}`).toBe(2);
        expect(res.out).toBe('');
        expect(res.err.trim().split('\n')).toEqual([
          `blc up: ${option} must be a number between 0 and 65535, got '${bad}'`,
        ]);
      }
    const serve = await blc('serve', '--port', '70000');
    expect(serve.code).toBe(2);
    expect(serve.err.trim().split('\n')).toHaveLength(1);
  });

  it('refuses bad options of serve and the simulators in one line too, negative ports included', async () => {
    for (const command of [['serve'], ['sim', 'graph'], ['sim', 'dataverse']]) {
      const name = `blc ${command.join(' ')}`;
      const negative = await blc(...command, '--port', '-1');
      expect(negative.code, name).toBe(2);
      expect(negative.out, name).toBe('');
      expect(negative.err.trim().split('\n')).toEqual([
        `${name}: --port must be a number between 0 and 65535, got '-1'`,
      ]);
      const unknown = await blc(...command, '--colour');
      expect(unknown.code, name).toBe(2);
      expect(unknown.err.trim().split('\n')).toEqual([`${name}: Unknown option '--colour'`]);
      const missing = await blc(...command, '--host', '--port', '0');
      expect(missing.code, name).toBe(2);
      expect(missing.err.trim().split('\n')).toEqual([
        expect.stringMatching(new RegExp(`^${name}: Option '--host' argument is ambiguous`)),
      ]);
    }
  });
});
