/**
 * Makes sure the host's data folder exists and takes writes before anything is kept there, so a
 * folder the host cannot use stops the start with one line naming it, instead of a host that runs
 * and answers 500 to every call. It never deletes or changes anything already in the folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { HostStartupError, reason } from './startupError';

export function ensureWritableDataDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw unwritable(dir, err);
  }
  // Access bits say nothing for root or on a read-only mount; only a real write answers.
  const probe = path.join(dir, `.write-check-${process.pid}`);
  try {
    fs.writeFileSync(probe, '');
    fs.rmSync(probe, { force: true });
  } catch (err) {
    throw unwritable(dir, err);
  }
}

function unwritable(dir: string, err: unknown): HostStartupError {
  return new HostStartupError(
    'HOST_DATA_UNWRITABLE',
    dir,
    `${dir} cannot be used as the host's data folder (${reason(err)}); choose another with --data or make it a writable folder.`,
    { cause: err },
  );
}
