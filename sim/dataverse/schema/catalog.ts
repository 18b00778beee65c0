/**
 * The set of tables one simulator serves: built-in platform and business tables, plus tables from a
 * schema file (which replace a built-in table of the same logical name). Answers "which table is
 * this entity set / logical name" and "which column is this property" for every other module. It
 * checks that lookups point at tables that exist; it must never change after construction.
 */
import { businessTables } from './businessTables';
import { defineTable, SchemaError, type TableInput } from './define';
import { systemTables } from './systemTables';
import { propertyName, type AttributeDef, type TableDef } from './types';

export class Catalog {
  private readonly byLogicalName = new Map<string, TableDef>();
  private readonly bySetName = new Map<string, TableDef>();
  private readonly byProperty = new Map<string, Map<string, AttributeDef>>();

  constructor(readonly tables: readonly TableDef[]) {
    for (const table of tables) {
      if (this.byLogicalName.has(table.logicalName)) {
        throw new SchemaError(`table '${table.logicalName}' is defined twice`);
      }
      if (this.bySetName.has(table.entitySetName)) {
        throw new SchemaError(`entity set '${table.entitySetName}' is used by two tables`);
      }
      this.byLogicalName.set(table.logicalName, table);
      this.bySetName.set(table.entitySetName, table);
      this.byProperty.set(table.logicalName, new Map(table.attributes.map((a) => [propertyName(a), a])));
    }
    for (const table of tables) {
      for (const attribute of table.attributes) {
        for (const target of attribute.targets ?? []) {
          if (!this.byLogicalName.has(target.entity)) {
            throw new SchemaError(
              `${table.logicalName}.${attribute.logicalName} looks up '${target.entity}', which is no table`,
            );
          }
        }
      }
    }
  }

  table(logicalName: string): TableDef | undefined {
    return this.byLogicalName.get(logicalName);
  }

  /** Like table(), for names the simulator itself uses: a missing table is a programming error. */
  require(logicalName: string): TableDef {
    const table = this.byLogicalName.get(logicalName);
    if (!table) throw new Error(`built-in table '${logicalName}' is missing from the catalog`);
    return table;
  }

  tableBySet(entitySetName: string): TableDef | undefined {
    return this.bySetName.get(entitySetName);
  }

  /** A column by its OData property name (`name`, `_parentcustomerid_value`). */
  property(table: TableDef, name: string): AttributeDef | undefined {
    return this.byProperty.get(table.logicalName)?.get(name);
  }

  /** A column by its logical name. */
  attribute(table: TableDef, logicalName: string): AttributeDef | undefined {
    return table.attributes.find((a) => a.logicalName === logicalName);
  }
}

/** Built-in tables plus extra ones; an extra table replaces a built-in one of the same logical name. */
export function buildCatalog(extra: readonly TableInput[] = []): Catalog {
  const inputs = new Map<string, TableInput>();
  for (const input of [...systemTables, ...businessTables, ...extra]) inputs.set(input.logicalName, input);
  return new Catalog([...inputs.values()].map((input, index) => defineTable(input, index)));
}
