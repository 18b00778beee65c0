/**
 * Test plumbing for telemetry: a local Application Insights ingestion endpoint that keeps what it
 * receives, trust in its certificate for this process, and a guard that records (and refuses) every
 * connection this process tries to open to anything but loopback.
 *
 * Why HTTPS: the exporter rewrites an http:// IngestionEndpoint to https://, so the capture speaks
 * TLS with a generated certificate. The app runs in this process, so, as with the Graph simulator,
 * its trust has to be handed over in-process: Azure's HTTP client connects through `tls.connect`,
 * which the trust wraps to add the capture's CA for loopback addresses only.
 */
import { randomUUID } from 'node:crypto';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { namesFor, simCertificate } from '../../sim/graph/certificate';

export interface Envelope {
  name: string;
  iKey?: string;
  instrumentationKey?: string;
  tags?: Record<string, string>;
  data: { baseType: string; baseData: Record<string, unknown> & { properties?: Record<string, string> } };
}

export interface Capture {
  /** The connection string that sends here. */
  connectionString: string;
  instrumentationKey: string;
  caPem: string;
  /** Every envelope received so far. */
  envelopes(): Envelope[];
  /** Every byte received so far (decompressed), for searching secrets in. */
  raw(): string;
  close(): Promise<void>;
}

function parseBody(text: string): Envelope[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  if (trimmed.startsWith('[')) return JSON.parse(trimmed) as Envelope[];
  return trimmed.split('\n').map((line) => JSON.parse(line) as Envelope);
}

export async function startCapture(): Promise<Capture> {
  const cert = await simCertificate({ names: namesFor('127.0.0.1') });
  const bodies: string[] = [];
  const server = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
      const text = body.toString('utf8');
      bodies.push(`${req.method} ${req.url}\n${text}`);
      const count = req.url?.startsWith('/v2.1/track') ? parseBody(text).length : 0;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ itemsReceived: count, itemsAccepted: count, errors: [] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const instrumentationKey = randomUUID();
  return {
    instrumentationKey,
    connectionString: `InstrumentationKey=${instrumentationKey};IngestionEndpoint=https://127.0.0.1:${port}/`,
    caPem: cert.certPem,
    envelopes: () =>
      bodies.flatMap((b) => {
        const [head, ...rest] = b.split('\n');
        return head.includes('/v2.1/track') ? parseBody(rest.join('\n')) : [];
      }),
    raw: () => bodies.join('\n'),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+|localhost)$/i;

export function isLoopback(host: string | undefined): boolean {
  return host === undefined || LOOPBACK.test(host.replace(/^\[|\]$/g, ''));
}

/** Adds `caPem` to what TLS connections to loopback trust, in this process; returns the undo. */
export function trustOnLoopback(caPem: string): () => void {
  const original = tls.connect;
  const patched = function (this: unknown, ...args: unknown[]) {
    const options = args.find((a): a is tls.ConnectionOptions => typeof a === 'object' && a !== null);
    if (options && isLoopback(options.host ?? 'localhost') && options.ca === undefined)
      options.ca = [...tls.rootCertificates, caPem];
    return (original as (...a: unknown[]) => tls.TLSSocket).apply(this, args);
  };
  tls.connect = patched as typeof tls.connect;
  return () => {
    tls.connect = original;
  };
}

export interface NetworkGuard {
  /** Every host:port this process tried to connect to (Unix sockets excluded). */
  attempts: string[];
  /** The attempts to anything but loopback (each was refused). */
  refused(): string[];
  restore(): void;
}

/**
 * Records every outgoing TCP connection of this process (fetch, http, https, tls and net all end
 * in net.Socket#connect) and refuses those to non-loopback hosts before any packet leaves.
 */
export function guardNetwork(): NetworkGuard {
  const attempts: string[] = [];
  const refused: string[] = [];
  const original = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    const first = args[0];
    const options = (
      Array.isArray(first) ? first[0] : typeof first === 'object' && first !== null ? first : undefined
    ) as { host?: string; port?: number; path?: string } | undefined;
    const host = options ? options.host : typeof args[1] === 'string' ? args[1] : undefined;
    const port = options ? options.port : first;
    if (!options?.path) {
      const where = `${host ?? 'localhost'}:${String(port)}`;
      attempts.push(where);
      if (!isLoopback(host)) {
        refused.push(where);
        process.nextTick(() => this.destroy(new Error(`Test network guard refused ${where}`)));
        return this;
      }
    }
    return (original as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;
  return {
    attempts,
    refused: () => [...refused],
    restore: () => {
      net.Socket.prototype.connect = original;
    },
  };
}

/** The envelopes of one kind (Request, RemoteDependency, Event, Message, Exception). */
export function ofKind(envelopes: Envelope[], kind: string): Envelope[] {
  return envelopes.filter((e) => e.name === `Microsoft.ApplicationInsights.${kind}`);
}

export function propertiesOf(envelope: Envelope): Record<string, string> {
  return envelope.data.baseData.properties ?? {};
}
