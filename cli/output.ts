/**
 * What `blc` prints: aligned tables and key/value blocks for people, JSON for scripts (`--json`),
 * and the one error line. Output goes to the streams given, so nothing here decides exit codes.
 * The error line never shows a URL's password or a `code=` key, whoever wrote the message.
 */
import { redact } from './redact';

export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '-';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** Rows as an aligned table with a header line; "(none)" for no rows. */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  if (rows.length === 0) return '(none)';
  const cells = rows.map((r) => columns.map((c) => cell(c.value(r)).replace(/\s*\n\s*/g, ' ')));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i].length)));
  const line = (values: string[]): string =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header.toUpperCase())), ...cells.map(line)].join('\n');
}

/** `key: value` lines, keys aligned; undefined values are left out. */
export function fields(entries: [string, unknown][]): string {
  const shown = entries.filter(([, v]) => v !== undefined);
  const width = Math.max(0, ...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${cell(v)}`).join('\n');
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

export function errorLine(code: string, message: string): string {
  return `blc: ${code}: ${redact(message)}`;
}
