/**
 * Assembles the local host for one app directory: settings, the worker shim, the durable engine on
 * SQLite, timer triggers, storage (blob and queue) bindings and triggers, and the HTTP server. `startHost` is what `blc serve`, the tests and the
 * benchmarks run; it knows nothing about any particular app.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { BlobTriggerListener, blobInvocationData, type BlobTriggerItem } from './bindings/blobTrigger';
import { StorageConnections } from './bindings/connection';
import { QueueTriggerListener, queueInvocationData, type QueueTriggerMessage } from './bindings/queueTrigger';
import { readStorageTriggerConfig } from './bindings/storageConfig';
import { StorageBindings } from './bindings/storageBindings';
import { unsupportedBindingsWarning } from './bindings/unsupported';
import { Clock, SystemClock, VirtualClock } from './clock';
import { DurableApi, clientBindingValue } from './durable/api';
import { Engine } from './durable/engine';
import { readLiveSessionSettings } from './durable/liveSessions';
import { FunctionIndex, IndexedFunction } from './durable/functionIndex';
import { ensureWritableDataDir } from './dataDir';
import { HostKeys } from './http/keys';
import { durableClientInputs } from './http/httpTrigger';
import { readHttpLimits } from './http/limits';
import { redactUrlSecrets, secretRedactor } from './http/redact';
import { HostHttpServer } from './http/server';
import { loadOrCreateKeys } from './keysFile';
import { openStore } from './openStore';
import { countRecovered, type Recovered } from './recovery';
import { readHostConfig, readLocalSettings } from './settings';
import { HostStartupError, reason } from './startupError';
import { TimerTriggerScheduler, type TimerInfo } from './timers/scheduler';
import type { RpcTypedData } from './worker/coreApi';
import { WorkerCore } from './worker/coreApi';
import { invokeFunction, type InvocationInput } from './worker/invoke';
import { loadApp } from './worker/loadApp';

export interface HostOptions {
  appDir: string;
  /** 0 picks a free port. Default: local.settings.json Host.LocalHttpPort, else 7071. */
  port?: number;
  hostname?: string;
  /** Where history lives; default `<appDir>/.data`. Ignored with `memory`. */
  dataDir?: string;
  memory?: boolean;
  /** 'auto' jumps to the next timer whenever the host is idle; 'manual' moves only when told. */
  virtualTime?: 'auto' | 'manual';
  /** Overrides/extends local.settings.json Keys (e.g. tests). */
  keys?: Record<string, string>;
  log?: (level: 'information' | 'warning' | 'error', message: string) => void;
  /** Lines too routine for the log (a client that hung up mid-request); dropped unless given. */
  debug?: (message: string) => void;
  quiet?: boolean;
}

export interface RunningHost {
  url: string;
  port: number;
  engine: Engine;
  clock: Clock;
  core: WorkerCore;
  keys: HostKeys;
  systemKey: string;
  /** The private rpc endpoint's base URL (token included): for code in this process only. */
  rpcBaseUrl: string;
  /** What the last run left unfinished, found at startup (see recovery.ts). */
  recovered: Recovered;
  functions: IndexedFunction[];
  /** Runs a timer-triggered function now, exactly as its schedule would. */
  runTimer(name: string, timerInfo: TimerInfo): Promise<void>;
  /** Lines `func start` would print for each function. */
  describeFunctions(): string[];
  close(): Promise<void>;
}

export async function startHost(options: HostOptions): Promise<RunningHost> {
  const appDir = path.resolve(options.appDir);
  const emit =
    options.log ??
    ((level: string, message: string) => {
      if (options.quiet && level === 'information') return;
      (level === 'error' ? console.error : console.log)(message);
    });
  // Every line the host writes, the app's own included, passes the redactor: `code=` values and URL
  // userinfo from the start, and each key by value once the keys are known, so an app that logs a
  // request URL cannot leak a key through the host's log.
  let redact: (text: string) => string = redactUrlSecrets;
  const log = (level: 'information' | 'warning' | 'error', message: string): void =>
    emit(level, redact(message));
  // Settings are checked before anything changes or app code runs; the data folder and the store
  // after the app loaded (an app directory given by mistake must not get a .data folder). Whatever
  // the host cannot run with stops it here (HostStartupError), not after it took work.
  const settings = readLocalSettings(appDir);
  const config = readHostConfig(appDir);
  const liveSessions = readLiveSessionSettings(appDir);
  const storageTriggers = readStorageTriggerConfig(appDir);
  for (const [k, v] of Object.entries(settings.Values ?? {}))
    if (process.env[k] === undefined) process.env[k] = String(v);
  const limits = readHttpLimits(process.env, path.join(appDir, 'local.settings.json'));

  guardProcess(log);
  const core = new WorkerCore();
  core.logSink = (level, _category, message) => {
    if (level === 'error' || level === 'critical') log('error', message);
    else if (level === 'warning') log('warning', message);
    else if (level === 'information') log('information', message);
  };
  await loadApp(appDir, core);
  // As the host's init request does: an app with HTTP streams starts its own server here (HttpUri).
  await core.negotiateCapabilities();

  const dataDir = options.memory ? undefined : path.resolve(options.dataDir ?? path.join(appDir, '.data'));
  if (dataDir) ensureWritableDataDir(dataDir);
  const keyValues = loadOrCreateKeys(dataDir, { ...(settings.Keys ?? {}), ...(options.keys ?? {}) });
  const keys = new HostKeys({ functionKeys: { default: keyValues.default }, masterKey: keyValues.master });
  const systemKey = keyValues.durabletask_extension;
  redact = secretRedactor([keys.masterKey, ...Object.values(keys.functionKeys), systemKey]);
  const store = openStore(dataDir);
  store.checkpointInBackground();

  const clock: Clock = options.virtualTime ? new VirtualClock() : new SystemClock();
  // Storage bindings, before any invocation can happen. The app's settings are in process.env by now.
  const connections = new StorageConnections(process.env);
  core.invocationBindings = new StorageBindings({
    connections,
    settings: process.env,
    now: () => clock.now(),
  });
  const engine = new Engine({
    store,
    core,
    clock,
    hubName: config.hubName,
    maxConcurrentOrchestrations: config.maxConcurrentOrchestratorFunctions,
    maxConcurrentActivities: config.maxConcurrentActivityFunctions,
    functionTimeoutMs: config.functionTimeoutMs,
    liveSessions,
    log,
  });
  const index = new FunctionIndex(core);
  const durableApi = new DurableApi(engine);
  const server = new HostHttpServer({
    core,
    httpFunctions: index.byType('httpTrigger'),
    routePrefix: config.routePrefix,
    keys,
    systemKey,
    hubName: config.hubName,
    durableApi,
    ...limits,
    adminInvoker: {
      find: (name) => index.all().find((f) => f.name.toLowerCase() === name.toLowerCase()),
      run: (fn, input) => runByAdmin(fn, input),
      log: (level, message) => log(level, message),
    },
    log: (level, message) => (level === 'debug' ? options.debug?.(message) : log(level, message)),
  });
  const wantedPort = options.port ?? settings.Host?.LocalHttpPort ?? 7071;
  const hostname = options.hostname ?? '127.0.0.1';
  let port: number;
  try {
    port = await server.listen(wantedPort, hostname);
  } catch (err) {
    // Nothing was served yet: release the store (and its checkpoint thread) so the process can exit.
    await server.close();
    store.close();
    throw new HostStartupError(
      'HOST_PORT_UNAVAILABLE',
      path.join(appDir, 'local.settings.json'),
      `Cannot listen on ${hostname}:${wantedPort} (${reason(err)}); stop what uses it or choose another port.`,
      { cause: err },
    );
  }
  const url = `http://localhost:${port}`;
  // The library rewrites client URLs to localhost:7071 unless it knows the public host name.
  if (!process.env.WEBSITE_HOSTNAME) process.env.WEBSITE_HOSTNAME = `localhost:${port}`;
  server.clientBindingFactory = (urls) => clientBindingValue(urls, config.hubName, server.rpcBaseUrl);

  /** Invokes a non-HTTP function with its trigger's data, durable client inputs included. */
  const invokeTrigger = async (
    fn: IndexedFunction,
    trigger: { data: RpcTypedData } & Pick<InvocationInput, 'triggerMetadata' | 'bindingData'>,
  ): Promise<void> => {
    await invokeFunction(core, fn.fn, {
      inputData: [
        { name: fn.triggerKey, data: trigger.data },
        ...durableClientInputs(fn.fn, fn.triggerKey, () => server.clientBinding()),
      ],
      triggerMetadata: trigger.triggerMetadata,
      bindingData: trigger.bindingData,
    });
  };

  /** Invokes a timer-triggered function as the scheduler does. */
  const runTimer = async (name: string, timerInfo: TimerInfo): Promise<void> => {
    const fn = index.find('timerTrigger', name);
    if (!fn) throw new Error(`No timer-triggered function named '${name}'.`);
    await invokeTrigger(fn, { data: { json: JSON.stringify(timerInfo) } });
  };

  const runQueue = (fn: IndexedFunction, message: QueueTriggerMessage): Promise<void> =>
    invokeTrigger(fn, queueInvocationData(message));

  const runBlob = (fn: IndexedFunction, item: BlobTriggerItem): Promise<void> =>
    invokeTrigger(fn, blobInvocationData(item, fn.trigger.dataType));

  /**
   * The admin API's input is what the trigger would carry, as on Azure: a timer runs as its schedule
   * would, a queue trigger gets the input as the message text (no real message behind it, so
   * DequeueCount 0), a blob trigger the blob at the input path, any other trigger the text itself.
   */
  const runByAdmin = async (fn: IndexedFunction, input: string | undefined): Promise<void> => {
    const type = String(fn.trigger.type).toLowerCase();
    if (type === 'timertrigger')
      return runTimer(fn.name, { schedule: { adjustForDST: true }, isPastDue: false });
    if (type === 'queuetrigger')
      return runQueue(fn, { text: input ?? '', id: randomUUID(), dequeueCount: 0 });
    if (type === 'blobtrigger') {
      const listener = blobListeners.find((l) => l.fn === fn);
      if (!listener)
        throw new Error(`The blob trigger of '${fn.name}' could not be set up; see the start log.`);
      return runBlob(fn, await listener.item(input ?? ''));
    }
    // Any other trigger gets the input as its data: a string, as Azure passes it.
    return invokeTrigger(fn, { data: { string: input ?? '' } });
  };

  // Storage triggers (the bindings were set up before anything could run).
  // Polling asks real time even under --virtual-time: the queues and containers are real services,
  // and a virtual clock only moves for durable work.
  const pollClock = new SystemClock();
  const listenerOptions = { connections, settings: process.env, config: storageTriggers, clock: pollClock };
  const logLine = (level: 'information' | 'warning' | 'error', message: string): void => log(level, message);
  const queueListeners: QueueTriggerListener[] = [];
  for (const fn of index.byType('queueTrigger')) {
    try {
      queueListeners.push(new QueueTriggerListener(fn, { ...listenerOptions, run: runQueue, log: logLine }));
    } catch (err) {
      log('error', `Function '${fn.name}': its queue trigger cannot be set up: ${reason(err)}`);
    }
  }
  const blobListeners: BlobTriggerListener[] = [];
  const receipts = {
    get: (fnName: string, blob: string) => store.getBlobReceipt(fnName, blob),
    put: (fnName: string, blob: string, etag: string) => store.putBlobReceipt(fnName, blob, etag),
  };
  for (const fn of index.byType('blobTrigger')) {
    try {
      blobListeners.push(
        new BlobTriggerListener(fn, { ...listenerOptions, receipts, run: runBlob, log: logLine }),
      );
    } catch (err) {
      log('error', `Function '${fn.name}': its blob trigger cannot be set up: ${reason(err)}`);
    }
  }

  const timers = new TimerTriggerScheduler({
    clock,
    timeZone: process.env.WEBSITE_TIME_ZONE || process.env.TZ || 'UTC',
    store: { get: (n) => store.getTimerState(n), set: (n, s) => store.setTimerState(n, s) },
    invoke: (name, timerInfo) => runTimer(name, timerInfo),
    log: (m) => log('warning', m),
  });
  for (const t of index.byType('timerTrigger')) {
    const schedule = String(t.trigger.schedule ?? '').replace(
      /%([^%]+)%/g,
      (_, name: string) => process.env[name] ?? '',
    );
    timers.add(t.name, schedule, t.trigger.runOnStartup === true);
  }

  const unsupported = unsupportedBindingsWarning(index.all());
  if (unsupported) log('warning', unsupported);
  // Counted before the engine takes work, so the count is what the last run left, not what ran since.
  const recovered = countRecovered(store);
  engine.start();
  timers.start();
  for (const l of queueListeners) l.start();
  for (const l of blobListeners) l.start();

  let autoAdvance: NodeJS.Timeout | undefined;
  if (options.virtualTime === 'auto') {
    const virtual = clock as VirtualClock;
    autoAdvance = setInterval(() => {
      // Only durable work pulls the clock forward: a daily timer trigger alone must not spin it.
      if (engine.isIdle() && engine.hasScheduledWakeups()) virtual.skipToNext();
    }, 2);
  }

  const functions = index.all();
  const describeFunctions = (): string[] =>
    functions.map((f) => {
      const type = String(f.trigger.type);
      if (type.toLowerCase() === 'httptrigger') {
        const methods = ((f.trigger.methods as string[] | undefined) ?? ['GET', 'POST']).join(',');
        const route = (f.trigger.route as string | undefined) ?? f.name;
        const prefix = config.routePrefix ? `/${config.routePrefix}` : '';
        return `${f.name}: [${methods}] ${url}${prefix}/${route}`;
      }
      return `${f.name}: ${type}`;
    });

  let closed = false;
  return {
    url,
    port,
    engine,
    clock,
    core,
    keys,
    systemKey,
    rpcBaseUrl: server.rpcBaseUrl,
    recovered,
    functions,
    runTimer,
    describeFunctions,
    async close() {
      if (closed) return;
      closed = true;
      if (autoAdvance) clearInterval(autoAdvance);
      await server.close();
      await Promise.all([...queueListeners, ...blobListeners].map((l) => l.stop()));
      await timers.stop();
      await engine.stop();
      await core.runHooks('appTerminate', { hookData: core.appHookData });
      store.close();
    },
  };
}

let guarded = false;

/**
 * App code that rejects a promise nobody awaits, or throws from a callback, must not take the host
 * down (and, since the activity re-runs after a restart, into a crash loop): log it, as the worker does.
 */
function guardProcess(log: (level: 'information' | 'warning' | 'error', message: string) => void): void {
  if (guarded) return;
  guarded = true;
  process.on('unhandledRejection', (reason) => {
    log(
      'error',
      `Unhandled promise rejection in app code: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`,
    );
  });
  process.on('uncaughtException', (err) => {
    log('error', `Uncaught exception in app code: ${err.stack ?? err.message}`);
  });
}
