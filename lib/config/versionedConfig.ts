/**
 * The app's configuration as versioned JSON in Blob storage: every version is kept under
 * `versions/<n>.json`, and `current.json` points at the one in force. A change writes a new version
 * and moves the pointer with a compare-and-swap; undoing it moves the pointer back. Versions are
 * never rewritten, so any earlier configuration can be restored exactly.
 */
import { CodedError } from '../errors/codedError';
import { InvalidIdError } from '../ids';
import { BlobConflictError, JsonBlobs } from '../storage/jsonBlobs';

export interface ConfigPointer {
  version: number;
  updatedAt: string;
  /** Who or what moved the pointer (e.g. an orchestration instance id). */
  by?: string;
}

export interface ConfigVersion<T> {
  version: number;
  value: T;
  createdAt: string;
  by?: string;
}

export class ConfigVersionError extends CodedError<'CONFIG_VERSION_NOT_FOUND' | 'CONFIG_CONFLICT'> {
  override readonly name = 'ConfigVersionError';
}

const POINTER = 'current.json';
/** A version number comes from requests and rollback plans: only a whole number may name a blob. */
function versionBlob(n: number): string {
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidIdError('version', 'must be a whole number from 1');
  return `versions/${String(n).padStart(8, '0')}.json`;
}

export class VersionedConfig<T> {
  constructor(private readonly blobs: JsonBlobs) {}

  async current(): Promise<(ConfigVersion<T> & { pointerEtag: string }) | undefined> {
    const pointer = await this.blobs.get<ConfigPointer>(POINTER);
    if (!pointer) return undefined;
    const version = await this.version(pointer.value.version);
    return { ...version, pointerEtag: pointer.etag };
  }

  async version(n: number): Promise<ConfigVersion<T>> {
    const stored = await this.blobs.get<ConfigVersion<T>>(versionBlob(n));
    if (!stored)
      throw new ConfigVersionError('CONFIG_VERSION_NOT_FOUND', `Configuration version ${n} does not exist.`);
    return stored.value;
  }

  async versions(): Promise<number[]> {
    const names = await this.blobs.list('versions/');
    return names
      .map((n) => Number(/(\d+)\.json$/.exec(n)?.[1]))
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
  }

  /**
   * Writes `value` as a new version (idempotent per `versionHint`: writing the same version twice
   * finds the first) and returns its number. Does not move the pointer.
   */
  async write(value: T, now: string, by?: string, versionHint?: number): Promise<number> {
    const existing = await this.versions();
    const n = versionHint ?? (existing.at(-1) ?? 0) + 1;
    try {
      await this.blobs.put<ConfigVersion<T>>(
        versionBlob(n),
        { version: n, value, createdAt: now, by },
        { ifNoneMatch: '*' },
      );
    } catch (err) {
      if (!(err instanceof BlobConflictError)) throw err;
      // A version with this number exists: fine when it is ours (a re-run), a conflict otherwise.
      const stored = await this.version(n);
      if (JSON.stringify(stored.value) !== JSON.stringify(value)) {
        throw new ConfigVersionError(
          'CONFIG_CONFLICT',
          `Configuration version ${n} already exists with other content.`,
        );
      }
    }
    return n;
  }

  /** Points `current` at version n; with `expected`, only if the pointer still shows that version. */
  async activate(n: number, now: string, by?: string, expected?: number): Promise<ConfigPointer> {
    await this.version(n);
    const pointer = await this.blobs.get<ConfigPointer>(POINTER);
    if (
      expected !== undefined &&
      (pointer?.value.version ?? 0) !== expected &&
      pointer?.value.version !== n
    ) {
      throw new ConfigVersionError(
        'CONFIG_CONFLICT',
        `The configuration is at version ${pointer?.value.version ?? 'none'}, not ${expected}; someone changed it meanwhile.`,
      );
    }
    const next: ConfigPointer = { version: n, updatedAt: now, by };
    try {
      await this.blobs.put(POINTER, next, pointer ? { ifMatch: pointer.etag } : { ifNoneMatch: '*' });
    } catch (err) {
      if (err instanceof BlobConflictError) {
        throw new ConfigVersionError(
          'CONFIG_CONFLICT',
          'The configuration pointer moved while it was being changed; try again.',
        );
      }
      throw err;
    }
    return next;
  }
}
