/**
 * Reads a schema file: JSON of the form `{ "tables": [ TableInput, ... ] }` (see define.ts for the
 * fields). This is the boundary where untyped file content enters; define.ts checks every field.
 * It must never fall back to defaults for a file that is present but broken.
 */
import fs from 'node:fs';
import { SchemaError, type TableInput } from './define';

export function loadSchemaFile(file: string): TableInput[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new SchemaError(
      `cannot read schema file ${file}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new SchemaError(
      `schema file ${file} is not JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    !Array.isArray((parsed as { tables?: unknown }).tables)
  ) {
    throw new SchemaError(`schema file ${file} must be an object with a "tables" array`);
  }
  // Each entry is checked field by field when the catalog defines it.
  return (parsed as { tables: TableInput[] }).tables;
}
