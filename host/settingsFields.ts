/**
 * Reads single values out of an app's untyped host.json or local.settings.json and checks each
 * against what the local host can run with. A value that does not fit is a HostStartupError that
 * names the file, the key as a JSON path (extensions.durableTask.hubName) and what is allowed.
 * Types are strict (a count must be a JSON number, not "10"): the message says what to write, and a
 * guess could start a host that accepts work and never runs it. An absent key (or none of its
 * parents) means "use the default"; this module never substitutes a default for a present value, and
 * never echoes a value read from a section marked secret.
 */
import { HostStartupError } from './startupError';

const MAX_SHOWN = 40;

function jsonPath(parts: readonly string[]): string {
  return parts
    .map((p, i) => (/^[A-Za-z_$][\w$]*$/.test(p) ? (i === 0 ? p : `.${p}`) : `[${JSON.stringify(p)}]`))
    .join('');
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (value === '') return 'an empty string';
  return `a ${typeof value}`;
}

/** How a wrong value appears in a message: itself when short and not secret, else its kind. */
function shown(value: unknown, secret: boolean): string {
  if (secret || value === null || typeof value === 'object' || value === '') return kindOf(value);
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

/** One JSON object of a settings file (the file itself or a section of it), read key by key. */
export class JsonFields {
  private constructor(
    readonly file: string,
    private readonly path: readonly string[],
    private readonly values: Readonly<Record<string, unknown>>,
    private readonly secret: boolean,
  ) {}

  /** The whole file; `json` undefined (no file) reads as an empty object. */
  static of(file: string, json: unknown): JsonFields {
    if (json !== undefined && !isObject(json))
      throw new HostStartupError(
        'HOST_CONFIG_INVALID',
        file,
        `${file} holds ${kindOf(json)}; it must hold a JSON object.`,
      );
    return new JsonFields(file, [], json ?? {}, false);
  }

  /** A nested object; absent reads as empty. `secret` keeps its values out of messages. */
  section(key: string, options: { secret?: boolean } = {}): JsonFields {
    const value = this.values[key];
    if (value !== undefined && !isObject(value)) throw this.invalid(key, 'a JSON object');
    return new JsonFields(
      this.file,
      [...this.path, key],
      value ?? {},
      this.secret || options.secret === true,
    );
  }

  keys(): string[] {
    return Object.keys(this.values);
  }

  /** The raw value, for a caller that checks several types itself (and reports with `invalid`). */
  raw(key: string): unknown {
    return this.values[key];
  }

  string(
    key: string,
    options: { nonEmpty?: boolean; pattern?: RegExp; allowed?: string } = {},
  ): string | undefined {
    const value = this.values[key];
    if (value === undefined) return undefined;
    const allowed = options.allowed ?? (options.nonEmpty ? 'a non-empty string' : 'a string');
    if (typeof value !== 'string') throw this.invalid(key, allowed);
    if (options.nonEmpty && value === '') throw this.invalid(key, allowed);
    if (options.pattern && !options.pattern.test(value)) throw this.invalid(key, allowed);
    return value;
  }

  /** A JSON number with no fraction, from `min` to `max`. */
  wholeNumber(key: string, min: number, max: number = Number.MAX_SAFE_INTEGER): number | undefined {
    const value = this.values[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
      throw this.invalid(key, `a whole number ${range}${notText(value, 'number')}`);
    }
    return value;
  }

  /** A finite JSON number of at least `min`. */
  number(key: string, min: number): number | undefined {
    const value = this.values[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min)
      throw this.invalid(key, `a number of at least ${min}${notText(value, 'number')}`);
    return value;
  }

  boolean(key: string): boolean | undefined {
    const value = this.values[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') throw this.invalid(key, `true or false${notText(value, 'boolean')}`);
    return value;
  }

  /** The error for `key`'s present value, which is not `allowed` (a phrase: "a whole number of at least 1"). */
  invalid(key: string, allowed: string): HostStartupError {
    const at = jsonPath([...this.path, key]);
    return new HostStartupError(
      'HOST_CONFIG_INVALID',
      this.file,
      `${this.file}: ${at} is ${shown(this.values[key], this.secret)}; it must be ${allowed}.`,
    );
  }
}

/** Settings files are often written by hand: say so when the value only lacks the right JSON type. */
function notText(value: unknown, kind: string): string {
  return typeof value === 'string' ? ` (a JSON ${kind}, without quotes)` : '';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
