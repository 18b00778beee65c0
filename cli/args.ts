/**
 * Argument parsing shared by the `blc` commands that talk to an app: each command declares its own
 * options, and every one also takes `--url`, `--key`, `--json` and `--help`. The app's URL and key
 * come from the flags, else `BLC_URL` / `BLC_KEY`, else http://localhost:7071 and no key. Bad
 * arguments are usage errors (exit 2). The environment is read here and nowhere else in `cli/`.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ApiClient, BlcError } from './apiClient';

export const DEFAULT_URL = 'http://localhost:7071';

type Options = NonNullable<ParseArgsConfig['options']>;

const COMMON: Options = {
  url: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
};

export const COMMON_HELP = `Common options:
  --url URL    The app (default: $BLC_URL, else ${DEFAULT_URL})
  --key KEY    A function key (default: $BLC_KEY)
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
}

export function parse(argv: string[], options: Options = {}): Parsed {
  let result;
  try {
    result = parseArgs({
      args: argv,
      options: { ...COMMON, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw BlcError.usage((err as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
  const values = result.values as Values;
  let client: ApiClient | undefined;
  return {
    values,
    positionals: result.positionals,
    json: values.json === true,
    help: values.help === true,
    client() {
      const url = (values.url as string | undefined) ?? process.env.BLC_URL ?? DEFAULT_URL;
      const key = (values.key as string | undefined) ?? process.env.BLC_KEY;
      client ??= new ApiClient(url, { key: key || undefined, timeoutMs: 60_000 });
      return client;
    },
  };
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
  if (p.positionals.length > names.length)
    throw BlcError.usage(`unexpected argument '${p.positionals[names.length]}'; usage: ${usage}`);
  return p.positionals;
}

/** A JSON value given inline or as `@file` (`@-` reads stdin). Bad JSON is a usage error. */
export async function jsonArg(raw: string, option: string): Promise<unknown> {
  let text = raw;
  if (raw.startsWith('@')) {
    const file = raw.slice(1);
    try {
      text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
    } catch (err) {
      throw BlcError.usage(
        `${option}: cannot read '${file}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw BlcError.usage(`${option} is not valid JSON: ${(err as Error).message}`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
