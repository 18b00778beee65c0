/**
 * The Microsoft Graph v1.0 simulator: start it, point a Graph client's base URL at `url`, trust
 * `caCertPem`, stop it with close(). Serves users ($select, $top, paging), a user by id or
 * userPrincipalName, sendMail into an outbox, the organization, Graph's errors, 401 without a
 * bearer token, and the shared fault injection at /_sim/faults. Must never be imported by the app:
 * the app's clients take a base URL and a credential and cannot tell this from the real service.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { FaultInjector } from '../common/faults';
import { CA_FILE_NAME, namesFor, simCertificate } from './certificate';
import { graphErrorBody, injectedFailure } from './errors';
import type { SentMail } from './model';
import { currentRequestIds } from './requestContext';
import type { GraphSeedName } from './seed';
import { createGraphServer } from './server';
import { GraphStore } from './store';

export type { GraphUser, MailMessage, Organization, Recipient, SentMail } from './model';
export { DEMO_TENANT_DOMAIN, DEMO_TENANT_ID, DEMO_USER_IDS, type GraphSeedName } from './seed';
export { GraphDataFileError } from './store';
export { describeGraphSim } from './banner';

export interface GraphSimOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to listen on; default 127.0.0.1. The certificate always covers localhost too. */
  host?: string;
  /** JSON file holding the directory and outbox; read at start when it exists, written on change. */
  dataFile?: string;
  /** Directory to start a fresh data file (or an in-memory run) from. */
  seed?: GraphSeedName;
  /** Where to cache the certificate and key across runs; the CA is `<certDir>/graph-sim-ca.pem`. */
  certDir?: string;
  /** Also write the CA PEM here, for NODE_EXTRA_CA_CERTS. */
  caCertFile?: string;
}

export interface GraphSim {
  /** https://localhost:PORT — a Graph client's base URL; the API is under /v1.0. */
  url: string;
  port: number;
  /** The PEM a client must trust to reach `url`. */
  caCertPem: string;
  /** Where that PEM was written, when certDir or caCertFile was given. */
  caCertFile: string | undefined;
  /** The mail sendMail has accepted, oldest first (the same list GET /_sim/outbox serves). */
  outbox(): SentMail[];
  /** Queue failures by method and path (same as POST /_sim/faults); useClock for outages on a test's clock. */
  faults: FaultInjector;
  close(): Promise<void>;
}

export class GraphSimStartError extends Error {
  override readonly name = 'GraphSimStartError';

  constructor(
    readonly code: 'GRAPH_SIM_PORT_IN_USE' | 'GRAPH_SIM_LISTEN_FAILED',
    message: string,
  ) {
    super(message);
  }
}

export async function startGraphSim(options: GraphSimOptions = {}): Promise<GraphSim> {
  const host = options.host ?? '127.0.0.1';
  const store = GraphStore.open({ dataFile: options.dataFile, seed: options.seed });
  const certificate = await simCertificate({ names: namesFor(host), dir: options.certDir });
  const caCertFile = writeCaFile(certificate.certPem, options);
  const faults = new FaultInjector((status) => {
    const { code, message } = injectedFailure(status);
    return graphErrorBody(code, message, currentRequestIds());
  });
  const server = createGraphServer({ store, faults, certificate });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const wanted = `${host}:${options.port ?? 0}`;
      reject(
        err.code === 'EADDRINUSE'
          ? new GraphSimStartError(
              'GRAPH_SIM_PORT_IN_USE',
              `Port ${wanted} is already in use; choose another port (0 picks a free one).`,
            )
          : new GraphSimStartError(
              'GRAPH_SIM_LISTEN_FAILED',
              `The Graph simulator could not listen on ${wanted}: ${err.message}`,
            ),
      );
    });
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `https://${urlHost(host)}:${port}`,
    port,
    caCertPem: certificate.certPem,
    caCertFile,
    outbox: () => store.outbox(),
    faults,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections from a client's pool would otherwise hold close() open.
        server.closeAllConnections();
      })),
  };
}

function writeCaFile(pem: string, options: GraphSimOptions): string | undefined {
  if (options.caCertFile) {
    mkdirSync(dirname(options.caCertFile), { recursive: true });
    writeFileSync(options.caCertFile, pem);
    return options.caCertFile;
  }
  return options.certDir ? join(options.certDir, CA_FILE_NAME) : undefined;
}

// The certificate names localhost, and the Graph client matches hosts by name, so loopback and
// wildcard listeners are advertised as localhost.
function urlHost(host: string): string {
  if (['127.0.0.1', '::1', 'localhost', '0.0.0.0', '::', ''].includes(host)) return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}
