/**
 * The `blc` command. Each command group lives in its own module (cli/commands/*.ts, serve.ts,
 * sim.ts); this file only dispatches through the table below and prints usage and errors.
 * Exit codes: 0 success, 1 the operation failed (or the app said no), 2 usage error, 3 the app
 * cannot be reached. Every error is one line on stderr: `blc: <code>: <message>`.
 */
import { BlcError } from './apiClient';
import { authCommand, versionCommand } from './commands/app';
import { instanceCommands } from './commands/instances';
import { invokeCommand } from './commands/invoke';
import { rollbackCommand } from './commands/rollback';
import type { Command } from './commands/types';
import { errorLine } from './output';

/**
 * A command whose module loads only when it runs. `up`, `serve`, `sim`, `deploy` and `replay-check`
 * pull in the host, the simulators or the manifest checks (about 0.6 s together); loaded up front,
 * every other command, and every script that calls one, would wait for them.
 */
function onDemand(summary: string, load: () => Command['run']): Command {
  return { summary, run: (argv) => load()(argv) };
}

/* eslint-disable @typescript-eslint/no-require-imports -- loaded on demand, see onDemand */
/** Command name → command. One line per command; usage lists them in this order. */
const COMMANDS: Record<string, Command> = {
  up: onDemand(
    'Run the app with Azurite and the Dataverse and Graph simulators, wired together',
    () => (require('./up') as typeof import('./up')).upCommand,
  ),
  serve: onDemand(
    'Run a Functions app on the local host (default: this project)',
    () => (require('./serve') as typeof import('./serve')).serveCommand,
  ),
  sim: onDemand(
    'Run the local Dataverse or Microsoft Graph simulator',
    () => (require('./sim') as typeof import('./sim')).simCommand,
  ),
  version: versionCommand,
  auth: authCommand,
  ...instanceCommands,
  rollback: rollbackCommand,
  deploy: onDemand(
    'Deploy a manifest (--dry-run to only check it)',
    () => (require('./commands/deploy') as typeof import('./commands/deploy')).deployCommand,
  ),
  invoke: invokeCommand,
  'replay-check': onDemand(
    'Check that the current code still replays the stored histories (run before a deploy)',
    () => (require('./commands/replayCheck') as typeof import('./commands/replayCheck')).replayCheckCommand,
  ),
};
/* eslint-enable @typescript-eslint/no-require-imports */

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  return `Usage: blc <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  .join('\n')}

Commands that talk to an app take --url (or BLC_URL, default http://localhost:7071),
--key (or BLC_KEY, a function key) and --json.
Exit codes: 0 ok, 1 failed, 2 usage error, 3 cannot reach the app.
Run 'blc <command> --help' for a command's options.`;
}

/** What to do next, for refusals a blc option gets past (the app's message names its API option). */
const HINTS: Record<string, string> = {
  ROLLBACK_DEPENDENCY: 'add --cascade to undo those later changes too, newest first',
  ROLLBACK_CONFLICT: 'add --force to roll back anyway (it overwrites those edits)',
};

function withHint(err: BlcError): string {
  const hint = HINTS[err.code];
  return hint ? `${err.message.replace(/\.?$/, '.')} In blc: ${hint}.` : err.message;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const command =
    name === '--version' ? COMMANDS.version : Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  try {
    if (!command) throw BlcError.usage(`unknown command '${name}'; run 'blc --help'`);
    return await command.run(rest);
  } catch (err) {
    if (err instanceof BlcError) {
      console.error(errorLine(err.code, withHint(err)));
      return err.exitCode;
    }
    console.error(errorLine('INTERNAL', err instanceof Error ? err.message : String(err)));
    return 1;
  }
}
