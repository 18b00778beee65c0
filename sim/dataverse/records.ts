/**
 * Record operations with Dataverse's rules: reading a request body into column values (including
 * `@odata.bind` lookups), create with a client-supplied or new id, update, delete, lookup by id or
 * alternate key, duplicate and alternate-key checks, platform columns (createdon, ownerid,
 * versionnumber...) and computed columns (fullname). Every write tells the change listeners what
 * happened (message, target, pre and post row), which is what webhooks are built from. This module
 * never decides HTTP statuses for conditional requests; the handlers do, with the errors it throws.
 */
import {
  DataverseFault,
  duplicateAlternateKey,
  duplicateRecord,
  ErrorCodes,
  payloadError,
  recordNotFound,
  recordNotFoundByKey,
  requiredFieldMissing,
  uriError,
} from './errors';
import { isGuid, newId, normalizeGuid } from './ids';
import { parsePath, type KeySpec, type KeyValue } from './odata/path';
import type { Catalog } from './schema/catalog';
import type { AttributeDef, TableDef } from './schema/types';
import {
  lookupTypeColumn,
  quote,
  type SqlFragment,
  type SqlValue,
  type Store,
  type StoredRow,
} from './store';
import { formatDateTime, toStorage } from './values';

export interface Caller {
  userId: string;
  businessUnitId: string;
}

export interface OperationContext {
  caller: Caller;
  correlationId: string;
  requestId: string;
}

export type ChangeMessage = 'Create' | 'Update' | 'Delete';

export interface ChangeEvent {
  message: ChangeMessage;
  table: TableDef;
  id: string;
  /** The columns the operation wrote (Create/Update), including platform columns. */
  target: StoredRow;
  /** The row before the operation (Update, Delete). */
  pre?: StoredRow;
  /** The row after the operation (Create, Update). */
  post?: StoredRow;
  context: OperationContext;
  /** When the operation happened (epoch ms). */
  at: number;
}

export type ChangeListener = (event: ChangeEvent) => void;

/**
 * Checks (and may complete) a row before it is written: `row` is the whole row after the write,
 * `changes` what will be stored. Throws a DataverseFault to refuse the write.
 */
export type WriteValidator = (table: TableDef, row: StoredRow, changes: StoredRow, creating: boolean) => void;

export class Records {
  private readonly listeners: ChangeListener[] = [];
  private readonly validators: WriteValidator[] = [];

  constructor(
    readonly store: Store,
    readonly catalog: Catalog,
    private readonly now: () => number = Date.now,
  ) {}

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  addValidator(validator: WriteValidator): void {
    this.validators.push(validator);
  }

  private emit(event: ChangeEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  /** Column values from a request body, for create or update; throws Dataverse's payload errors. */
  readBody(table: TableDef, body: unknown, forCreate: boolean, apiBase?: string): StoredRow {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw payloadError(
        table.entitySetName,
        'The request body must be a JSON object describing one record.',
      );
    }
    const values: StoredRow = {};
    for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
      if (key.startsWith('@')) continue;
      if (key.endsWith('@odata.bind')) {
        this.readBind(table, key.slice(0, -'@odata.bind'.length), value, values, apiBase);
        continue;
      }
      if (key.includes('@')) continue; // instance annotations a client echoes back
      const attribute = this.catalog.attribute(table, key);
      if (!attribute) {
        throw payloadError(
          table.entitySetName,
          `Microsoft.OData.ODataException: The property '${key}' does not exist on type ` +
            `'Microsoft.Dynamics.CRM.${table.logicalName}'. Make sure to only use property names that are ` +
            'defined by the type or mark the type as open type.',
        );
      }
      if (value !== null && typeof value === 'object') {
        throw payloadError(
          table.entitySetName,
          `The value of '${key}' is an object or array; the Dataverse simulator does not support deep insert.`,
        );
      }
      const stored = toStorage(table, attribute, value);
      if (!(forCreate ? attribute.validForCreate : attribute.validForUpdate)) continue; // read-only: ignored
      values[attribute.logicalName] = stored;
    }
    return values;
  }

  private readBind(
    table: TableDef,
    navigation: string,
    value: unknown,
    values: StoredRow,
    apiBase?: string,
  ): void {
    const attribute = table.attributes.find((a) =>
      a.targets?.some((t) => t.navigationProperty === navigation),
    );
    const target = attribute?.targets?.find((t) => t.navigationProperty === navigation);
    if (!attribute || !target) {
      throw payloadError(
        table.entitySetName,
        `An undeclared property '${navigation}' which only has property annotations in the payload but no property ` +
          'value was found in the payload.',
      );
    }
    if (value === null) {
      values[attribute.logicalName] = null;
      values[lookupTypeColumn(attribute.logicalName)] = null;
      return;
    }
    if (typeof value !== 'string') {
      throw payloadError(
        table.entitySetName,
        `The value of '${navigation}@odata.bind' must be a URL string.`,
      );
    }
    const targetTable = this.catalog.require(target.entity);
    let reference = value;
    const api = /\/api\/data\/v9\.\d+\//.exec(reference);
    if (api) reference = reference.slice(api.index + api[0].length);
    else if (apiBase && reference.startsWith(apiBase)) reference = reference.slice(apiBase.length);
    let decoded: string;
    try {
      decoded = decodeURIComponent(reference);
    } catch {
      throw payloadError(table.entitySetName, `'${value}' is not a correctly percent-encoded URL.`);
    }
    const segments = parsePath(decoded);
    const segment = segments[0];
    if (segments.length !== 1 || !segment.key || segment.name !== targetTable.entitySetName) {
      throw payloadError(
        table.entitySetName,
        `'${value}' is not a reference to a ${targetTable.logicalName} record (${targetTable.entitySetName}(id)).`,
      );
    }
    const row = this.find(targetTable, segment.key);
    if (!row) throw this.notFound(targetTable, segment.key);
    values[attribute.logicalName] = row[targetTable.primaryIdAttribute];
    values[lookupTypeColumn(attribute.logicalName)] = targetTable.logicalName;
  }

  notFound(table: TableDef, key: KeySpec): DataverseFault {
    return key.kind === 'id'
      ? recordNotFound(table.logicalName, key.id)
      : recordNotFoundByKey(table.logicalName, key.text);
  }

  /** The stored values of an alternate key, checked against the table's keys. */
  keyValues(table: TableDef, values: Map<string, KeyValue>): StoredRow {
    const names = [...values.keys()];
    const defined = table.keys.find(
      (k) => k.attributes.length === names.length && k.attributes.every((a) => values.has(a)),
    );
    if (!defined) {
      throw new DataverseFault(
        400,
        ErrorCodes.entityKeyNotDefined,
        `The specified key attributes are not a defined key for the ${table.logicalName} entity`,
      );
    }
    const stored: StoredRow = {};
    for (const name of names) {
      const attribute = this.catalog.attribute(table, name) as AttributeDef;
      const value = values.get(name) ?? null;
      if (attribute.type === 'Lookup') {
        // A lookup in a key segment is written as the referenced record's GUID.
        if (typeof value !== 'string' || !isGuid(value))
          throw uriError(`The key value of lookup '${name}' must be a GUID.`);
        stored[name] = normalizeGuid(value);
      } else {
        try {
          stored[name] = toStorage(table, attribute, value);
        } catch {
          throw uriError(
            `The key value '${String(value)}' does not fit column '${name}' (${attribute.type}).`,
          );
        }
      }
    }
    return stored;
  }

  /** The row a key names, or undefined. Throws for a key that is not the primary id or an alternate key. */
  find(table: TableDef, key: KeySpec): StoredRow | undefined {
    if (key.kind === 'id') return this.store.get(table, key.id);
    const id = key.values.get(table.primaryIdAttribute);
    if (key.values.size === 1 && typeof id === 'string' && isGuid(id))
      return this.store.get(table, normalizeGuid(id));
    return this.store.findBy(table, this.keyValues(table, key.values));
  }

  get(table: TableDef, id: string): StoredRow | undefined {
    return this.store.get(table, id);
  }

  query(table: TableDef, where: SqlFragment, orderBy: string[], limit: number, offset: number): StoredRow[] {
    return this.store.select(table, where, orderBy, limit, offset);
  }

  count(table: TableDef, where: SqlFragment): number {
    return this.store.count(table, where);
  }

  private computeColumns(table: TableDef, row: StoredRow): void {
    for (const attribute of table.attributes) {
      if (!attribute.computed) continue;
      const parts = attribute.computed.concat
        .map((c) => row[c])
        .filter((v) => v !== null && v !== undefined && v !== '');
      row[attribute.logicalName] = parts.length ? parts.join(attribute.computed.separator) : null;
    }
  }

  private checkAlternateKeys(table: TableDef, row: StoredRow, id: string): void {
    for (const key of table.keys) {
      const values: StoredRow = {};
      for (const column of key.attributes) values[column] = row[column] ?? null;
      if (Object.values(values).some((v) => v === null)) continue;
      const existing = this.store.findBy(table, values);
      if (existing && existing[table.primaryIdAttribute] !== id)
        throw duplicateAlternateKey(key.logicalName, key.attributes);
    }
  }

  /**
   * SystemRequired columns must hold a value after a write (the platform has filled its own by then);
   * ApplicationRequired ones are not checked, as Dataverse leaves them to forms.
   */
  private checkRequired(table: TableDef, row: StoredRow, only?: StoredRow): void {
    for (const attribute of table.attributes) {
      if (attribute.requiredLevel !== 'SystemRequired' || attribute.logicalName === table.primaryIdAttribute)
        continue;
      // An update answers only for the columns it writes: rows the platform made keep what they have.
      if (only && !(attribute.logicalName in only)) continue;
      const value = row[attribute.logicalName];
      if (value === null || value === undefined || value === '')
        throw requiredFieldMissing(table.logicalName, attribute.logicalName);
    }
  }

  private has(table: TableDef, column: string): boolean {
    return table.attributes.some((a) => a.logicalName === column);
  }

  private stamp(
    table: TableDef,
    row: StoredRow,
    creating: boolean,
    context: OperationContext,
    now: number,
  ): void {
    const set = (column: string, value: SqlValue): void => {
      if (this.has(table, column)) row[column] = value;
    };
    const user = (column: string): void => {
      if (!this.has(table, column)) return;
      row[column] = context.caller.userId;
      row[lookupTypeColumn(column)] = 'systemuser';
    };
    set('modifiedon', formatDateTime(now));
    user('modifiedby');
    set('versionnumber', this.store.nextVersion());
    if (!creating) return;
    set('createdon', formatDateTime(now));
    user('createdby');
    if (row.ownerid === undefined || row.ownerid === null) user('ownerid');
    const state = table.attributes.find((a) => a.logicalName === 'statecode');
    if (state && (row.statecode === undefined || row.statecode === null))
      row.statecode = state.options?.[0]?.value ?? 0;
    const status = table.attributes.find((a) => a.logicalName === 'statuscode');
    if (status && (row.statuscode === undefined || row.statuscode === null))
      row.statuscode = status.options?.[0]?.value ?? 1;
  }

  create(table: TableDef, values: StoredRow, context: OperationContext): StoredRow {
    const now = this.now();
    const row = this.store.transaction(() => {
      const given = values[table.primaryIdAttribute];
      const id = typeof given === 'string' ? given : newId();
      if (this.store.get(table, id)) throw duplicateRecord();
      const full: StoredRow = { ...values, [table.primaryIdAttribute]: id };
      this.computeColumns(table, full);
      for (const validate of this.validators) validate(table, full, full, true);
      this.checkAlternateKeys(table, full, id);
      this.stamp(table, full, true, context, now);
      this.checkRequired(table, full);
      this.store.insert(table, full);
      return this.store.get(table, id) as StoredRow;
    });
    const id = String(row[table.primaryIdAttribute]);
    const target: StoredRow = {};
    for (const [column, value] of Object.entries(row))
      if (value !== null && !column.startsWith('__seq')) target[column] = value;
    this.emit({ message: 'Create', table, id, target, post: row, context, at: now });
    return row;
  }

  update(table: TableDef, existing: StoredRow, values: StoredRow, context: OperationContext): StoredRow {
    const now = this.now();
    const id = String(existing[table.primaryIdAttribute]);
    const changes: StoredRow = { ...values };
    delete changes[table.primaryIdAttribute];
    const row = this.store.transaction(() => {
      const merged: StoredRow = { ...existing, ...changes };
      this.computeColumns(table, merged);
      for (const attribute of table.attributes) {
        if (attribute.computed && merged[attribute.logicalName] !== existing[attribute.logicalName]) {
          changes[attribute.logicalName] = merged[attribute.logicalName];
        }
      }
      for (const validate of this.validators) validate(table, merged, changes, false);
      Object.assign(merged, changes);
      this.checkRequired(table, merged, changes);
      this.checkAlternateKeys(table, merged, id);
      this.stamp(table, changes, false, context, now);
      this.store.update(table, id, changes);
      return this.store.get(table, id) as StoredRow;
    });
    const target: StoredRow = { ...changes, [table.primaryIdAttribute]: id };
    this.emit({ message: 'Update', table, id, target, pre: existing, post: row, context, at: now });
    return row;
  }

  /**
   * Deletes a record and, as Dataverse does within the same transaction, applies each relationship's
   * delete behaviour to the records that refer to it: deletes them too (Cascade, and so on down) or
   * clears their lookup (RemoveLink, which is an update of theirs: a new versionnumber and etag).
   */
  delete(table: TableDef, existing: StoredRow, context: OperationContext): void {
    const now = this.now();
    const events: ChangeEvent[] = [];
    this.store.transaction(() => this.deleteWithCascade(table, existing, context, now, events));
    for (const event of events) this.emit(event);
  }

  private deleteWithCascade(
    table: TableDef,
    existing: StoredRow,
    context: OperationContext,
    now: number,
    events: ChangeEvent[],
  ): void {
    const id = String(existing[table.primaryIdAttribute]);
    // Removed first, so a cycle of references ends here instead of coming back to it.
    if (!this.store.delete(table, id)) return;
    const target = { [table.primaryIdAttribute]: id };
    events.push({ message: 'Delete', table, id, target, pre: existing, context, at: now });
    for (const referring of this.catalog.tables)
      for (const attribute of referring.attributes)
        for (const lookup of attribute.targets ?? []) {
          if (lookup.entity !== table.logicalName) continue;
          const column = attribute.logicalName;
          const where: SqlFragment = {
            sql: `${quote(column)} = ? AND ${quote(lookupTypeColumn(column))} = ?`,
            params: [id, table.logicalName],
          };
          for (const row of this.store.select(referring, where, [], -1, 0)) {
            if (lookup.cascadeDelete === 'Cascade') {
              this.deleteWithCascade(referring, row, context, now, events);
              continue;
            }
            const rowId = String(row[referring.primaryIdAttribute]);
            const changes: StoredRow = { [column]: null, [lookupTypeColumn(column)]: null };
            this.stamp(referring, changes, false, context, now);
            this.store.update(referring, rowId, changes);
            const post = this.store.get(referring, rowId) as StoredRow;
            const written = { ...changes, [referring.primaryIdAttribute]: rowId };
            events.push({
              message: 'Update',
              table: referring,
              id: rowId,
              target: written,
              pre: row,
              post,
              context,
              at: now,
            });
          }
        }
  }
}
