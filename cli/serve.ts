/**
 * `blc serve`: runs any built Azure Functions v4 Node app on the local host, prints its functions
 * the way `func start` does, and shuts down cleanly on SIGINT/SIGTERM.
 */
import { startHost, type HostOptions } from '../host/host';
import { recoveredLine } from '../host/recovery';
import { HostStartupError } from '../host/startupError';
import { noExtraPositionals, parseCommandLine, portOption, usageExit } from './commandLine';
import { errorLine } from './output';
import { projectRoot } from './version';

const HELP = `Usage: blc serve [--app DIR] [--port N] [--host ADDR] [--data DIR] [--memory] [--virtual-time]

  --app DIR        App directory with package.json and host.json (default: this project)
  --port N         HTTP port (default: local.settings.json Host.LocalHttpPort, else 7071; 0 = any free port)
  --host ADDR      Address to listen on (default 127.0.0.1)
  --data DIR       Where durable history is kept (default: <app>/.data)
  --memory         Keep history in memory only (lost on exit)
  --virtual-time   Run on a virtual clock that jumps to the next durable timer whenever the host is idle.
                   Timer triggers then never fire on their own (only durable work moves the clock, so a
                   daily schedule cannot spin it); run one by hand with the master key:
                     curl -X POST -H "x-functions-key: <master>" -d '{}' http://localhost:7071/admin/functions/<name>
  --quiet          Print only warnings and errors from functions

Any non-HTTP function (timer, or a trigger the host cannot drive) runs now on
POST /admin/functions/<name> with the master key and {"input": "..."}, as under func start.`;

const OPTIONS = {
  app: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  data: { type: 'string' },
  memory: { type: 'boolean', default: false },
  'virtual-time': { type: 'boolean', default: false },
  quiet: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** The host's options from the command line, or undefined for --help. */
function serveOptions(argv: string[]): HostOptions | undefined {
  const { values, positionals } = parseCommandLine(argv, OPTIONS);
  if (values.help) return undefined;
  noExtraPositionals(positionals, 0, 'blc serve [options]');
  return {
    appDir: values.app ?? projectRoot(),
    port: portOption(values.port),
    hostname: values.host,
    dataDir: values.data,
    memory: values.memory,
    virtualTime: values['virtual-time'] ? 'auto' : undefined,
    quiet: values.quiet,
  };
}

/** The host's refusal in blc's words: a taken port names the option that chooses another. */
function startupMessage(err: HostStartupError): string {
  if (err.code !== 'HOST_PORT_UNAVAILABLE') return err.message;
  return `${err.message.replace(/;? ?(stop what uses it )?or choose another port\.?$/, '')}; stop what uses it, or choose another port with --port N (--port 0: any free port).`;
}

export async function serveCommand(argv: string[]): Promise<number> {
  let options;
  try {
    options = serveOptions(argv);
  } catch (err) {
    return usageExit('blc serve', err);
  }
  if (!options) {
    console.log(HELP);
    return 0;
  }
  let host;
  try {
    host = await startHost(options);
  } catch (err) {
    // A setting or data file the host refused: its one line says which file and key, so no stack.
    if (!(err instanceof HostStartupError)) throw err;
    console.error(errorLine(err.code, startupMessage(err)));
    return 1;
  }
  // Listen for signals before announcing readiness, so a supervisor that stops us at once is honoured.
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      console.log(`Received ${signal}; shutting down.`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  console.log(`\nFunctions:\n`);
  for (const line of host.describeFunctions()) console.log(`\t${line}\n`);
  console.log(extendedSessionsLine(host.engine.liveSessions.enabled));
  // Before the ready line, so `blc up` (which waits for that line) has it to repeat.
  const recovered = recoveredLine(host.recovered);
  if (recovered) console.log(recovered);
  console.log(`Host started on ${host.url} (admin: ${host.url}/admin/host/status)`);
  await stopped;
  await host.close();
  // A worker process ends with its host. An app with HTTP streams runs its programming model's own
  // HTTP server, which offers no way to close it: end the process instead of waiting on it forever.
  if (host.core.capabilities.HttpUri) process.exit(0);
  return 0;
}

/** Locally on by default (long chains stay linear); Azure's default is off, so say which applies. */
function extendedSessionsLine(enabled: boolean): string {
  return enabled
    ? 'Extended sessions: on (the local default; Azure runs without them unless host.json ' +
        'extensions.durableTask.extendedSessionsEnabled is true; set it false to match)'
    : 'Extended sessions: off (host.json extensions.durableTask.extendedSessionsEnabled)';
}
