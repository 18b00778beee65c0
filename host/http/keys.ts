/**
 * Function keys for the local host, with the same rules as Azure Functions: `anonymous` needs no key,
 * `function` takes a host function key, one of that function's own keys or the master key, and `admin`
 * takes only the master key. Keys arrive in the `x-functions-key` header or the `code` query parameter.
 *
 * This module must never log, echo or otherwise reveal a key, never compare keys with `===` (that
 * leaks how much of a guess was right through timing), and never let an empty key authorize anything.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export type AuthLevel = 'anonymous' | 'function' | 'admin';

export interface HostKeysOptions {
  /** Host-level function keys, name → value, e.g. `{ default: '...' }`; they open every function. */
  functionKeys: Record<string, string>;
  /** An empty string means no master key: admin-level calls are then always refused. */
  masterKey: string;
  /** Keys that open only one function: function name → (key name → value). */
  perFunction?: Record<string, Record<string, string>>;
}

export interface HostKeySettings {
  Keys?: Record<string, string>;
}

/** Anything with a `get(name)` like the Fetch `Headers`, so callers need not build one. */
export interface HeaderReader {
  get(name: string): string | null | undefined;
}

function keysEqual(presented: Buffer, key: string): boolean {
  const expected = Buffer.from(key, 'utf8');
  // Only the length may leak; equal lengths are compared without an early exit.
  return expected.length > 0 && expected.length === presented.length && timingSafeEqual(expected, presented);
}

/**
 * 32 random bytes as base64url: 43 characters that survive a query string unescaped. Never one
 * that starts with '-': `blc --key <key>` (like most command lines) would take it for an option.
 */
export function generateKey(): string {
  let key: string;
  do key = randomBytes(32).toString('base64url');
  while (key.startsWith('-'));
  return key;
}

function lookup(values: Record<string, string> | undefined, name: string): string | undefined {
  // local.settings.json is read by .NET configuration in `func`, which ignores case.
  const found = Object.entries(values ?? {}).find(([k]) => k.toLowerCase() === name)?.[1];
  return found || undefined;
}

export class HostKeys {
  readonly masterKey: string;
  readonly functionKeys: Readonly<Record<string, string>>;
  private readonly perFunction: Map<string, string[]>;

  constructor(options: HostKeysOptions) {
    this.masterKey = options.masterKey;
    this.functionKeys = { ...options.functionKeys };
    // Function names are case-insensitive in Azure Functions.
    this.perFunction = new Map(
      Object.entries(options.perFunction ?? {}).map(([name, keys]) => [
        name.toLowerCase(),
        Object.values(keys),
      ]),
    );
  }

  /**
   * Reads the `Keys` section of local settings: `master`, and host function keys `default` and/or
   * `function` (both are accepted, as either name is in use).
   * Missing keys are generated when `generate` is true; otherwise they stay absent and their level
   * cannot be reached.
   */
  static fromSettings(settings: HostKeySettings, generate: boolean): HostKeys {
    const functionKeys: Record<string, string> = {};
    for (const name of ['default', 'function']) {
      const value = lookup(settings.Keys, name);
      if (value) functionKeys[name] = value;
    }
    if (generate && Object.keys(functionKeys).length === 0) functionKeys.default = generateKey();
    const masterKey = lookup(settings.Keys, 'master') ?? (generate ? generateKey() : '');
    return new HostKeys({ masterKey, functionKeys });
  }

  authorize(level: AuthLevel, functionName: string, presented: string | undefined): boolean {
    if (level === 'anonymous') return true;
    if (!presented) return false;
    const candidates =
      level === 'admin'
        ? [this.masterKey]
        : [
            this.masterKey,
            ...Object.values(this.functionKeys),
            ...(this.perFunction.get(functionName.toLowerCase()) ?? []),
          ];
    return keyMatchesAny(presented, candidates);
  }
}

/** Whether `presented` equals one of `candidates`, compared in constant time; empty never matches. */
export function keyMatchesAny(presented: string | undefined, candidates: readonly string[]): boolean {
  if (!presented) return false;
  const buffer = Buffer.from(presented, 'utf8');
  // Check every candidate, without stopping at the first hit, so timing does not reveal which matched.
  let ok = false;
  for (const key of candidates) ok = keysEqual(buffer, key) || ok;
  return ok;
}

/** The key a caller sent: the `x-functions-key` header wins over the `code` query parameter. */
export function presentedKey(headers: HeaderReader, query: URLSearchParams): string | undefined {
  return headers.get('x-functions-key') || query.get('code') || undefined;
}
