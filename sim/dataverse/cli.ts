/**
 * `blc sim dataverse [--port N] [--host H] [--data FILE] [--seed demo] [--schema FILE]`: runs the
 * simulator in the foreground until SIGINT/SIGTERM. Argument parsing is separate from running so the
 * `blc` dispatcher (and tests) can check usage errors without starting a server. Exit codes follow
 * `blc`: 0 success, 1 failure, 2 usage error.
 */
import { describeDataverseSim } from './banner';
import { startDataverseSim, type DataverseSimOptions } from './index';

export const DATAVERSE_SIM_USAGE = `Usage: blc sim dataverse [--port N] [--host H] [--data FILE] [--seed demo] [--schema FILE]

Runs the Dataverse Web API simulator.
  --port N       port to listen on (default: any free port)
  --host H       interface to listen on (default: 127.0.0.1)
  --data FILE    keep the data in this SQLite file (default: in memory)
  --seed demo    load a believable practice: clients, sessions today and this week, tasks, users
  --schema FILE  extra tables from a JSON schema file ({ "tables": [...] })`;

export class UsageError extends Error {
  readonly code = 'USAGE';
}

export function parseDataverseSimArgs(argv: readonly string[]): DataverseSimOptions {
  const options: DataverseSimOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case '--port': {
        const port = Number(value());
        if (!Number.isInteger(port) || port < 0 || port > 65_535)
          throw new UsageError('--port must be 0..65535');
        options.port = port;
        break;
      }
      case '--host':
        options.host = value();
        break;
      case '--data':
        options.dataFile = value();
        break;
      case '--schema':
        options.schemaFile = value();
        break;
      case '--seed': {
        const seed = value();
        if (seed !== 'demo') throw new UsageError(`unknown seed '${seed}' (known: demo)`);
        options.seed = 'demo';
        break;
      }
      default:
        throw new UsageError(`unknown option '${flag}'`);
    }
  }
  return options;
}

export async function dataverseSimCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(DATAVERSE_SIM_USAGE);
    return 0;
  }
  let options: DataverseSimOptions;
  try {
    options = parseDataverseSimArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`blc sim dataverse: ${err.message}\n\n${DATAVERSE_SIM_USAGE}`);
    return 2;
  }
  const sim = await startDataverseSim(options);
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  console.log(describeDataverseSim(sim));
  await stopped;
  await sim.close();
  return 0;
}
