/**
 * Argument parsing shared by the `blc` commands that talk to an app: each command declares its own
 * options, and every one also takes `--url`, `--key`, `--json` and `--help`. The app's URL and key
 * come from the flags, else `BLC_URL` / `BLC_KEY`, else http://localhost:7071. With no key for an
 * app on this machine, blc uses the local host's own key (see localKey), so `npm start` and then
 * `npx blc ...` work without copying a secret. Bad arguments are usage errors (exit 2). The
 * environment is read here and nowhere else in `cli/`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ApiClient, BlcError } from './apiClient';
import { noExtraPositionals, parseCommandLine, type Options } from './commandLine';
import { parseJson, readText } from './jsonText';
import { projectRoot } from './version';

export const DEFAULT_URL = 'http://localhost:7071';

const COMMON: Options = {
  url: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
};

export const COMMON_HELP = `Common options:
  --url URL    The app (default: $BLC_URL, else ${DEFAULT_URL})
  --key KEY    A function key (default: $BLC_KEY; for an app on this machine, the local
               host's own key from local.settings.json or .data)
  --json       Print JSON for scripts instead of tables
  -h, --help   Show this help`;

export type Values = Record<string, string | boolean | string[] | undefined>;

export interface Parsed {
  values: Values;
  positionals: string[];
  json: boolean;
  help: boolean;
  /** The client for --url/--key (or the environment); built on first use. */
  client(): ApiClient;
  /** A client holding the master key (--key, else BLC_MASTER_KEY, else the local host's own). */
  adminClient(): ApiClient;
}

export function parse(argv: string[], options: Options = {}): Parsed {
  const result = parseCommandLine(argv, { ...COMMON, ...options });
  const values = result.values as Values;
  let client: ApiClient | undefined;
  return {
    values,
    positionals: result.positionals,
    json: values.json === true,
    help: values.help === true,
    client() {
      const url = (values.url as string | undefined) ?? process.env.BLC_URL ?? DEFAULT_URL;
      const given = (values.key as string | undefined) ?? process.env.BLC_KEY;
      // A key in the URL (`?code=`) is one the person chose: a discovered local key, sent as a
      // header, would win over it.
      const key = given || (isLoopback(url) && !hasCode(url) ? localKey() : undefined);
      client ??= new ApiClient(url, { key: key || undefined, timeoutMs: 60_000 });
      return client;
    },
    adminClient() {
      const url = (values.url as string | undefined) ?? process.env.BLC_URL ?? DEFAULT_URL;
      const given = (values.key as string | undefined) ?? masterKeyFromEnvironment();
      const key = given || (isLoopback(url) ? localMasterKey() : undefined);
      return new ApiClient(url, { key: key || undefined, timeoutMs: 60_000 });
    },
  };
}

function hasCode(url: string): boolean {
  try {
    return new URL(url).searchParams.has('code');
  } catch {
    return false;
  }
}

function isLoopback(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false; // the client reports the bad URL
  }
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The function key a local host of this project uses, where the host itself takes it from:
 * `local.settings.json` `Keys` first, else the key it generated into its data folder — `.data/host`
 * (`blc up`, `npm start`) or `.data` (`blc serve`). Looked up in the current folder, then in this
 * project. Only ever sent to a loopback address, so the key never leaves the machine.
 */
export function localKey(dirs: string[] = [process.cwd(), projectRoot()]): string | undefined {
  return discoveredKey(dirs, 'function');
}

/** The local host's master key, found where localKey finds the function key (for `blc invoke`). */
export function localMasterKey(dirs: string[] = [process.cwd(), projectRoot()]): string | undefined {
  return discoveredKey(dirs, 'master');
}

/** A master key given by the environment (BLC_MASTER_KEY): the admin API takes no function key. */
export function masterKeyFromEnvironment(): string | undefined {
  return process.env.BLC_MASTER_KEY || undefined;
}

function discoveredKey(dirs: string[], kind: 'function' | 'master'): string | undefined {
  const read = (file: string): Record<string, unknown> | undefined => {
    try {
      return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };
  for (const dir of [...new Set(dirs.map((d) => path.resolve(d)))]) {
    const keys = read(path.join(dir, 'local.settings.json'))?.Keys as Record<string, unknown> | undefined;
    const stored = [
      read(path.join(dir, '.data', 'host', 'keys.json')),
      read(path.join(dir, '.data', 'keys.json')),
    ];
    const candidates =
      kind === 'master'
        ? [keys?.master, ...stored.map((k) => k?.master)]
        : [keys?.default, keys?.function, ...stored.map((k) => k?.default)];
    const found = candidates.find((k) => typeof k === 'string' && k !== '');
    if (found) return found as string;
  }
  return undefined;
}

/** Whether a URL was given (flag or BLC_URL): `blc version` then also asks the app. */
export function urlGiven(p: Parsed): boolean {
  return p.values.url !== undefined || Boolean(process.env.BLC_URL);
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function flag(p: Parsed, name: string): boolean {
  return p.values[name] === true;
}

/** Exactly `names.length` positionals, named in the usage error. */
export function positionals(p: Parsed, names: string[], usage: string): string[] {
  if (p.positionals.length < names.length)
    throw BlcError.usage(`missing ${names.slice(p.positionals.length).join(' and ')}; usage: ${usage}`);
  noExtraPositionals(p.positionals, names.length, usage);
  return p.positionals;
}

/**
 * A JSON value given inline or as `@file` (`@-` reads stdin). A missing file or bad JSON is a usage
 * error naming the file (or option), and for bad JSON the line and column.
 */
export async function jsonArg(raw: string, option: string): Promise<unknown> {
  if (!raw.startsWith('@')) return parseJson(raw, option);
  const file = raw.slice(1);
  const text = file === '-' ? await readStdin() : await readText(file);
  return parseJson(text, file === '-' ? `${option} (stdin)` : `${option} file ${file}`);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
