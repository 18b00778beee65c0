/**
 * Reads the `Prefer` request header (RFC 7240) as Dataverse uses it: return=representation,
 * odata.maxpagesize=N and odata.include-annotations="…" (a comma list with `*` wildcards). Several
 * Prefer headers arrive joined by commas; commas inside the quoted annotation list are kept.
 */

export interface Preferences {
  returnRepresentation: boolean;
  maxPageSize?: number;
  /** The raw annotation list, e.g. `*` or `OData.Community.Display.V1.FormattedValue,Microsoft.Dynamics.CRM.*`. */
  includeAnnotations?: string;
}

function splitPreferences(header: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of header) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      parts.push(current.trim());
      current = '';
      continue;
    }
    current += ch;
  }
  if (current.trim() !== '') parts.push(current.trim());
  return parts;
}

export function readPreferences(header: string | string[] | undefined): Preferences {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  const preferences: Preferences = { returnRepresentation: false };
  for (const part of splitPreferences(text)) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    const value =
      eq < 0
        ? ''
        : part
            .slice(eq + 1)
            .trim()
            .replace(/^"|"$/g, '');
    if (name === 'return' && value === 'representation') preferences.returnRepresentation = true;
    if (name === 'odata.maxpagesize' && /^\d+$/.test(value) && Number(value) > 0) {
      preferences.maxPageSize = Math.min(Number(value), 5000);
    }
    if (name === 'odata.include-annotations' && value !== '') preferences.includeAnnotations = value;
  }
  return preferences;
}

/** Whether an annotation term (e.g. `OData.Community.Display.V1.FormattedValue`) was asked for. */
export function wantsAnnotation(preferences: Preferences, term: string): boolean {
  const list = preferences.includeAnnotations;
  if (!list) return false;
  return list.split(',').some((pattern) => {
    const p = pattern.trim();
    if (p === '*') return true;
    if (p.endsWith('*')) return term.startsWith(p.slice(0, -1));
    return p === term;
  });
}
