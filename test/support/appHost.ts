/**
 * Runs the Life Cockpit app itself on the local host for tests, wired to a fresh Dataverse simulator
 * and the suite's Azurite, exactly as a deployment would be configured (settings only). With
 * `graph: true` it also starts the Graph simulator and configures the mail sender, the practice
 * owner and the Dataverse webhook secret; the test process then trusts the simulator's certificate
 * (the only thing the app could not be told through settings, since it runs in this process).
 */
import tls from 'node:tls';
import { startHost, type RunningHost } from '../../host/host';
import { startDataverseSim, type DataverseSim, type TableInput } from '../../sim/dataverse';
import { startGraphSim } from '../../sim/graph';
import { DataverseClient } from '../../lib/dataverse';
import { trust, type TrustedSim } from '../sim/graph/support';

export interface AppUnderTest {
  host: RunningHost;
  sim: DataverseSim;
  /** A client of the simulator for arranging and checking records, as any script would use. */
  dataverse: DataverseClient;
  /** The Graph simulator (with `graph: true`). */
  graph?: TrustedSim;
  close(): Promise<void>;
}

export interface AppOptions {
  /** Also start the Graph simulator and configure mail and webhooks (default false). */
  graph?: boolean;
  /** Default 'auto': durable timers fire at once. 'manual': the test moves host.clock. */
  virtualTime?: 'auto' | 'manual';
  /** Extra app settings, applied last. */
  env?: Record<string, string>;
  /** Extra Dataverse tables the simulator serves beside its built-in ones. */
  tables?: TableInput[];
  /**
   * Tell the app that the simulator's caller (who makes every write there) is its own Dataverse
   * identity, so each change is one the app could have made itself (for the loop guard).
   */
  appIsSimCaller?: boolean;
}

export const SIM_TOKEN = 'test-token';
export const GRAPH_SIM_TOKEN = 'graph-test-token';
export const MAIL_SENDER = 'sam.whitfield@contoso-practice.example';
export const OWNER_EMAIL = 'maren.lindqvist@contoso-practice.example';
export const WEBHOOK_HEADER = 'x-lifecockpit-secret';
export const WEBHOOK_SECRET = 'webhook-secret-for-tests';
/** The app's own Dataverse user in these tests: not the simulator's caller, so test edits are a person's. */
export const APP_USER_ID = '0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d';

const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

export async function startAppWithDataverse(options: AppOptions = {}): Promise<AppUnderTest> {
  const sim = await startDataverseSim({ webhookRetryDelayMs: 20, tables: options.tables ?? [] });
  process.env.DATAVERSE_URL = sim.url;
  process.env.DATAVERSE_TOKEN = SIM_TOKEN;
  process.env.AzureWebJobsStorage = String(process.env.AZURE_STORAGE_CONNECTION_STRING);
  process.env.LIFECOCKPIT_SNAPSHOT_CONTAINER = `snap${Date.now()}`;
  process.env.LIFECOCKPIT_ROLLBACK_CONTAINER = `rbk${Date.now()}`;
  process.env.LIFECOCKPIT_CONFIG_CONTAINER = `cfg${Date.now()}`;

  let graph: TrustedSim | undefined;
  const slot = globalThis as unknown as Record<symbol, unknown>;
  let previousDispatcher: unknown;
  if (options.graph) {
    graph = await trust(await startGraphSim({ seed: 'demo' }));
    // The app's Graph client uses Node's fetch; in this process it must trust the simulator's CA
    // (a deployment trusts Graph's public certificate; a child host would use NODE_EXTRA_CA_CERTS).
    const Agent = graph.dispatcher.constructor as new (o: { connect: { ca: string[] } }) => unknown;
    previousDispatcher = slot[GLOBAL_DISPATCHER];
    slot[GLOBAL_DISPATCHER] = new Agent({ connect: { ca: [...tls.rootCertificates, graph.sim.caCertPem] } });
    Object.assign(process.env, {
      GRAPH_URL: graph.sim.url,
      GRAPH_TOKEN: GRAPH_SIM_TOKEN,
      MAIL_SENDER,
      PRACTICE_OWNER_EMAIL: OWNER_EMAIL,
      DATAVERSE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      DATAVERSE_WEBHOOK_AUTH_TYPE: 'HttpHeader',
      DATAVERSE_WEBHOOK_AUTH_NAME: WEBHOOK_HEADER,
      DATAVERSE_APP_USER_ID: APP_USER_ID,
    });
  }
  if (options.appIsSimCaller) process.env.DATAVERSE_APP_USER_ID = sim.identity.userId;
  Object.assign(process.env, options.env ?? {});
  const host = await startHost({
    appDir: '.',
    port: 0,
    memory: true,
    quiet: true,
    virtualTime: options.virtualTime ?? 'auto',
  });
  const dataverse = new DataverseClient(sim.url, {
    getToken: async () => ({ token: SIM_TOKEN, expiresOnTimestamp: Date.now() + 3600_000 }),
  });
  return {
    host,
    sim,
    dataverse,
    graph,
    async close() {
      await host.close();
      await sim.close();
      if (graph) {
        if (previousDispatcher) slot[GLOBAL_DISPATCHER] = previousDispatcher;
        await graph.close();
      }
    },
  };
}
