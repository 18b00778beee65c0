/**
 * Reading the Host header: what name a request claims to be for, and whether this host may answer to
 * it. A listener on loopback answers only to loopback names (and to the public name the operator set
 * in WEBSITE_HOSTNAME), which is what defeats DNS rebinding: a page on `rebind.attacker.example` that
 * resolves to 127.0.0.1 still sends its own name in Host.
 *
 * This module only judges the header; it never reads bodies or keys.
 */
import net from 'node:net';

export interface HostName {
  /** Lower-case name without port or brackets: `localhost`, `127.0.0.1`, `::1`, `example.org`. */
  name: string;
  /** The header as received, safe to put back into a URL (validated). */
  authority: string;
}

// RFC 3986 reg-name characters (no percent-encoding: no client needs it in Host).
const REG_NAME = /^[a-z0-9-._~!$&'()*+,;=]+$/i;
const PORT = /^\d{1,5}$/;

/** The Host header parsed, or undefined when it is missing or not a valid `host[:port]`. */
export function parseHostHeader(header: string | undefined): HostName | undefined {
  if (!header || header.length > 255) return undefined;
  let name: string;
  let port: string | undefined;
  if (header.startsWith('[')) {
    const close = header.indexOf(']');
    if (close < 0) return undefined;
    name = header.slice(1, close);
    const rest = header.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return undefined;
    port = rest ? rest.slice(1) : undefined;
    if (net.isIPv6(name) === false) return undefined;
  } else {
    const parts = header.split(':');
    if (parts.length > 2) return undefined;
    [name, port] = parts;
    if (!REG_NAME.test(name)) return undefined;
  }
  if (port !== undefined && (!PORT.test(port) || Number(port) > 65535)) return undefined;
  return { name: name.toLowerCase(), authority: header };
}

/** `localhost`, `*.localhost` (RFC 6761 keeps them on this machine), 127.0.0.0/8 and ::1. */
export function isLoopbackName(name: string): boolean {
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (net.isIPv4(name)) return name.startsWith('127.');
  return name === '::1' || name === '::ffff:127.0.0.1';
}

/**
 * Which Host names a listener bound to `bindAddress` answers to: on loopback, loopback names and
 * `publicName` (the name a same-machine reverse proxy forwards); on any other address every name,
 * since there the network itself, not a browser's DNS, decides who can connect.
 */
export function hostAllowed(host: HostName, bindAddress: string, publicName: string | undefined): boolean {
  if (!isLoopbackName(bindAddress.toLowerCase())) return true;
  return isLoopbackName(host.name) || (publicName !== undefined && host.name === publicName.toLowerCase());
}
