/**
 * Starts and stops the Dataverse simulator: the Web API v9.2 over HTTP on SQLite (in memory or a
 * file), with built-in and schema-file tables, webhooks and fault injection. This is the only entry
 * point other code should use. It never reads environment variables; everything comes in as options.
 */
import type { AddressInfo } from 'node:net';
import { FaultInjector } from '../common/faults';
import { ChangeGate } from './changeGate';
import { faultBody } from './errors';
import { createDataverseServer, RequestCounter } from './http/server';
import { stableId } from './ids';
import { ensurePlatformRecords, platformIdentity, type PlatformIdentity } from './platform';
import { Records } from './records';
import { Representer } from './representation';
import { buildCatalog } from './schema/catalog';
import type { TableInput } from './schema/define';
import { loadSchemaFile } from './schema/load';
import { seedDemo, type SeedSummary } from './seed/demo';
import { Store } from './store';
import { WebhookDispatcher } from './webhooks/dispatcher';
import { StepRegistry } from './webhooks/registry';
import { webhookRegistrationRules } from './webhooks/validation';

export interface DataverseSimOptions {
  /** 0 or omitted: any free port. */
  port?: number;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** SQLite file to keep the data in; omitted: in memory. */
  dataFile?: string;
  /** Load a believable practice (clients, sessions today and this week, tasks, users). */
  seed?: 'demo';
  /** JSON schema file with extra tables (`{ "tables": [...] }`); a table replaces a built-in one of the same name. */
  schemaFile?: string;
  /** Extra tables given in code, as in a schema file. */
  tables?: TableInput[];
  /** Time one webhook attempt may take; default 60 000 ms as on Dataverse. */
  webhookTimeoutMs?: number;
  /** Pause before the single retry after a 502/503/504 from a webhook endpoint; default 1 000 ms. */
  webhookRetryDelayMs?: number;
  /** Organization (environment) name, used in ids, WhoAmI and webhook payloads; default "lifecockpit". */
  organizationName?: string;
  /** Entra tenant id named in the 401 challenge; default derived from the organization name. */
  tenantId?: string;
  /** Receives unexpected exceptions (answered with 500); default: console.error. */
  onError?: (err: unknown) => void;
}

export interface DataverseSim {
  /** e.g. http://127.0.0.1:54321 — what a client uses as its server URL. */
  url: string;
  /** url + /api/data/v9.2 */
  apiUrl: string;
  identity: PlatformIdentity;
  /** Queue failures by method and path (same as POST /_sim/faults). */
  faults: FaultInjector;
  /** What `seed: 'demo'` created (all zero without a seed or when the data file already had data). */
  seeded?: SeedSummary;
  /**
   * Web API requests received so far (a $batch counts as one; admin routes not at all), as Dataverse's
   * service protection counts them; the same number GET /_sim/requests serves as `total`.
   */
  requestCount(): number;
  /** Resolves once every webhook delivery queued so far has finished (including its retry). */
  webhooksIdle(): Promise<void>;
  close(): Promise<void>;
}

export async function startDataverseSim(options: DataverseSimOptions = {}): Promise<DataverseSim> {
  const extra = [
    ...(options.schemaFile ? loadSchemaFile(options.schemaFile) : []),
    ...(options.tables ?? []),
  ];
  const catalog = buildCatalog(extra);
  const store = new Store(catalog, options.dataFile);
  const records = new Records(store, catalog);
  const identity = platformIdentity(options.organizationName ?? 'lifecockpit');
  records.addValidator(webhookRegistrationRules(catalog, store));
  ensurePlatformRecords(records, identity);

  const onError = options.onError ?? ((err: unknown) => console.error('dataverse simulator:', err));
  let host = 'localhost';
  const dispatcher = new WebhookDispatcher(records, catalog, new StepRegistry(catalog, store), {
    timeoutMs: options.webhookTimeoutMs ?? 60_000,
    retryDelayMs: options.webhookRetryDelayMs ?? 1_000,
    organization: () => ({ id: identity.organizationId, name: identity.organizationName, host }),
    userAadObjectId: (userId) => {
      const user = records.get(catalog.require('systemuser'), userId);
      return String(user?.azureactivedirectoryobjectid ?? stableId(`aad:${userId}`));
    },
    onError,
  });
  // Through the gate, so a $batch changeset that rolls back never reaches the dispatcher.
  const changes = new ChangeGate((event) => dispatcher.handle(event));
  records.onChange(changes.listener);
  const seeded = options.seed === 'demo' ? seedDemo(records, identity) : undefined;

  const faults = new FaultInjector(faultBody);
  const requests = new RequestCounter();
  const server = createDataverseServer({
    services: { records, representer: new Representer(catalog, store), identity },
    faults,
    changes,
    webhooksIdle: () => dispatcher.idle(),
    requests,
    tenantId: options.tenantId ?? stableId(`tenant:${identity.organizationName}`),
    onError,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    // A caller may try again on another port (blc up does when its preferred port is taken): leave
    // the data file closed, not held by a simulator that never ran.
    await dispatcher.close();
    store.close();
    throw err;
  }
  const address = server.address() as AddressInfo;
  const hostName = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  host = `${hostName}:${address.port}`;
  const url = `http://${host}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    apiUrl: `${url}/api/data/v9.2`,
    identity,
    faults,
    seeded,
    requestCount: () => requests.value,
    webhooksIdle: () => dispatcher.idle(),
    close: () => {
      closing ??= (async () => {
        await dispatcher.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        store.close();
      })();
      return closing;
    },
  };
}

export { describeDataverseSim } from './banner';
export type { TableInput } from './schema/define';
export { SchemaError } from './schema/define';
export type { PlatformIdentity } from './platform';
export type { SeedSummary } from './seed/demo';
