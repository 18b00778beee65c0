/**
 * `blc up`: the embedded default. Runs the app on the local host together with everything it talks
 * to — Azurite (blob), the Dataverse simulator and the Graph simulator, seeded with a demo practice —
 * with data kept under one project-local folder, and registers the simulator's webhook at the app, so
 * a new client in the simulator starts an onboarding. A service configured in local.settings.json
 * (or the environment) is used as it is and not simulated: switching to a real tenant is
 * configuration only. The app itself runs as a child process (`blc serve`), because it must trust the
 * Graph simulator's certificate through NODE_EXTRA_CA_CERTS, which Node reads only at start.
 * It never changes a configured service and never deletes data unless asked with --fresh.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { readLocalSettings } from '../host/settings';
import { HostStartupError } from '../host/startupError';
import { DEFAULT_URL, localKey } from './args';
import { noExtraPositionals, parseCommandLine, portOption, usageExit } from './commandLine';
import { startDataverseSim, type DataverseSim } from '../sim/dataverse';
import { DEMO_TENANT_DOMAIN, startGraphSim, type GraphSim } from '../sim/graph';
import { startLocalAzurite, type LocalAzurite } from './up/azurite';
import { startOnPort, type PortChoice } from './up/ports';
import { registerAppWebhook } from './up/webhook';
import { redact } from './redact';
import { projectRoot } from './version';
import { HOST_NODE_ARGUMENTS } from '../host/nodeArguments';

const HELP = `Usage: blc up [--port N] [--azurite-port N] [--dataverse-port N] [--graph-port N]
              [--data DIR] [--fresh] [--verbose]

Runs the app on the local host with Azurite and the Dataverse and Graph simulators (demo data),
and registers the simulator's webhook at the app. A service set in local.settings.json
(DATAVERSE_URL, GRAPH_URL, AzureWebJobsStorage) is used instead of its simulator.

  --port N             the app's HTTP port (default: local.settings.json Host.LocalHttpPort,
                       else 7071; 0 = every service on a free port)
  --azurite-port N     Azurite's blob port (default 10000, or a free port when that is taken)
  --dataverse-port N   the Dataverse simulator's port (default 7080, or a free port when taken)
  --graph-port N       the Graph simulator's port (default 7443, or a free port when taken)
                       A port given is used or blc up stops; 0 = a free port the OS picks.
  --data DIR           where everything is kept (default: <project>/.data)
  --fresh              forget the data of an earlier run first (simulators, blobs, durable history)
  --verbose            also print the functions' information logs`;

/** Ports tried first, so URLs stay the same from run to run; a free port is used when taken. */
const PREFERRED = { azurite: 10_000, dataverse: 7080, graph: 7443 };
type Service = keyof typeof PREFERRED;
/** Each service's port option. */
const PORT_OPTIONS = {
  azurite: '--azurite-port',
  dataverse: '--dataverse-port',
  graph: '--graph-port',
} as const satisfies Record<Service, `--${Service}-port`>;
/** The bearer token the simulators accept (any non-empty token). */
const SIM_TOKEN = 'local';
/** What `blc up` owns inside the data folder (--fresh removes exactly these). */
const OWNED = ['azurite', 'dataverse.sqlite', 'graph.json', 'host', 'webhook-secret'];

interface UpArgs {
  port?: number;
  /** Where each service listens. */
  ports: Record<Service, PortChoice>;
  dataDir: string;
  fresh: boolean;
  verbose: boolean;
}

const OPTIONS = {
  port: { type: 'string' },
  'azurite-port': { type: 'string' },
  'dataverse-port': { type: 'string' },
  'graph-port': { type: 'string' },
  data: { type: 'string' },
  fresh: { type: 'boolean', default: false },
  verbose: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** What the command line asks for, or undefined for --help. Throws a usage BlcError. */
function parse(argv: string[]): UpArgs | undefined {
  const { values, positionals } = parseCommandLine(argv, OPTIONS);
  if (values.help) return undefined;
  noExtraPositionals(positionals, 0, 'blc up [options]');
  const port = portOption(values.port);
  const ports = {} as Record<Service, PortChoice>;
  for (const service of Object.keys(PREFERRED) as Service[]) {
    const named = portOption(values[`${service}-port`], PORT_OPTIONS[service]);
    // A port the user named is that port or nothing; a default gives way to any free port.
    ports[service] =
      named !== undefined
        ? { port: named, orAnyFree: false }
        : { port: port === 0 ? 0 : PREFERRED[service], orAnyFree: true };
  }
  return {
    port,
    ports,
    dataDir: path.resolve(values.data ?? path.join(projectRoot(), '.data')),
    fresh: values.fresh,
    verbose: values.verbose,
  };
}

/** A setting the user configured (environment first, as the host does, then local.settings.json). */
function configured(values: Record<string, unknown>, name: string): string | undefined {
  const v = process.env[name] ?? values[name];
  return v === undefined || v === null || String(v) === '' ? undefined : String(v);
}

function webhookSecret(dataDir: string): string {
  const file = path.join(dataDir, 'webhook-secret');
  if (fs.existsSync(file)) {
    const kept = fs.readFileSync(file, 'utf8').trim();
    if (kept) return kept;
  }
  const secret = randomBytes(24).toString('base64url');
  fs.writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

function functionKey(root: string, hostDataDir: string): string | undefined {
  const keys = readLocalSettings(root).Keys ?? {};
  if (keys.default ?? keys.function) return keys.default ?? keys.function;
  const file = path.join(hostDataDir, 'keys.json');
  if (!fs.existsSync(file)) return undefined;
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>).default;
}

interface ChildApp {
  child: ChildProcess;
  url: string;
  /** The host's line about the orchestrations it resumed, when it resumed any. */
  recovered?: string;
  exited: Promise<number | null>;
}

/** Starts `blc serve` and resolves with its URL once it has printed `Host started on …`. */
function startApp(root: string, args: string[], env: NodeJS.ProcessEnv, verbose: boolean): Promise<ChildApp> {
  const child = spawn(
    process.execPath,
    [...HOST_NODE_ARGUMENTS, path.join(root, 'bin', 'blc.js'), 'serve', ...args],
    {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let ready = false;
  let early = '';
  return new Promise((resolve, reject) => {
    const onOut = (stream: NodeJS.WriteStream) => (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (ready) {
        stream.write(text);
        return;
      }
      early += text;
      const match = /Host started on (http:\/\/\S+)/.exec(early);
      if (match) {
        ready = true;
        if (verbose) process.stdout.write(early);
        const recovered = /^(Resumed .*|No orchestration was left running.*)$/m.exec(early)?.[1];
        resolve({ child, url: match[1], exited, ...(recovered ? { recovered } : {}) });
      }
    };
    child.stdout?.on('data', onOut(process.stdout));
    child.stderr?.on('data', onOut(process.stderr));
    void exited.then((code) => {
      if (ready) return;
      // A start the host refused comes as one `blc: CODE: message` line; that line is the whole story.
      const refused = /^blc: ([A-Z][A-Z_]*: .*)$/m.exec(early)?.[1];
      reject(new Error(refused ?? `the app host exited (code ${code}) before it started:\n${early}`));
    });
  });
}

async function waitForStatus(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/admin/host/status`);
      if (res.ok) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url}/admin/host/status did not answer within ${timeoutMs} ms (${last})`);
}

/** What follows the dashboard's URL: the key as `?code=` (the page keeps it, then drops it from the address). */
async function dashboardNote(url: string, key: string | undefined): Promise<string> {
  try {
    const res = await fetch(`${url}/api/dashboard`);
    await res.arrayBuffer();
    if (res.status === 404) return ' (coming)';
    return key ? `?code=${encodeURIComponent(key)}` : '';
  } catch {
    return ' (coming)';
  }
}

export async function upCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parse(argv);
  } catch (err) {
    return usageExit('blc up', err);
  }
  if (!parsed) {
    console.log(HELP);
    return 0;
  }
  const { dataDir, verbose } = parsed;
  const root = projectRoot();
  let values: Record<string, unknown>;
  try {
    values = readLocalSettings(root).Values ?? {};
  } catch (err) {
    if (!(err instanceof HostStartupError)) throw err;
    console.error(`blc up: ${err.code}: ${err.message}`);
    return 1;
  }
  const useRealDataverse = configured(values, 'DATAVERSE_URL');
  const useRealGraph = configured(values, 'GRAPH_URL');
  const storage = configured(values, 'AzureWebJobsStorage');
  const useRealStorage = storage && storage !== 'UseDevelopmentStorage=true' ? storage : undefined;

  // Stop requests are honoured at any point, also while starting.
  let stopRequested = false;
  const stopped = new Promise<string>((resolve) => {
    const stop = (signal: string): void => {
      stopRequested = true;
      resolve(signal);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });

  const cleanups: (() => Promise<void>)[] = [];
  const shutdown = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (err) {
        console.error(`blc up: while stopping: ${(err as Error).message}`);
      }
    }
  };

  try {
    if (parsed.fresh)
      for (const name of OWNED) fs.rmSync(path.join(dataDir, name), { recursive: true, force: true });
    fs.mkdirSync(dataDir, { recursive: true });
    const env: NodeJS.ProcessEnv = { ...process.env };

    let azurite: LocalAzurite | undefined;
    if (!useRealStorage) {
      azurite = await startOnPort('Azurite', PORT_OPTIONS.azurite, parsed.ports.azurite, (port) =>
        startLocalAzurite({ projectRoot: root, location: path.join(dataDir, 'azurite'), port }),
      );
      cleanups.push(() => azurite?.stop() ?? Promise.resolve());
      env.AzureWebJobsStorage = azurite.connectionString;
    }
    if (stopRequested) return await finish();

    let dataverse: DataverseSim | undefined;
    let secret: string | undefined;
    if (!useRealDataverse) {
      dataverse = await startOnPort(
        'The Dataverse simulator',
        PORT_OPTIONS.dataverse,
        parsed.ports.dataverse,
        (port) => startDataverseSim({ port, dataFile: path.join(dataDir, 'dataverse.sqlite'), seed: 'demo' }),
      );
      const dv = dataverse;
      cleanups.push(() => dv.close());
      secret = configured(values, 'DATAVERSE_WEBHOOK_SECRET') ?? webhookSecret(dataDir);
      Object.assign(env, {
        DATAVERSE_URL: dataverse.url,
        DATAVERSE_TOKEN: SIM_TOKEN,
        DATAVERSE_WEBHOOK_SECRET: secret,
        DATAVERSE_WEBHOOK_AUTH_TYPE: 'WebhookKey',
        DATAVERSE_WEBHOOK_AUTH_NAME: 'code',
      });
      // Every write through the simulator's Web API is made as its application user, so naming that
      // user as the app's own identity would make the loop guard ignore every edit made there. An
      // empty value also hides a value in local.settings.json (the host fills in only unset ones), as
      // do the empty credentials: the simulator takes the fixed token.
      Object.assign(env, {
        DATAVERSE_APP_USER_ID: '',
        DATAVERSE_TENANT_ID: '',
        DATAVERSE_CLIENT_ID: '',
        DATAVERSE_CLIENT_SECRET: '',
      });
    }
    if (stopRequested) return await finish();

    let graph: GraphSim | undefined;
    if (!useRealGraph) {
      graph = await startOnPort('The Graph simulator', PORT_OPTIONS.graph, parsed.ports.graph, (port) =>
        startGraphSim({ port, dataFile: path.join(dataDir, 'graph.json'), certDir: dataDir, seed: 'demo' }),
      );
      const g = graph;
      cleanups.push(() => g.close());
      Object.assign(env, {
        GRAPH_URL: graph.url,
        GRAPH_TOKEN: SIM_TOKEN,
        MAIL_SENDER: `sam.whitfield@${DEMO_TENANT_DOMAIN}`,
        PRACTICE_OWNER_EMAIL: `maren.lindqvist@${DEMO_TENANT_DOMAIN}`,
        NODE_EXTRA_CA_CERTS: graph.caCertFile,
      });
    }
    if (stopRequested) return await finish();

    const hostData = path.join(dataDir, 'host');
    const serveArgs = [
      '--data',
      hostData,
      ...(parsed.port === undefined ? [] : ['--port', String(parsed.port)]),
    ];
    if (!verbose) serveArgs.push('--quiet');
    const app = await startApp(root, serveArgs, env, verbose);
    let appExitCode: number | null | undefined;
    cleanups.push(async () => {
      if (appExitCode !== undefined) return;
      const timer = setTimeout(() => app.child.kill('SIGKILL'), 10_000);
      app.child.kill('SIGTERM');
      await app.exited;
      clearTimeout(timer);
    });
    const appDied = app.exited.then((code) => {
      appExitCode = code;
      return code;
    });
    await waitForStatus(app.url, 20_000);
    if (stopRequested) return await finish();

    if (dataverse && secret)
      await registerAppWebhook({
        apiUrl: dataverse.apiUrl,
        token: SIM_TOKEN,
        url: `${app.url}/api/webhooks/dataverse`,
        secret,
      });

    // Before the banner, whose last line is what a reader (and a script) waits for.
    if (app.recovered) console.log(app.recovered);
    console.log(
      banner({
        appUrl: app.url,
        dashboard: await dashboardNote(app.url, functionKey(root, hostData)),
        key: functionKey(root, hostData),
        dataDir,
        dataverse,
        graph,
        azurite,
        real: { dataverse: useRealDataverse, graph: useRealGraph, storage: useRealStorage !== undefined },
      }),
    );

    const outcome = await Promise.race([stopped.then(() => 'stop' as const), appDied]);
    if (outcome !== 'stop') {
      console.error(`blc up: the app host exited unexpectedly (code ${outcome}); stopping everything.`);
      await shutdown();
      return 1;
    }
    return await finish();
  } catch (err) {
    // Ctrl+C reaches the whole process group, so a child may fail to start because it was stopped.
    if (stopRequested) return await finish();
    console.error(`blc up: ${redact((err as Error).message)}`);
    await shutdown();
    return 1;
  }

  async function finish(): Promise<number> {
    console.log('Stopping: the app, the simulators and Azurite.');
    await shutdown();
    return 0;
  }
}

/**
 * The README's "Try it" walkthrough (sagas against the demo data) and a new client through the
 * webhook. blc finds this app on its own when it runs at blc's default URL with the key kept in
 * this project; otherwise the first line tells the shell where it is.
 */
function tryCommands(info: BannerInfo): string[] {
  const lines = ['Try (in another terminal, in this folder; README.md "Try it" explains each step):'];
  const env: string[] = [];
  if (info.appUrl.replace(/\/+$/, '') !== DEFAULT_URL) env.push(`BLC_URL=${info.appUrl}`);
  if (info.key && localKey([projectRoot()]) !== info.key) env.push(`BLC_KEY=${info.key}`);
  if (env.length) lines.push(`  export ${env.join(' ')}`);
  if (info.dataverse)
    lines.push(
      '  npx blc start dataverseChange --id try-new-organisation --input @docs/examples/new-organisation.json --wait',
      '  npx blc start dataverseChange --id try-failing-plan --input @docs/examples/failing-change-dry-run.json --wait',
      '  npx blc rollback plan rp-try-new-organisation',
      '  npx blc rollback execute rp-try-new-organisation --wait',
      `  curl -X POST ${info.dataverse.apiUrl}/contacts -H 'Authorization: Bearer ${SIM_TOKEN}' -H 'Content-Type: application/json' \\`,
      `       -d '{"firstname":"Ada","lastname":"Lovelace","emailaddress1":"ada@mail.example"}'   # a new client: starts clientOnboarding`,
    );
  lines.push('  npx blc list');
  return lines;
}

interface BannerInfo {
  appUrl: string;
  dashboard: string;
  key: string | undefined;
  dataDir: string;
  dataverse: DataverseSim | undefined;
  graph: GraphSim | undefined;
  azurite: LocalAzurite | undefined;
  real: { dataverse?: string; graph?: string; storage: boolean };
}

function banner(info: BannerInfo): string {
  const { appUrl, dataverse, graph, azurite } = info;
  const lines = [
    '',
    'Life Cockpit is up.',
    '',
    `  API         ${appUrl}/api`,
    `  Dashboard   ${appUrl}/api/dashboard${info.dashboard}`,
    dataverse
      ? `  Dataverse   ${dataverse.apiUrl}   (simulator, demo data; any bearer token)`
      : `  Dataverse   ${redact(info.real.dataverse ?? '')}   (from your settings)`,
    graph
      ? `  Graph       ${graph.url}/v1.0   (simulator; outbox ${graph.url}/_sim/outbox)`
      : `  Graph       ${redact(info.real.graph ?? '')}   (from your settings)`,
    azurite
      ? `  Storage     Azurite on http://127.0.0.1:${azurite.port}`
      : '  Storage     AzureWebJobsStorage from your settings',
    `  Data        ${info.dataDir}`,
    '',
    ...tryCommands(info),
  ];
  if (graph && graph.caCertFile)
    lines.push(`  curl --cacert ${graph.caCertFile} ${graph.url}/_sim/outbox   # the welcome mail`);
  lines.push('', 'Stop with Ctrl+C.');
  return lines.join('\n');
}
