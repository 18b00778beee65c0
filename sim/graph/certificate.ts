/**
 * The TLS certificate the Graph simulator serves. The Graph client sends its bearer token only to
 * https:// hosts, so the simulator must speak TLS, and a client must trust this certificate.
 * It is self-signed, valid for localhost, 127.0.0.1 and ::1 (plus any other host the simulator
 * listens on), cached in a directory when one is given and otherwise in memory for the process.
 *
 * How an app trusts it: start Node with NODE_EXTRA_CA_CERTS pointing at the PEM the simulator
 * writes (`<certDir>/graph-sim-ca.pem`, or the caCertFile option), e.g.
 *   NODE_EXTRA_CA_CERTS=.data/graph-sim/graph-sim-ca.pem node dist/...
 * Node reads that variable once at start-up, so it cannot be set from inside a running process.
 *
 * Must never be trusted system-wide or used for anything but the simulator: its key sits in a
 * plain file next to it.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface SimCertificate {
  /** The certificate, PEM; clients trust this same PEM as their CA. */
  certPem: string;
  keyPem: string;
}

export const CA_FILE_NAME = 'graph-sim-ca.pem';
const KEY_FILE_NAME = 'graph-sim-key.pem';
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];
const VALID_DAYS = 365;
// A cached certificate this close to expiry is replaced, so a long session does not die mid-way.
const RENEW_BEFORE_MS = 24 * 60 * 60 * 1000;

const inMemory = new Map<string, Promise<SimCertificate>>();

/** Names the certificate must cover for a simulator listening on `host`. */
export function namesFor(host: string): string[] {
  const names = new Set(LOOPBACK_NAMES);
  if (host !== '' && host !== '0.0.0.0' && host !== '::') names.add(host);
  return [...names];
}

export async function simCertificate(options: { names: string[]; dir?: string }): Promise<SimCertificate> {
  const { names, dir } = options;
  if (dir) return fromDirectory(dir, names);
  const cacheKey = [...names].sort().join(',');
  let pending = inMemory.get(cacheKey);
  if (!pending) {
    pending = createCertificate(names);
    // A failed generation must not poison the cache for later callers.
    pending.catch(() => inMemory.delete(cacheKey));
    inMemory.set(cacheKey, pending);
  }
  return pending;
}

async function fromDirectory(dir: string, names: string[]): Promise<SimCertificate> {
  const certPath = join(dir, CA_FILE_NAME);
  const keyPath = join(dir, KEY_FILE_NAME);
  if (existsSync(certPath) && existsSync(keyPath)) {
    const cached = { certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') };
    if (stillGood(cached, names)) return cached;
  }
  const fresh = await createCertificate(names);
  mkdirSync(dir, { recursive: true });
  writeFileSync(keyPath, fresh.keyPem, { mode: 0o600 });
  writeFileSync(certPath, fresh.certPem);
  return fresh;
}

/** True when the pair matches, covers every name and is not about to expire. */
export function stillGood(pair: SimCertificate, names: string[]): boolean {
  try {
    const cert = new X509Certificate(pair.certPem);
    if (!cert.checkPrivateKey(createPrivateKey(pair.keyPem))) return false;
    if (new Date(cert.validTo).getTime() - Date.now() < RENEW_BEFORE_MS) return false;
    return names.every((name) => (isIP(name) ? cert.checkIP(name) : cert.checkHost(name)) !== undefined);
  } catch {
    return false; // Unreadable files are replaced, not fatal: they are only a cache.
  }
}

async function createCertificate(names: string[]): Promise<SimCertificate> {
  const notBeforeDate = new Date(Date.now() - 60_000); // Tolerate small clock skew between processes.
  const notAfterDate = new Date(notBeforeDate.getTime() + VALID_DAYS * 24 * 60 * 60 * 1000);
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, critical: true }, // EC keys sign; they do not encipher.
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: names.map((name) =>
          isIP(name) ? { type: 7 as const, ip: name } : { type: 2 as const, value: name },
        ),
      },
    ],
  });
  return { certPem: pems.cert, keyPem: pems.private };
}
