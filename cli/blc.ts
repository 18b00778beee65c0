/**
 * The `blc` command. Each subcommand lives in its own module; this file only dispatches and
 * prints usage. Exit codes: 0 success, 1 failure, 2 usage error.
 */
import { serveCommand } from './serve';
import { simCommand } from './sim';
import { version } from './version';

const USAGE = `Usage: blc <command> [options]

Commands:
  serve      Run a Functions app on the local host (default: this project)
  sim        Run the local Dataverse or Microsoft Graph simulator
  version    Print the Life Cockpit version

Run 'blc <command> --help' for a command's options.`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serveCommand(rest);
    case 'sim':
      return simCommand(rest);
    case 'version':
    case '--version':
      console.log(version());
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      console.error(`blc: unknown command '${command}'. Run 'blc --help'.`);
      return 2;
  }
}
