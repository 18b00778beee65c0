/**
 * The error `startHost` throws when it must not start: a setting the host would hang or misbehave
 * on, or data it cannot read or write. It carries a code a caller can branch on, the file it is
 * about, and one line a person can act on (the CLI prints exactly that line). It is never thrown
 * once the host is serving, and its message never contains a key's value.
 */
export type HostStartupCode =
  /** host.json or local.settings.json holds a value the host cannot run with. */
  | 'HOST_CONFIG_INVALID'
  /** The data folder's keys.json cannot be read, or is not an object of key strings. */
  | 'HOST_KEYS_UNREADABLE'
  /** The data folder (or a file in it) cannot be created or written. */
  | 'HOST_DATA_UNWRITABLE'
  /** durable.sqlite is not a database, or fails SQLite's integrity check. */
  | 'HOST_STORE_CORRUPT'
  /** The HTTP port is taken or cannot be bound. */
  | 'HOST_PORT_UNAVAILABLE';

export class HostStartupError extends Error {
  constructor(
    readonly code: HostStartupCode,
    /** Absolute path of the file or folder at fault. */
    readonly file: string,
    message: string,
    options?: ErrorOptions,
  ) {
    // One line, whatever a wrapped library message contained: the CLI prints it as is.
    super(message.replace(/\s*[\r\n]+\s*/g, ' '), options);
    this.name = 'HostStartupError';
  }
}

/** The system error code (ENOENT, EISDIR, SQLITE_NOTADB, ...) of a caught error, when it has one. */
export function systemCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A caught error's message, for the end of a one-line explanation. */
export function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
