/**
 * `blc sim dataverse|graph [...]`: runs one of the local simulators in the foreground until
 * SIGINT/SIGTERM. Each simulator owns its options; this file only dispatches.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { dataverseSimCommand } from '../sim/dataverse/cli';
import { describeGraphSim, startGraphSim } from '../sim/graph';
import { portArg } from './args';

const USAGE = `Usage: blc sim <dataverse|graph> [options]

  blc sim dataverse [--port N] [--host H] [--data FILE] [--seed demo] [--schema FILE]
  blc sim graph     [--port N] [--host H] [--data FILE] [--seed demo]

Run 'blc sim dataverse --help' or 'blc sim graph --help' for details.`;

const GRAPH_USAGE = `Usage: blc sim graph [--port N] [--host H] [--data FILE] [--seed demo]

Runs the Microsoft Graph v1.0 simulator over HTTPS with a local certificate.
  --port N       port to listen on (default: any free port)
  --host H       interface to listen on (default: 127.0.0.1)
  --data FILE    keep users and the outbox in this JSON file; the certificate is kept beside it
  --seed demo    load the staff of a small practice`;

async function graphSimCommand(argv: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        data: { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (err) {
    console.error(`blc sim graph: ${(err as Error).message}\n\n${GRAPH_USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(GRAPH_USAGE);
    return 0;
  }
  const { port, error } = portArg(values.port);
  if (error) {
    console.error(`blc sim graph: ${error}`);
    return 2;
  }
  if (values.seed !== undefined && values.seed !== 'demo') {
    console.error(`blc sim graph: unknown seed '${values.seed}' (known: demo)`);
    return 2;
  }
  const sim = await startGraphSim({
    port,
    host: values.host,
    dataFile: values.data,
    seed: values.seed as 'demo' | undefined,
    certDir: values.data ? path.dirname(path.resolve(values.data)) : undefined,
  });
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  console.log(describeGraphSim(sim));
  await stopped;
  await sim.close();
  return 0;
}

export async function simCommand(argv: string[]): Promise<number> {
  const [which, ...rest] = argv;
  switch (which) {
    case 'dataverse':
      return dataverseSimCommand(rest);
    case 'graph':
      return graphSimCommand(rest);
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    default:
      console.error(which ? `blc sim: unknown simulator '${which}'.\n\n${USAGE}` : USAGE);
      return 2;
  }
}
