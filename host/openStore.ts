/**
 * Opens the host's durable store and proves it usable before the host takes any work: a file that
 * is not a database, or one SQLite's quick check finds damaged, stops the start with one line naming
 * it (otherwise the host would start and answer 500 to every call). It never repairs, moves or
 * deletes the file: that is the owner's decision, and the message says what the choices are.
 */
import path from 'node:path';
import { SqliteBackend } from './durable/sqliteBackend';
import { HostStartupError, reason, systemCode } from './startupError';

const CHOICES = 'move it away to start with empty history, or restore a backup';

/** `dataDir` undefined: an in-memory store (nothing to check). */
export function openStore(dataDir: string | undefined): SqliteBackend {
  if (!dataDir) return new SqliteBackend(':memory:');
  const file = path.join(dataDir, 'durable.sqlite');
  let store: SqliteBackend;
  try {
    store = new SqliteBackend(file);
  } catch (err) {
    throw openFailure(file, err);
  }
  let problems: string[];
  try {
    problems = store.integrityProblems();
  } catch (err) {
    store.close();
    throw openFailure(file, err);
  }
  if (problems.length > 0) {
    store.close();
    throw new HostStartupError(
      'HOST_STORE_CORRUPT',
      file,
      `${file} is damaged (SQLite quick_check: ${problems.join('; ')}); ${CHOICES}.`,
    );
  }
  return store;
}

function openFailure(file: string, err: unknown): HostStartupError {
  const code = systemCode(err) ?? '';
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT'))
    return new HostStartupError(
      'HOST_STORE_CORRUPT',
      file,
      `${file} is not a usable SQLite database (${reason(err)}); ${CHOICES}.`,
      { cause: err },
    );
  return new HostStartupError('HOST_DATA_UNWRITABLE', file, `${file} cannot be opened (${reason(err)}).`, {
    cause: err,
  });
}
