/**
 * `blc sim dataverse|graph [...]`: runs one of the local simulators in the foreground until
 * SIGINT/SIGTERM. Reading the command line is separate from running, so tests can check usage errors
 * without starting a server. Exit codes follow `blc`: 0 success, 1 failure, 2 usage error (one line).
 */
import path from 'node:path';
import { describeDataverseSim } from '../sim/dataverse/banner';
import { startDataverseSim, type DataverseSimOptions } from '../sim/dataverse';
import { describeGraphSim, startGraphSim, type GraphSimOptions } from '../sim/graph';
import { noExtraPositionals, oneOf, parseCommandLine, portOption, usageExit } from './commandLine';

const USAGE = `Usage: blc sim <dataverse|graph> [options]

  blc sim dataverse [--port N] [--host H] [--data FILE] [--seed demo] [--schema FILE]
  blc sim graph     [--port N] [--host H] [--data FILE] [--seed demo]

Run 'blc sim dataverse --help' or 'blc sim graph --help' for details.`;

const DATAVERSE_USAGE = `Usage: blc sim dataverse [--port N] [--host H] [--data FILE] [--seed demo] [--schema FILE]

Runs the Dataverse Web API simulator.
  --port N       port to listen on (default: any free port)
  --host H       interface to listen on (default: 127.0.0.1)
  --data FILE    keep the data in this SQLite file (default: in memory)
  --seed demo    load a believable practice: clients, sessions today and this week, tasks, users
  --schema FILE  extra tables from a JSON schema file ({ "tables": [...] })`;

const GRAPH_USAGE = `Usage: blc sim graph [--port N] [--host H] [--data FILE] [--seed demo]

Runs the Microsoft Graph v1.0 simulator over HTTPS with a local certificate.
  --port N       port to listen on (default: any free port)
  --host H       interface to listen on (default: 127.0.0.1)
  --data FILE    keep users and the outbox in this JSON file; the certificate is kept beside it
  --seed demo    load the staff of a small practice`;

const COMMON_OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  data: { type: 'string' },
  seed: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** `blc sim dataverse`'s options, or undefined for --help. Throws a usage BlcError. */
export function parseDataverseSimArgs(argv: readonly string[]): DataverseSimOptions | undefined {
  const { values, positionals } = parseCommandLine(argv, { ...COMMON_OPTIONS, schema: { type: 'string' } });
  const common = commonOptions('dataverse', values, positionals);
  return common && { ...common, schemaFile: values.schema };
}

/** `blc sim graph`'s options, or undefined for --help. Throws a usage BlcError. */
export function parseGraphSimArgs(argv: readonly string[]): GraphSimOptions | undefined {
  const { values, positionals } = parseCommandLine(argv, COMMON_OPTIONS);
  const common = commonOptions('graph', values, positionals);
  // The certificate is kept beside the data file, so a restart serves the one the user already trusts.
  return common && { ...common, certDir: values.data ? path.dirname(path.resolve(values.data)) : undefined };
}

/** The options both simulators take, read from COMMON_OPTIONS' values; undefined for --help. */
function commonOptions(
  name: string,
  values: { port?: string; host?: string; data?: string; seed?: string; help?: boolean },
  positionals: readonly string[],
): { port?: number; host?: string; dataFile?: string; seed?: 'demo' } | undefined {
  if (values.help) return undefined;
  noExtraPositionals(positionals, 0, `blc sim ${name} [options]`);
  return {
    port: portOption(values.port),
    host: values.host,
    dataFile: values.data,
    seed: oneOf(values.seed, ['demo'], 'seed'),
  };
}

/** Parses, starts the simulator (which returns its banner and how to stop it), runs until a signal. */
async function runSimulator<O>(
  name: string,
  argv: readonly string[],
  usage: string,
  parse: (argv: readonly string[]) => O | undefined,
  start: (options: O) => Promise<{ banner: string; close(): Promise<void> }>,
): Promise<number> {
  let options: O | undefined;
  try {
    options = parse(argv);
  } catch (err) {
    return usageExit(`blc sim ${name}`, err);
  }
  if (options === undefined) {
    console.log(usage);
    return 0;
  }
  const running = await start(options);
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  console.log(running.banner);
  await stopped;
  await running.close();
  return 0;
}

const SIMULATORS: Record<string, (argv: readonly string[]) => Promise<number>> = {
  dataverse: (argv) =>
    runSimulator('dataverse', argv, DATAVERSE_USAGE, parseDataverseSimArgs, async (options) => {
      const sim = await startDataverseSim(options);
      return { banner: describeDataverseSim(sim), close: () => sim.close() };
    }),
  graph: (argv) =>
    runSimulator('graph', argv, GRAPH_USAGE, parseGraphSimArgs, async (options) => {
      const sim = await startGraphSim(options);
      return { banner: describeGraphSim(sim), close: () => sim.close() };
    }),
};

export async function simCommand(argv: string[]): Promise<number> {
  const [which, ...rest] = argv;
  if (which === '--help' || which === '-h') {
    console.log(USAGE);
    return 0;
  }
  const sim = which !== undefined && Object.hasOwn(SIMULATORS, which) ? SIMULATORS[which] : undefined;
  if (!sim) {
    console.error(which ? `blc sim: unknown simulator '${which}'; run 'blc sim --help'` : USAGE);
    return 2;
  }
  return sim(rest);
}
