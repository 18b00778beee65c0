/**
 * Table definitions as the Web API's EntityDefinitions resource returns them: EntityMetadata with
 * LogicalName, EntitySetName, PrimaryIdAttribute, PrimaryNameAttribute, ObjectTypeCode, DisplayName,
 * and, on request ($expand or a sub-path), Attributes (typed AttributeMetadata) and Keys
 * (EntityKeyMetadata) and ManyToOneRelationships (the lookups, with their navigation properties);
 * typed attributes carry RequiredLevel, MaxLength, MinValue/MaxValue and Targets, and choice columns
 * their OptionSet through a type cast (`Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata
 * ?$expand=OptionSet`), as the Web API serves them. $select, $filter and $expand work on these in
 * memory. Read-only: metadata cannot be changed through the simulator.
 */
import { propertyNotFound, segmentNotFound, uriError } from './errors';
import { stableId } from './ids';
import { parseFilter, type FilterExpr, type Literal, type Operand } from './odata/filter';
import type { KeySpec } from './odata/path';
import type { Catalog } from './schema/catalog';
import { NUMERIC_TYPES, type AttributeDef, type KeyDef, type TableDef } from './schema/types';

export type MetadataObject = Record<string, unknown>;

function label(text: string): MetadataObject {
  const localized = {
    Label: text,
    LanguageCode: 1033,
    IsManaged: true,
    MetadataId: stableId(`label:${text}`),
    HasChanged: null,
  };
  return { LocalizedLabels: [localized], UserLocalizedLabel: localized };
}

function schemaName(logicalName: string): string {
  return logicalName
    .split('_')
    .map((part, i) =>
      i === 0 && logicalName.includes('_') ? part : part.charAt(0).toUpperCase() + part.slice(1),
    )
    .join('_');
}

const METADATA_TYPES: Record<AttributeDef['type'], [string, string]> = {
  String: ['String', 'StringAttributeMetadata'],
  Memo: ['Memo', 'MemoAttributeMetadata'],
  Integer: ['Integer', 'IntegerAttributeMetadata'],
  BigInt: ['BigInt', 'BigIntAttributeMetadata'],
  Decimal: ['Decimal', 'DecimalAttributeMetadata'],
  Double: ['Double', 'DoubleAttributeMetadata'],
  Money: ['Money', 'MoneyAttributeMetadata'],
  Boolean: ['Boolean', 'BooleanAttributeMetadata'],
  DateTime: ['DateTime', 'DateTimeAttributeMetadata'],
  DateOnly: ['DateTime', 'DateTimeAttributeMetadata'],
  Uniqueidentifier: ['Uniqueidentifier', 'UniqueIdentifierAttributeMetadata'],
  Lookup: ['Lookup', 'LookupAttributeMetadata'],
  Picklist: ['Picklist', 'PicklistAttributeMetadata'],
  State: ['State', 'StateAttributeMetadata'],
  Status: ['Status', 'StatusAttributeMetadata'],
};

/** The full names of the attribute metadata types, as a cast segment names them. */
export const ATTRIBUTE_METADATA_TYPES: readonly string[] = [
  ...new Set(Object.values(METADATA_TYPES).map(([, odataType]) => `Microsoft.Dynamics.CRM.${odataType}`)),
];

export function attributeMetadata(table: TableDef, attribute: AttributeDef): MetadataObject {
  const [attributeType, odataType] = METADATA_TYPES[attribute.type];
  const metadata: MetadataObject = {
    '@odata.type': `#Microsoft.Dynamics.CRM.${odataType}`,
    MetadataId: stableId(`attribute:${table.logicalName}.${attribute.logicalName}`),
    LogicalName: attribute.logicalName,
    SchemaName: schemaName(attribute.logicalName),
    EntityLogicalName: table.logicalName,
    AttributeType: attributeType,
    AttributeTypeName: { Value: `${attributeType}Type` },
    DisplayName: label(attribute.displayName),
    IsPrimaryId: attribute.logicalName === table.primaryIdAttribute,
    IsPrimaryName: attribute.logicalName === table.primaryNameAttribute,
    IsValidForCreate: attribute.validForCreate,
    IsValidForUpdate: attribute.validForUpdate,
    IsValidForRead: attribute.readable,
    IsCustomAttribute: attribute.logicalName.includes('_') && table.isCustomEntity,
    RequiredLevel: {
      Value: attribute.requiredLevel,
      CanBeChanged: attribute.requiredLevel !== 'SystemRequired',
      ManagedPropertyLogicalName: 'canmodifyrequirementlevelsettings',
    },
  };
  if (NUMERIC_TYPES.includes(attribute.type)) {
    metadata.MinValue = attribute.minValue ?? null;
    metadata.MaxValue = attribute.maxValue ?? null;
  }
  if (attribute.maxLength !== undefined && (attribute.type === 'String' || attribute.type === 'Memo')) {
    metadata.MaxLength = attribute.maxLength;
  }
  if (attribute.type === 'DateOnly') metadata.Format = 'DateOnly';
  if (attribute.targets) metadata.Targets = attribute.targets.map((t) => t.entity);
  return metadata;
}

/** The types whose metadata has an OptionSet navigation property. */
const OPTION_SET_TYPES: Partial<Record<AttributeDef['type'], string>> = {
  Picklist: 'Picklist',
  State: 'State',
  Status: 'Status',
};

/** A choice column's OptionSet (a local option set), or undefined for other columns. */
export function optionSetMetadata(table: TableDef, attribute: AttributeDef): MetadataObject | undefined {
  const type = OPTION_SET_TYPES[attribute.type];
  if (!type) return undefined;
  return {
    MetadataId: stableId(`optionset:${table.logicalName}.${attribute.logicalName}`),
    Name: `${table.logicalName}_${attribute.logicalName}`,
    IsGlobal: false,
    OptionSetType: type,
    Options: (attribute.options ?? []).map((o) => ({ Value: o.value, Label: label(o.label) })),
  };
}

/** The N:1 relationships of a table: one per lookup target, naming its navigation property. */
export function manyToOneMetadata(catalog: Catalog, table: TableDef): MetadataObject[] {
  return table.attributes.flatMap((attribute) =>
    (attribute.targets ?? []).map((target) => ({
      MetadataId: stableId(`relationship:${table.logicalName}.${target.navigationProperty}`),
      SchemaName: `${target.entity}_${table.logicalName}_${target.navigationProperty}`,
      RelationshipType: 'OneToManyRelationship',
      ReferencedEntity: target.entity,
      ReferencedAttribute: catalog.table(target.entity)?.primaryIdAttribute ?? `${target.entity}id`,
      ReferencingEntity: table.logicalName,
      ReferencingAttribute: attribute.logicalName,
      ReferencingEntityNavigationPropertyName: target.navigationProperty,
      // Only the delete behaviour is simulated, so only it is described.
      CascadeConfiguration: { Delete: target.cascadeDelete ?? 'RemoveLink' },
    })),
  );
}

export function keyMetadata(table: TableDef, key: KeyDef): MetadataObject {
  return {
    MetadataId: stableId(`key:${table.logicalName}.${key.logicalName}`),
    LogicalName: key.logicalName,
    SchemaName: schemaName(key.logicalName),
    EntityLogicalName: table.logicalName,
    KeyAttributes: [...key.attributes],
    EntityKeyIndexStatus: 'Active',
    DisplayName: label(key.logicalName),
  };
}

export function entityMetadata(table: TableDef): MetadataObject {
  return {
    MetadataId: table.metadataId,
    LogicalName: table.logicalName,
    SchemaName: schemaName(table.logicalName),
    EntitySetName: table.entitySetName,
    LogicalCollectionName: table.entitySetName,
    CollectionSchemaName: schemaName(table.entitySetName),
    PrimaryIdAttribute: table.primaryIdAttribute,
    PrimaryNameAttribute: table.primaryNameAttribute,
    ObjectTypeCode: table.objectTypeCode,
    IsCustomEntity: table.isCustomEntity,
    IsActivity: table.primaryIdAttribute === 'activityid',
    OwnershipType: 'UserOwned',
    DisplayName: label(table.displayName),
  };
}

/** Which table an EntityDefinitions key names: `(LogicalName='contact')` or `(<MetadataId>)`. */
export function tableForKey(catalog: Catalog, key: KeySpec, segment: string): TableDef {
  const table =
    key.kind === 'id'
      ? catalog.tables.find((t) => t.metadataId === key.id)
      : key.values.size === 1 && typeof key.values.get('LogicalName') === 'string'
        ? catalog.table(String(key.values.get('LogicalName')))
        : undefined;
  if (!table) throw segmentNotFound(segment);
  return table;
}

function literalValue(literal: Literal): unknown {
  return literal.type === 'null' ? null : literal.value;
}

function operandValue(object: MetadataObject, operand: Operand): unknown {
  if (operand.kind === 'literal') return literalValue(operand);
  if (!(operand.name in object)) throw propertyNotFound(operand.name, 'EntityMetadata');
  return object[operand.name];
}

/** Evaluates a parsed $filter against one metadata object. */
export function matchesFilter(object: MetadataObject, expr: FilterExpr): boolean {
  switch (expr.kind) {
    case 'and':
      return matchesFilter(object, expr.left) && matchesFilter(object, expr.right);
    case 'or':
      return matchesFilter(object, expr.left) || matchesFilter(object, expr.right);
    case 'not':
      return !matchesFilter(object, expr.operand);
    case 'booleanProperty':
      return operandValue(object, expr.property) === true;
    case 'function': {
      const value = operandValue(object, expr.property);
      const needle = String(literalValue(expr.value));
      if (typeof value !== 'string') return false;
      if (expr.name === 'contains') return value.includes(needle);
      return expr.name === 'startswith' ? value.startsWith(needle) : value.endsWith(needle);
    }
    case 'compare': {
      const left = operandValue(object, expr.left);
      const right = operandValue(object, expr.right);
      switch (expr.op) {
        case 'eq':
          return left === right;
        case 'ne':
          return left !== right;
        default: {
          if (typeof left !== typeof right || (typeof left !== 'number' && typeof left !== 'string'))
            return false;
          const l = left as number | string;
          const r = right as number | string;
          return expr.op === 'gt' ? l > r : expr.op === 'ge' ? l >= r : expr.op === 'lt' ? l < r : l <= r;
        }
      }
    }
  }
}

export function filterObjects(objects: MetadataObject[], filter: string | undefined): MetadataObject[] {
  if (!filter) return objects;
  const expr = parseFilter(filter);
  return objects.filter((o) => matchesFilter(o, expr));
}

export function selectProperties(
  object: MetadataObject,
  select: string[] | undefined,
  keep: string[],
): MetadataObject {
  if (!select) return object;
  const out: MetadataObject = {};
  if (object['@odata.type'] !== undefined) out['@odata.type'] = object['@odata.type'];
  for (const name of [...select, ...keep]) {
    if (!(name in object)) throw propertyNotFound(name, 'EntityMetadata');
    out[name] = object[name];
  }
  return out;
}

export const EXPANDABLE = ['Attributes', 'Keys', 'ManyToOneRelationships'] as const;

export interface ExpandItem<P extends string = (typeof EXPANDABLE)[number]> {
  property: P;
  select?: string[];
}

/** `$expand=Attributes($select=LogicalName),Keys` on EntityDefinitions (or `OptionSet` on a cast). */
export function parseMetadataExpand<P extends string = (typeof EXPANDABLE)[number]>(
  text: string | undefined,
  allowed: readonly P[] = EXPANDABLE as unknown as readonly P[],
  onType = 'EntityMetadata',
): ExpandItem<P>[] {
  if (!text) return [];
  const items: ExpandItem<P>[] = [];
  let depth = 0;
  let current = '';
  const parts: string[] = [];
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  parts.push(current);
  for (const part of parts) {
    const match = /^\s*([A-Za-z]+)\s*(?:\((.*)\))?\s*$/.exec(part);
    if (!match || !(allowed as readonly string[]).includes(match[1]))
      throw uriError(
        `Could not find a property named '${part.trim()}' on type 'Microsoft.Dynamics.CRM.${onType}'.`,
      );
    const options = match[2];
    let select: string[] | undefined;
    if (options) {
      const sel = /^\$select=([^;]*)$/.exec(options.trim());
      if (!sel)
        throw uriError(`The Dataverse simulator supports only $select inside $expand of ${match[1]}.`);
      select = sel[1].split(',').map((s) => s.trim());
    }
    items.push({ property: match[1] as P, select });
  }
  return items;
}
