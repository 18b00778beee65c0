/**
 * Turns a table definition written by hand (built-in tables or a schema JSON file) into a complete
 * TableDef: checks every name and type, adds the primary id column and the columns the platform
 * maintains on every table (createdon, modifiedon, createdby, modifiedby, ownerid, statecode,
 * statuscode, versionnumber). It validates the untyped file input here, so nothing downstream ever
 * sees an unchecked definition. It must never read files itself (see load.ts).
 */
import { stableId } from '../ids';
import {
  ATTRIBUTE_TYPES,
  CASCADE_DELETE,
  NUMERIC_TYPES,
  REQUIRED_LEVELS,
  type AttributeDef,
  type AttributeType,
  type KeyDef,
  type LookupTarget,
  type OptionDef,
  type RequiredLevel,
  type TableDef,
} from './types';

export class SchemaError extends Error {
  readonly code = 'SCHEMA_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'SchemaError';
  }
}

export interface AttributeInput {
  logicalName: string;
  type: AttributeType;
  displayName?: string;
  maxLength?: number;
  /** Numeric columns: the accepted range (defaults: the type's whole range, as Dataverse's defaults). */
  minValue?: number;
  maxValue?: number;
  /** Default None; the primary id and the owner and status columns are SystemRequired. */
  requiredLevel?: RequiredLevel;
  /** Lookup targets; `target` is a shorthand for one target whose navigation property is the column name. */
  targets?: LookupTarget[];
  target?: string;
  options?: OptionDef[];
  readable?: boolean;
  validForCreate?: boolean;
  validForUpdate?: boolean;
  computed?: { concat: string[]; separator?: string };
}

export interface TableInput {
  logicalName: string;
  entitySetName: string;
  primaryIdAttribute?: string;
  primaryNameAttribute: string;
  displayName?: string;
  objectTypeCode?: number;
  isCustomEntity?: boolean;
  attributes: AttributeInput[];
  keys?: KeyDef[];
}

const NAME = /^[a-z][a-z0-9_]*$/;
const SET_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const NAV_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

const optionSet = (labels: [number, string][]): OptionDef[] =>
  labels.map(([value, label]) => ({ value, label }));

function systemAttributes(): AttributeInput[] {
  const user = (logicalName: string, displayName: string): AttributeInput => ({
    logicalName,
    displayName,
    type: 'Lookup',
    targets: [{ entity: 'systemuser', navigationProperty: logicalName }],
  });
  return [
    { logicalName: 'createdon', displayName: 'Created On', type: 'DateTime' },
    { logicalName: 'modifiedon', displayName: 'Modified On', type: 'DateTime' },
    user('createdby', 'Created By'),
    user('modifiedby', 'Modified By'),
    {
      logicalName: 'ownerid',
      displayName: 'Owner',
      type: 'Lookup',
      targets: [{ entity: 'systemuser', navigationProperty: 'ownerid' }],
    },
    {
      logicalName: 'statecode',
      displayName: 'Status',
      type: 'State',
      options: optionSet([
        [0, 'Active'],
        [1, 'Inactive'],
      ]),
    },
    {
      logicalName: 'statuscode',
      displayName: 'Status Reason',
      type: 'Status',
      options: optionSet([
        [1, 'Active'],
        [2, 'Inactive'],
      ]),
    },
    { logicalName: 'versionnumber', displayName: 'Version Number', type: 'BigInt' },
  ];
}

/** Platform-maintained columns: the caller may never set them. */
const SYSTEM_MAINTAINED = new Set(['createdon', 'modifiedon', 'createdby', 'modifiedby', 'versionnumber']);

/** Columns every table requires; the platform fills them on create when the caller does not. */
const SYSTEM_REQUIRED = new Set(['ownerid', 'statecode', 'statuscode']);

/**
 * A numeric type's default range, as Dataverse's column defaults. BigInt stops at what a JSON number
 * carries exactly, since clients and this simulator read numbers as doubles.
 */
const DEFAULT_RANGES: Partial<Record<AttributeType, [number, number]>> = {
  Integer: [-2_147_483_648, 2_147_483_647],
  BigInt: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  Decimal: [-100_000_000_000, 100_000_000_000],
  Double: [-100_000_000_000, 100_000_000_000],
  Money: [-922_337_203_685_477, 922_337_203_685_477],
};

function fail(where: string, problem: string): never {
  throw new SchemaError(`${where}: ${problem}`);
}

function checkName(where: string, value: unknown, pattern: RegExp = NAME): string {
  if (typeof value !== 'string' || !pattern.test(value)) {
    fail(where, `'${String(value)}' is not a valid name (${pattern.source})`);
  }
  return value;
}

function checkCascade(where: string, target: LookupTarget): LookupTarget['cascadeDelete'] {
  if (!CASCADE_DELETE.includes(target.cascadeDelete as (typeof CASCADE_DELETE)[number]))
    fail(`${where}.cascadeDelete`, `must be one of ${CASCADE_DELETE.join(', ')}`);
  return target.cascadeDelete;
}

function defineAttribute(where: string, input: AttributeInput): AttributeDef {
  const logicalName = checkName(`${where}.logicalName`, input.logicalName);
  if (!ATTRIBUTE_TYPES.includes(input.type)) {
    fail(`${where}.type`, `'${String(input.type)}' is not one of ${ATTRIBUTE_TYPES.join(', ')}`);
  }
  let targets: LookupTarget[] | undefined;
  if (input.type === 'Lookup') {
    const given =
      input.targets ?? (input.target ? [{ entity: input.target, navigationProperty: logicalName }] : []);
    if (!Array.isArray(given) || given.length === 0) fail(where, 'a Lookup needs targets (or target)');
    targets = given.map((t, i) => ({
      entity: checkName(`${where}.targets[${i}].entity`, t.entity),
      navigationProperty: checkName(
        `${where}.targets[${i}].navigationProperty`,
        t.navigationProperty,
        NAV_NAME,
      ),
      ...(t.cascadeDelete === undefined ? {} : { cascadeDelete: checkCascade(`${where}.targets[${i}]`, t) }),
    }));
  }
  let options: OptionDef[] | undefined;
  if (input.options !== undefined) {
    if (!Array.isArray(input.options)) fail(`${where}.options`, 'must be an array of { value, label }');
    options = input.options.map((o, i) => {
      if (!Number.isInteger(o.value) || typeof o.label !== 'string') {
        fail(`${where}.options[${i}]`, 'needs an integer value and a string label');
      }
      return { value: o.value, label: o.label };
    });
  }
  if (input.maxLength !== undefined && !(Number.isInteger(input.maxLength) && input.maxLength > 0)) {
    fail(`${where}.maxLength`, 'must be a positive integer');
  }
  const numeric = NUMERIC_TYPES.includes(input.type);
  for (const bound of ['minValue', 'maxValue'] as const) {
    if (input[bound] === undefined) continue;
    if (!numeric) fail(`${where}.${bound}`, `only ${NUMERIC_TYPES.join(', ')} columns have a range`);
    if (typeof input[bound] !== 'number' || !Number.isFinite(input[bound]))
      fail(`${where}.${bound}`, 'must be a number');
  }
  const range = DEFAULT_RANGES[input.type];
  const minValue = numeric ? (input.minValue ?? range?.[0]) : undefined;
  const maxValue = numeric ? (input.maxValue ?? range?.[1]) : undefined;
  if (minValue !== undefined && maxValue !== undefined && minValue > maxValue)
    fail(where, `minValue ${minValue} is above maxValue ${maxValue}`);
  if (input.requiredLevel !== undefined && !REQUIRED_LEVELS.includes(input.requiredLevel)) {
    fail(
      `${where}.requiredLevel`,
      `'${String(input.requiredLevel)}' is not one of ${REQUIRED_LEVELS.join(', ')}`,
    );
  }
  const system = SYSTEM_MAINTAINED.has(logicalName);
  const computed = input.computed
    ? {
        concat: input.computed.concat.map((c) => checkName(`${where}.computed`, c)),
        separator: input.computed.separator ?? ' ',
      }
    : undefined;
  const writable = !system && !computed;
  return {
    logicalName,
    type: input.type,
    displayName: input.displayName ?? logicalName,
    maxLength:
      input.maxLength ?? (input.type === 'String' ? 100 : input.type === 'Memo' ? 1_048_576 : undefined),
    minValue,
    maxValue,
    requiredLevel: input.requiredLevel ?? (SYSTEM_REQUIRED.has(logicalName) ? 'SystemRequired' : 'None'),
    targets,
    options,
    readable: input.readable ?? true,
    validForCreate: input.validForCreate ?? writable,
    validForUpdate: input.validForUpdate ?? writable,
    system,
    computed,
  };
}

export function defineTable(input: TableInput, index = 0): TableDef {
  const where = `tables[${index}]`;
  if (typeof input !== 'object' || input === null) fail(where, 'must be an object');
  const logicalName = checkName(`${where}.logicalName`, input.logicalName);
  const entitySetName = checkName(`${where}.entitySetName`, input.entitySetName, SET_NAME);
  const primaryIdAttribute = checkName(
    `${where}.primaryIdAttribute`,
    input.primaryIdAttribute ?? `${logicalName}id`,
  );
  const primaryNameAttribute = checkName(`${where}.primaryNameAttribute`, input.primaryNameAttribute);
  if (!Array.isArray(input.attributes)) fail(`${where}.attributes`, 'must be an array');

  const given = input.attributes.map((a, i) => defineAttribute(`${where}.attributes[${i}]`, a));
  const attributes: AttributeDef[] = [];
  const seen = new Set<string>();
  const add = (attribute: AttributeDef): void => {
    if (seen.has(attribute.logicalName)) return;
    seen.add(attribute.logicalName);
    attributes.push(attribute);
  };
  if (!given.some((a) => a.logicalName === primaryIdAttribute)) {
    add(
      defineAttribute(where, {
        logicalName: primaryIdAttribute,
        type: 'Uniqueidentifier',
        validForUpdate: false,
        requiredLevel: 'SystemRequired',
      }),
    );
  }
  for (const attribute of given) {
    if (seen.has(attribute.logicalName)) fail(where, `column '${attribute.logicalName}' is defined twice`);
    add(attribute);
  }
  for (const attribute of systemAttributes()) add(defineAttribute(where, attribute));

  const primaryId = attributes.find((a) => a.logicalName === primaryIdAttribute);
  if (primaryId?.type !== 'Uniqueidentifier')
    fail(where, `primary id '${primaryIdAttribute}' must be a Uniqueidentifier`);
  primaryId.requiredLevel = 'SystemRequired';
  const primaryName = attributes.find((a) => a.logicalName === primaryNameAttribute);
  if (!primaryName || (primaryName.type !== 'String' && primaryName.type !== 'Memo')) {
    fail(where, `primary name '${primaryNameAttribute}' must be a String column of the table`);
  }
  for (const attribute of attributes) {
    for (const part of attribute.computed?.concat ?? []) {
      if (!seen.has(part))
        fail(where, `computed column '${attribute.logicalName}' uses unknown column '${part}'`);
    }
  }

  const keys = (input.keys ?? []).map((key, i) => {
    const keyWhere = `${where}.keys[${i}]`;
    const keyName = checkName(`${keyWhere}.logicalName`, key.logicalName);
    if (!Array.isArray(key.attributes) || key.attributes.length === 0)
      fail(keyWhere, 'needs at least one column');
    for (const column of key.attributes) {
      const attribute = attributes.find((a) => a.logicalName === column);
      if (!attribute) fail(keyWhere, `unknown column '${String(column)}'`);
      if (
        ![
          'String',
          'Integer',
          'BigInt',
          'Decimal',
          'DateTime',
          'Lookup',
          'Picklist',
          'Uniqueidentifier',
        ].includes(attribute.type)
      ) {
        fail(keyWhere, `column '${column}' of type ${attribute.type} cannot be part of a key`);
      }
    }
    return { logicalName: keyName, attributes: [...key.attributes] };
  });

  return {
    logicalName,
    entitySetName,
    primaryIdAttribute,
    primaryNameAttribute,
    displayName: input.displayName ?? logicalName,
    objectTypeCode: input.objectTypeCode ?? 10_000 + index,
    metadataId: stableId(`entity:${logicalName}`),
    isCustomEntity: input.isCustomEntity ?? logicalName.includes('_'),
    attributes,
    keys,
  };
}
