/**
 * Storage for the simulator: one SQLite table per Dataverse table (in memory or in a file), one
 * column per Dataverse column, plus a row version counter for etags. Callers hand in values already
 * converted to storage form and SQL fragments whose user values are all bound parameters; this module
 * only ever interpolates identifiers that the schema validated. It knows nothing about HTTP or OData.
 */
import Database from 'better-sqlite3';
import type { Catalog } from './schema/catalog';
import type { AttributeType, TableDef } from './schema/types';

export type SqlValue = string | number | null;
/** A row in storage form, keyed by column logical name (plus the hidden `__type_<lookup>` columns). */
export type StoredRow = Record<string, SqlValue>;

export interface SqlFragment {
  sql: string;
  params: SqlValue[];
}

/** Hidden column holding the logical name of a polymorphic lookup's target. */
export function lookupTypeColumn(attribute: string): string {
  return `__type_${attribute}`;
}

/** Creation order, used as the stable default order of query results. */
const SEQ = '__seq';

export function quote(identifier: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(identifier)) throw new Error(`unsafe SQL identifier '${identifier}'`);
  return `"${identifier}"`;
}

export function sqlTable(table: TableDef): string {
  return quote(`e_${table.logicalName}`);
}

function columnType(type: AttributeType): string {
  switch (type) {
    case 'String':
    case 'Memo':
    case 'Uniqueidentifier':
    case 'Lookup':
      // Dataverse compares text case-insensitively (its SQL collation); so do we.
      return 'TEXT COLLATE NOCASE';
    case 'DateTime':
    case 'DateOnly':
      return 'TEXT';
    case 'Decimal':
    case 'Double':
    case 'Money':
      return 'REAL';
    case 'Integer':
    case 'BigInt':
    case 'Boolean':
    case 'Picklist':
    case 'State':
    case 'Status':
      return 'INTEGER';
  }
}

function columnsOf(table: TableDef): [string, string][] {
  const columns: [string, string][] = [];
  for (const attribute of table.attributes) {
    const primary = attribute.logicalName === table.primaryIdAttribute;
    columns.push([attribute.logicalName, `${columnType(attribute.type)}${primary ? ' PRIMARY KEY' : ''}`]);
    if (attribute.type === 'Lookup') columns.push([lookupTypeColumn(attribute.logicalName), 'TEXT']);
  }
  columns.push([SEQ, 'INTEGER NOT NULL']);
  return columns;
}

export class Store {
  private readonly db: Database.Database;
  private seq = 0;

  constructor(catalog: Catalog, file?: string) {
    this.db = new Database(file ?? ':memory:');
    this.db.pragma('journal_mode = WAL');
    this.db.exec('CREATE TABLE IF NOT EXISTS sim_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    for (const table of catalog.tables) this.ensureTable(table);
    this.seq = Math.max(0, ...catalog.tables.map((t) => this.maxSeq(t)));
  }

  private ensureTable(table: TableDef): void {
    const name = sqlTable(table);
    const wanted = columnsOf(table);
    this.db.exec(
      `CREATE TABLE IF NOT EXISTS ${name} (${wanted.map(([c, t]) => `${quote(c)} ${t}`).join(', ')})`,
    );
    // A data file written by an older schema gains the new columns; nothing is ever dropped.
    const existing = new Set(
      (this.db.prepare(`PRAGMA table_info(${name})`).all() as { name: string }[]).map((c) => c.name),
    );
    for (const [column, type] of wanted) {
      if (!existing.has(column)) {
        const plain = type.replace(' PRIMARY KEY', '').replace(' NOT NULL', '');
        this.db.exec(
          `ALTER TABLE ${name} ADD COLUMN ${quote(column)} ${plain}${column === SEQ ? ' DEFAULT 0' : ''}`,
        );
      }
    }
    for (const key of table.keys) {
      const columns = key.attributes.map(quote);
      this.db.exec(
        `CREATE UNIQUE INDEX IF NOT EXISTS ${quote(`k_${table.logicalName}_${key.logicalName}`)} ON ${name} ` +
          `(${columns.join(', ')}) WHERE ${columns.map((c) => `${c} IS NOT NULL`).join(' AND ')}`,
      );
    }
  }

  private maxSeq(table: TableDef): number {
    const row = this.db.prepare(`SELECT MAX(${quote(SEQ)}) AS m FROM ${sqlTable(table)}`).get() as {
      m: number | null;
    };
    return row.m ?? 0;
  }

  /** The next row version: one counter for the whole organization, as Dataverse's rowversion is. */
  nextVersion(): number {
    const row = this.db.prepare("SELECT value FROM sim_meta WHERE key = 'version'").get() as
      { value: string } | undefined;
    const next = (row ? Number(row.value) : 1000) + 1;
    this.db.prepare("INSERT OR REPLACE INTO sim_meta (key, value) VALUES ('version', ?)").run(String(next));
    return next;
  }

  get(table: TableDef, id: string): StoredRow | undefined {
    return this.db
      .prepare(`SELECT * FROM ${sqlTable(table)} WHERE ${quote(table.primaryIdAttribute)} = ?`)
      .get(id) as StoredRow | undefined;
  }

  /** The row whose columns equal the given values (an alternate key lookup). */
  findBy(table: TableDef, values: StoredRow): StoredRow | undefined {
    const columns = Object.keys(values);
    if (columns.length === 0) return undefined;
    const where = columns.map((c) => `${quote(c)} = ?`).join(' AND ');
    return this.db
      .prepare(`SELECT * FROM ${sqlTable(table)} WHERE ${where} LIMIT 1`)
      .get(...columns.map((c) => values[c])) as StoredRow | undefined;
  }

  insert(table: TableDef, row: StoredRow): void {
    const full: StoredRow = { ...row, [SEQ]: ++this.seq };
    const columns = Object.keys(full);
    this.db
      .prepare(
        `INSERT INTO ${sqlTable(table)} (${columns.map(quote).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
      )
      .run(...columns.map((c) => full[c]));
  }

  update(table: TableDef, id: string, changes: StoredRow): void {
    const columns = Object.keys(changes);
    if (columns.length === 0) return;
    this.db
      .prepare(
        `UPDATE ${sqlTable(table)} SET ${columns.map((c) => `${quote(c)} = ?`).join(', ')} ` +
          `WHERE ${quote(table.primaryIdAttribute)} = ?`,
      )
      .run(...columns.map((c) => changes[c]), id);
  }

  delete(table: TableDef, id: string): boolean {
    const result = this.db
      .prepare(`DELETE FROM ${sqlTable(table)} WHERE ${quote(table.primaryIdAttribute)} = ?`)
      .run(id);
    return result.changes > 0;
  }

  /** Rows matching `where`, in `orderBy` order then creation order. */
  select(table: TableDef, where: SqlFragment, orderBy: string[], limit: number, offset: number): StoredRow[] {
    const order = [...orderBy, `${quote(SEQ)} ASC`].join(', ');
    return this.db
      .prepare(`SELECT * FROM ${sqlTable(table)} WHERE ${where.sql} ORDER BY ${order} LIMIT ? OFFSET ?`)
      .all(...where.params, limit, offset) as StoredRow[];
  }

  count(table: TableDef, where: SqlFragment): number {
    const row = this.db
      .prepare(`SELECT COUNT(*) AS n FROM ${sqlTable(table)} WHERE ${where.sql}`)
      .get(...where.params) as {
      n: number;
    };
    return row.n;
  }

  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  close(): void {
    this.db.close();
  }
}
