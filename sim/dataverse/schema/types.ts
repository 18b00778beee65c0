/**
 * The shape of a table definition, as the simulator understands Dataverse's table (entity) metadata:
 * logical name, entity set name, primary id and name columns, typed columns and alternate keys.
 * Pure types and the type-to-OData mapping only; nothing here reads files or touches storage.
 */

export const ATTRIBUTE_TYPES = [
  'String',
  'Memo',
  'Integer',
  'BigInt',
  'Decimal',
  'Double',
  'Money',
  'Boolean',
  'DateTime',
  'DateOnly',
  'Uniqueidentifier',
  'Lookup',
  'Picklist',
  'State',
  'Status',
] as const;

export type AttributeType = (typeof ATTRIBUTE_TYPES)[number];

/**
 * A column's requirement level, as Dataverse's AttributeRequiredLevel names it. The platform itself
 * refuses a write only for SystemRequired; ApplicationRequired is enforced by forms (and by plans).
 */
export const REQUIRED_LEVELS = ['None', 'SystemRequired', 'ApplicationRequired', 'Recommended'] as const;

export type RequiredLevel = (typeof REQUIRED_LEVELS)[number];

/** The column types that carry a MinValue and MaxValue. */
export const NUMERIC_TYPES: readonly AttributeType[] = ['Integer', 'BigInt', 'Decimal', 'Double', 'Money'];

/**
 * What deleting a referenced record does to the records that refer to it (the relationship's
 * CascadeConfiguration.Delete): delete them too (parental), or clear their lookup (referential, the
 * default of a new lookup). Restrict (refuse the delete) is not simulated.
 */
export const CASCADE_DELETE = ['Cascade', 'RemoveLink'] as const;

export type CascadeDelete = (typeof CASCADE_DELETE)[number];

export interface LookupTarget {
  /** Logical name of the referenced table. */
  entity: string;
  /** Single-valued navigation property used with `@odata.bind` (case-sensitive, as in Dataverse). */
  navigationProperty: string;
  /** On delete of the referenced record; default RemoveLink. */
  cascadeDelete?: CascadeDelete;
}

export interface OptionDef {
  value: number;
  label: string;
}

export interface ComputedConcat {
  /** Columns joined, skipping empty ones, to produce a read-only value (e.g. contact fullname). */
  concat: string[];
  separator: string;
}

export interface AttributeDef {
  logicalName: string;
  type: AttributeType;
  displayName: string;
  maxLength?: number;
  /** Smallest and largest value a numeric column accepts (NUMERIC_TYPES only). */
  minValue?: number;
  maxValue?: number;
  requiredLevel: RequiredLevel;
  /** Lookup targets; more than one makes a polymorphic lookup (customer, regarding). */
  targets?: LookupTarget[];
  options?: OptionDef[];
  /** False for write-only columns such as serviceendpoint.authvalue. */
  readable: boolean;
  validForCreate: boolean;
  validForUpdate: boolean;
  /** Set by the platform on every write (createdon, modifiedon, versionnumber...). */
  system: boolean;
  computed?: ComputedConcat;
}

export interface KeyDef {
  logicalName: string;
  attributes: string[];
}

export interface TableDef {
  logicalName: string;
  entitySetName: string;
  primaryIdAttribute: string;
  primaryNameAttribute: string;
  displayName: string;
  objectTypeCode: number;
  /** Deterministic id for EntityDefinitions(MetadataId). */
  metadataId: string;
  isCustomEntity: boolean;
  attributes: AttributeDef[];
  keys: KeyDef[];
}

/** The Edm type name of a column, as the OData parser reports it in errors and metadata. */
export function edmType(type: AttributeType): string {
  switch (type) {
    case 'String':
    case 'Memo':
      return 'Edm.String';
    case 'Integer':
    case 'Picklist':
    case 'State':
    case 'Status':
      return 'Edm.Int32';
    case 'BigInt':
      return 'Edm.Int64';
    case 'Decimal':
    case 'Money':
      return 'Edm.Decimal';
    case 'Double':
      return 'Edm.Double';
    case 'Boolean':
      return 'Edm.Boolean';
    case 'DateTime':
      return 'Edm.DateTimeOffset';
    case 'DateOnly':
      return 'Edm.Date';
    case 'Uniqueidentifier':
    case 'Lookup':
      return 'Edm.Guid';
  }
}

/** The OData property name of a column: lookups are read as `_name_value`. */
export function propertyName(attribute: AttributeDef): string {
  return attribute.type === 'Lookup' ? `_${attribute.logicalName}_value` : attribute.logicalName;
}
