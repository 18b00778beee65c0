/**
 * The host's own keys (master, default function key, durable system key), kept in the data folder's
 * keys.json so they survive a restart. Keys configured in local.settings.json (or by the caller) win;
 * what is missing is generated and written back. A keys.json the host cannot read, or that is not an
 * object of non-empty strings, stops the start with one line naming it: replacing it silently would
 * change the keys every client holds. This module never writes an empty key and never puts a key's
 * value into a message.
 */
import fs from 'node:fs';
import path from 'node:path';
import { generateKey } from './http/keys';
import { HostStartupError, reason, systemCode } from './startupError';

export interface LocalHostKeys {
  master: string;
  default: string;
  durabletask_extension: string;
}

/** The one line for a keys.json the host will not use; it says what to do about it. */
function unreadable(file: string, why: string, cause?: unknown): HostStartupError {
  return new HostStartupError(
    'HOST_KEYS_UNREADABLE',
    file,
    `${file}${why}; fix it, or delete it to have new keys generated.`,
    cause === undefined ? undefined : { cause },
  );
}

function readKeysFile(file: string): Record<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (systemCode(err) === 'ENOENT') return {};
    throw unreadable(file, ` cannot be read (${reason(err)})`, err);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw unreadable(file, ` is not valid JSON (${reason(err)})`, err);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw unreadable(file, ' must hold a JSON object of key strings');
  for (const [name, value] of Object.entries(json))
    // The name only: a value in keys.json is a key, and messages end up in logs.
    if (typeof value !== 'string' || value === '')
      throw unreadable(file, `: ${name} must be a non-empty string`);
  return json as Record<string, string>;
}

/** The first candidate that is a non-empty string: an empty key would open nothing. */
function first(...candidates: (string | undefined)[]): string | undefined {
  return candidates.find((c) => typeof c === 'string' && c !== '');
}

/** `dataDir` undefined (in-memory host): nothing is read or kept, missing keys are fresh each start. */
export function loadOrCreateKeys(
  dataDir: string | undefined,
  configured: Record<string, string>,
): LocalHostKeys {
  const file = dataDir ? path.join(dataDir, 'keys.json') : undefined;
  const stored = file ? readKeysFile(file) : {};
  const keys: LocalHostKeys = {
    master: first(configured.master, stored.master) ?? generateKey(),
    default: first(configured.default, configured.function, stored.default) ?? generateKey(),
    durabletask_extension:
      first(configured.durabletask_extension, stored.durabletask_extension) ?? generateKey(),
  };
  if (file && (!stored.master || !stored.default || !stored.durabletask_extension)) {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify({ ...stored, ...keys }, null, 2), { mode: 0o600 });
    } catch (err) {
      throw new HostStartupError(
        'HOST_DATA_UNWRITABLE',
        file,
        `${file} cannot be written (${reason(err)}); choose another data folder with --data or make it writable.`,
        { cause: err },
      );
    }
  }
  return keys;
}
