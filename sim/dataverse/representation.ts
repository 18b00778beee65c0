/**
 * Turns stored rows into the JSON Dataverse returns: `@odata.etag` as W/"versionnumber", lookups as
 * `_name_value`, the primary id always present, and, when the client asked through
 * `Prefer: odata.include-annotations`, FormattedValue, lookuplogicalname and
 * associatednavigationproperty annotations. It never returns write-only columns (authvalue).
 */
import { propertyNotFound } from './errors';
import type { Preferences } from './odata/prefer';
import { wantsAnnotation } from './odata/prefer';
import type { Catalog } from './schema/catalog';
import { propertyName, type AttributeDef, type TableDef } from './schema/types';
import { lookupTypeColumn, type Store, type StoredRow } from './store';
import { formattedValue, fromStorage } from './values';

const FORMATTED = 'OData.Community.Display.V1.FormattedValue';
const LOOKUP_NAME = 'Microsoft.Dynamics.CRM.lookuplogicalname';
const NAVIGATION = 'Microsoft.Dynamics.CRM.associatednavigationproperty';

export type JsonRecord = Record<string, unknown>;

export function etagOf(row: StoredRow): string {
  return `W/"${String(row.versionnumber ?? 0)}"`;
}

/** The columns named by `$select` (property names), or every readable column. */
export function selectedAttributes(
  catalog: Catalog,
  table: TableDef,
  select: string[] | undefined,
): AttributeDef[] {
  if (!select) return table.attributes.filter((a) => a.readable);
  const chosen: AttributeDef[] = [];
  for (const name of select) {
    const attribute = catalog.property(table, name);
    if (!attribute || !attribute.readable) throw propertyNotFound(name, table.logicalName);
    if (!chosen.includes(attribute)) chosen.push(attribute);
  }
  return chosen;
}

export class Representer {
  constructor(
    private readonly catalog: Catalog,
    private readonly store: Store,
  ) {}

  record(table: TableDef, row: StoredRow, attributes: AttributeDef[], preferences: Preferences): JsonRecord {
    const json: JsonRecord = { '@odata.etag': etagOf(row) };
    const formatted = wantsAnnotation(preferences, FORMATTED);
    const lookupName = wantsAnnotation(preferences, LOOKUP_NAME);
    const navigation = wantsAnnotation(preferences, NAVIGATION);
    const columns = attributes.some((a) => a.logicalName === table.primaryIdAttribute)
      ? attributes
      : [...attributes, ...table.attributes.filter((a) => a.logicalName === table.primaryIdAttribute)];
    for (const attribute of columns) {
      const name = propertyName(attribute);
      const value = row[attribute.logicalName] ?? null;
      if (attribute.type === 'Lookup' && value !== null) {
        const targetName = String(
          row[lookupTypeColumn(attribute.logicalName)] ?? attribute.targets?.[0]?.entity ?? '',
        );
        const target = attribute.targets?.find((t) => t.entity === targetName);
        if (formatted) {
          const label = this.primaryName(targetName, String(value));
          if (label !== undefined) json[`${name}@${FORMATTED}`] = label;
        }
        if (navigation && target) json[`${name}@${NAVIGATION}`] = target.navigationProperty;
        if (lookupName) json[`${name}@${LOOKUP_NAME}`] = targetName;
      } else if (formatted) {
        const label = formattedValue(attribute, value);
        if (label !== undefined) json[`${name}@${FORMATTED}`] = label;
      }
      json[name] = fromStorage(attribute, value);
    }
    return json;
  }

  private primaryName(logicalName: string, id: string): string | undefined {
    const table = this.catalog.table(logicalName);
    if (!table) return undefined;
    const row = this.store.get(table, id);
    const name = row?.[table.primaryNameAttribute];
    return name === null || name === undefined ? undefined : String(name);
  }
}
