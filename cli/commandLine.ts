/**
 * How every `blc` command reads its command line: `node:util` parseArgs, strict, with the few rules blc
 * adds on top. A bad command line is one BlcError usage line (exit 2); a command that starts services
 * prints it as `blc <command>: <message>` (usageExit), the others as `blc: USAGE: <message>`.
 *
 * It must never read the environment or start anything: parsing only.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BlcError } from './apiClient';

export type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * parseArgs with `strict`, typed by the options given. A negative number after an option that takes a
 * value is that value, so `--port -1` is a bad port rather than an "ambiguous" option; parseArgs's
 * several-line messages become one line.
 */
export function parseCommandLine<O extends Options>(argv: readonly string[], options: O) {
  try {
    return parseArgs({
      args: joinNegativeValues(argv, options),
      options,
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    const message = (err as Error).message
      .replace(/\s*\n\s*/g, ' ')
      // Hints on how to pass a value starting with a dash: blc's values do not, or are joined above.
      .replace(/ ?To specify (a positional|an option) argument .*$/, '')
      .replace(/\.$/, '');
    throw BlcError.usage(message);
  }
}

function joinNegativeValues(argv: readonly string[], options: Options): string[] {
  const takesValue = (arg: string): boolean => {
    const long = /^--([^=]+)$/.exec(arg)?.[1];
    const name = long ?? Object.keys(options).find((k) => arg === `-${options[k].short}`);
    return name !== undefined && options[name]?.type === 'string';
  };
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    if (next !== undefined && /^-\d/.test(next) && takesValue(argv[i])) {
      out.push(`${argv[i]}=${next}`);
      i++;
    } else out.push(argv[i]);
  }
  return out;
}

/** More positionals than the command takes: the first extra one, named in a usage error. */
export function noExtraPositionals(positionals: readonly string[], max: number, usage: string): void {
  if (positionals.length > max)
    throw BlcError.usage(`unexpected argument '${positionals[max]}'; usage: ${usage}`);
}

/**
 * A port option's value: undefined when absent, else a whole number 0..65535 (0 picks a free port).
 * Only digits count: `Number` would also take '', ' 80', '0x50' and '1e3'.
 */
export function portOption(raw: string | undefined, option = '--port'): number | undefined {
  if (raw === undefined) return undefined;
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(port) || port > 65_535)
    throw BlcError.usage(`${option} must be a number between 0 and 65535, got '${raw}'`);
  return port;
}

/** A value that must be one of `known`. */
export function oneOf<T extends string>(
  raw: string | undefined,
  known: readonly T[],
  what: string,
): T | undefined {
  if (raw === undefined || (known as readonly string[]).includes(raw)) return raw as T | undefined;
  throw BlcError.usage(`unknown ${what} '${raw}' (known: ${known.join(', ')})`);
}

/**
 * For the commands that start services and print their own errors: a usage error as one line
 * `<command>: <message>` on stderr, and exit code 2. Any other error is not ours to word; rethrown.
 */
export function usageExit(command: string, err: unknown): number {
  if (!(err instanceof BlcError) || err.code !== 'USAGE') throw err;
  console.error(`${command}: ${err.message}`);
  return 2;
}
