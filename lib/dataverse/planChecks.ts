/**
 * What the write of one operation would be refused for, found before writing from the table's
 * metadata: an unknown column, a column not valid for create or update, a value of the wrong type,
 * a text over MaxLength, a number outside MinValue..MaxValue, a choice value not in the option set,
 * a required column missing on create (or cleared), and a malformed lookup binding. Lookups that
 * need Dataverse (does the record exist?) are handed back as references for the caller to resolve.
 * Pure: no I/O, so it can be tested and reasoned about on its own. It must never decide for the
 * caller whether to write anyway.
 */
import type { LookupNames, PlanProblem } from '../contracts/responses';
import { CodedError } from '../errors/codedError';
import type { ColumnMetadata, TableMetadata } from './metadata';

export type { PlanProblem } from '../contracts/responses';

export type PlanProblemCode =
  | 'UNKNOWN_COLUMN'
  | 'READ_ONLY'
  | 'WRONG_TYPE'
  | 'TOO_LONG'
  | 'OUT_OF_RANGE'
  | 'NOT_IN_OPTION_SET'
  | 'REQUIRED_MISSING'
  | 'LOOKUP_TARGET_NOT_FOUND'
  | 'LOOKUP_TARGET_UNREADABLE'
  | 'DELETED_BY_CASCADE'
  | 'DELETE_RESTRICTED';

/** A lookup binding to resolve against Dataverse: `field` points at `entitySet(id)`. */
export interface LookupReference {
  operation: number;
  field: string;
  /** The logical names the lookup may point at. */
  targets: string[];
  entitySet: string;
  id: string;
}

export interface OperationCheck {
  /** The operation's index in the change. */
  index: number;
  table: TableMetadata;
  data: Record<string, unknown>;
  /** True when the write creates the record (a create, or an upsert of a record that does not exist). */
  creating: boolean;
  /** Alternate key values an upsert addresses the record by: Dataverse writes them on create. */
  key?: Record<string, unknown>;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LOOKUP_TYPES = new Set(['Lookup', 'Customer', 'Owner']);
/** Columns the platform fills on create when the caller leaves them out. */
const PLATFORM_FILLED_TYPES = new Set(['Owner', 'State', 'Status']);

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}

/** The writable column a typo most likely meant, if one is close enough to say so. */
function closest(name: string, table: TableMetadata): string | undefined {
  const lower = name.toLowerCase();
  let best: { name: string; score: number } | undefined;
  for (const column of Object.values(table.columns)) {
    if (!column.validForCreate && !column.validForUpdate) continue;
    const candidate = column.logicalName;
    const score = candidate.startsWith(lower) || lower.startsWith(candidate) ? 1 : distance(lower, candidate);
    if (score <= 2 && (!best || score < best.score)) best = { name: candidate, score };
  }
  return best?.name;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function isNumeric(value: unknown): value is number | string {
  return (
    (typeof value === 'number' && Number.isFinite(value)) ||
    (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
  );
}

/** A type problem with the value for this column, or undefined when the value fits its type. */
function typeProblem(column: ColumnMetadata, value: unknown): string | undefined {
  const name = `'${column.logicalName}'`;
  switch (column.type) {
    case 'String':
    case 'Memo':
    case 'EntityName':
      return typeof value === 'string' ? undefined : `${name} takes text, not ${show(value)}`;
    case 'Integer':
    case 'Picklist':
    case 'State':
    case 'Status':
      return typeof value === 'number' && Number.isInteger(value)
        ? undefined
        : `${name} takes a whole number (${column.type}), not ${show(value)}`;
    case 'BigInt':
      return (typeof value === 'number' && Number.isInteger(value)) ||
        (typeof value === 'string' && /^-?\d+$/.test(value))
        ? undefined
        : `${name} takes a whole number (BigInt), not ${show(value)}`;
    case 'Decimal':
    case 'Double':
    case 'Money':
      return isNumeric(value) ? undefined : `${name} takes a number (${column.type}), not ${show(value)}`;
    case 'Boolean':
      return typeof value === 'boolean' ? undefined : `${name} takes true or false, not ${show(value)}`;
    case 'DateTime': {
      const dateOnly = column.format === 'DateOnly';
      const ok =
        typeof value === 'string' &&
        (dateOnly ? /^\d{4}-\d{2}-\d{2}$/.test(value) : /^\d{4}-\d{2}-\d{2}/.test(value)) &&
        !Number.isNaN(Date.parse(value));
      return ok
        ? undefined
        : `${name} takes a ${dateOnly ? 'date (YYYY-MM-DD)' : 'date and time (ISO 8601)'}, not ${show(value)}`;
    }
    case 'Uniqueidentifier':
      return typeof value === 'string' && GUID.test(value)
        ? undefined
        : `${name} takes a GUID, not ${show(value)}`;
    default:
      return undefined;
  }
}

/** Problems with one column's value: its type, length, range or option. */
function valueProblems(column: ColumnMetadata, value: unknown): { code: PlanProblemCode; message: string }[] {
  const wrong = typeProblem(column, value);
  if (wrong) return [{ code: 'WRONG_TYPE', message: wrong }];
  const name = `'${column.logicalName}'`;
  if (typeof value === 'string' && column.maxLength !== undefined && value.length > column.maxLength) {
    return [
      {
        code: 'TOO_LONG',
        message: `${name} is ${value.length} characters long; at most ${column.maxLength} fit`,
      },
    ];
  }
  if (isNumeric(value) && (column.minValue !== undefined || column.maxValue !== undefined)) {
    const n = Number(value);
    if (
      (column.minValue !== undefined && n < column.minValue) ||
      (column.maxValue !== undefined && n > column.maxValue)
    )
      return [
        {
          code: 'OUT_OF_RANGE',
          message: `${name} must be between ${column.minValue ?? '-∞'} and ${column.maxValue ?? '∞'}, not ${n}`,
        },
      ];
  }
  if (column.options && typeof value === 'number' && !column.options.some((o) => o.value === value)) {
    const choices = column.options.map((o) => (o.label ? `${o.value} ${o.label}` : String(o.value)));
    return [
      {
        code: 'NOT_IN_OPTION_SET',
        message: `${name} has no option ${value} (options: ${choices.join(', ')})`,
      },
    ];
  }
  return [];
}

/** `/contacts(guid)`, `contacts(guid)` or an absolute Web API URL ending so: the set and id it names. */
export function parseBinding(value: string): { entitySet: string; id: string } | undefined {
  const match = /(?:^|\/)([A-Za-z_][A-Za-z0-9_]*)\(([0-9a-fA-F-]{36})\)$/.exec(value.trim());
  if (!match || !GUID.test(match[2])) return undefined;
  return { entitySet: match[1], id: match[2].toLowerCase() };
}

/** A lookup binding in the data of a write: its navigation property, the binding, and the record it points at. */
export interface WrittenBinding {
  navigation: string;
  binding: string;
  target: { entitySet: string; id: string };
}

/** Every `<navigation>@odata.bind` of `data` that points at a record (null bindings clear a lookup). */
export function bindingsIn(data: Record<string, unknown>): WrittenBinding[] {
  return Object.entries(data).flatMap(([field, value]) => {
    const target =
      field.endsWith('@odata.bind') && typeof value === 'string' ? parseBinding(value) : undefined;
    return target
      ? [{ navigation: field.slice(0, -'@odata.bind'.length), binding: value as string, target }]
      : [];
  });
}

/** The key a binding is named under in LookupNames (`/accounts(<lower-case id>)`), however it is spelled. */
export function bindingKey(value: unknown): string | undefined {
  const parsed = typeof value === 'string' ? parseBinding(value) : undefined;
  return parsed && `/${parsed.entitySet}(${parsed.id})`;
}

/** The record a binding points at, with its name when `names` has it; undefined when it has not. */
export function namedBinding(
  binding: string,
  names: LookupNames,
): { table: string; id: string; entity: string; name: string } | undefined {
  const parsed = parseBinding(binding);
  const named = parsed && names[`/${parsed.entitySet}(${parsed.id})`];
  return named && parsed && { table: parsed.entitySet, id: parsed.id, ...named };
}

function isRequired(column: ColumnMetadata, table: TableMetadata): boolean {
  return (
    (column.requiredLevel === 'ApplicationRequired' || column.requiredLevel === 'SystemRequired') &&
    column.logicalName !== table.primaryIdAttribute &&
    column.logicalName !== 'ownerid' &&
    !PLATFORM_FILLED_TYPES.has(column.type)
  );
}

/** Checks one operation's data against its table; lookups to resolve are returned beside the problems. */
export function checkOperationData(check: OperationCheck): {
  problems: PlanProblem[];
  lookups: LookupReference[];
} {
  const { index, table, data, creating } = check;
  const problems: PlanProblem[] = [];
  const lookups: LookupReference[] = [];
  const problem = (field: string, code: PlanProblemCode, message: string): void => {
    problems.push({ operation: index, field, code, message });
  };
  const set = new Set<string>(Object.keys(check.key ?? {}));
  const verb = creating ? 'create' : 'update';

  for (const [field, value] of Object.entries(data)) {
    if (field.endsWith('@odata.bind')) {
      const navigation = field.slice(0, -'@odata.bind'.length);
      const nav = table.navigation[navigation];
      if (!nav) {
        problem(
          field,
          'UNKNOWN_COLUMN',
          `${table.entitySetName} has no lookup navigation property '${navigation}'`,
        );
        continue;
      }
      const column = table.columns[nav.attribute];
      if (column && !(creating ? column.validForCreate : column.validForUpdate))
        problem(field, 'READ_ONLY', `'${nav.attribute}' cannot be set on ${verb}`);
      if (value === null) {
        if (column && !creating && isRequired(column, table))
          problem(field, 'REQUIRED_MISSING', `'${nav.attribute}' is required and cannot be cleared`);
        continue;
      }
      const binding = typeof value === 'string' ? parseBinding(value) : undefined;
      if (!binding) {
        problem(
          field,
          'WRONG_TYPE',
          `'${field}' takes a reference such as /${nav.target}s(<id>), not ${show(value)}`,
        );
        continue;
      }
      set.add(nav.attribute);
      lookups.push({ operation: index, field, targets: [nav.target], ...binding });
      continue;
    }
    if (field.includes('@')) continue; // an annotation, not a value
    const column = table.columns[field];
    if (!column) {
      const guess = closest(field, table);
      problem(
        field,
        'UNKNOWN_COLUMN',
        `${table.entitySetName} has no column '${field}'${guess ? ` (did you mean '${guess}'?)` : ''}`,
      );
      continue;
    }
    if (LOOKUP_TYPES.has(column.type)) {
      const navs = Object.entries(table.navigation)
        .filter(([, n]) => n.attribute === field)
        .map(([name]) => `'${name}@odata.bind'`);
      problem(
        field,
        'WRONG_TYPE',
        `'${field}' is a lookup: set it with ${navs.length ? navs.join(' or ') : '<navigation>@odata.bind'}`,
      );
      continue;
    }
    if (!(creating ? column.validForCreate : column.validForUpdate)) {
      problem(field, 'READ_ONLY', `'${field}' is read-only on ${verb} (Dataverse sets it)`);
      continue;
    }
    if (value === null) {
      if (!creating && isRequired(column, table))
        problem(field, 'REQUIRED_MISSING', `'${field}' is required and cannot be cleared`);
      continue;
    }
    set.add(field);
    for (const p of valueProblems(column, value)) problem(field, p.code, p.message);
  }

  if (creating) {
    for (const column of Object.values(table.columns)) {
      if (!isRequired(column, table) || !column.validForCreate || set.has(column.logicalName)) continue;
      problem(
        column.logicalName,
        'REQUIRED_MISSING',
        `${table.logicalName} requires '${column.logicalName}' (${column.requiredLevel}) on create`,
      );
    }
  }
  return { problems, lookups };
}

/** One problem as a person reads it: `#3 accounts.telephone: accounts has no column 'telephone'`. */
export function describeProblem(problem: PlanProblem, table?: string): string {
  const where = `#${problem.operation + 1}${table ? ` ${table}` : ''}${problem.field ? `.${problem.field}` : ''}`;
  return `${where}: ${problem.message}`;
}

/** A real run whose plan found problems: nothing was written. */
export class PlanInvalidError extends CodedError<'PLAN_INVALID'> {
  override readonly name = 'PlanInvalidError';

  constructor(problems: PlanProblem[], tables: string[] = []) {
    const listed = problems.map((p) => describeProblem(p, tables[p.operation])).join('; ');
    super(
      'PLAN_INVALID',
      `This change would fail, so nothing was written. ${problems.length === 1 ? 'Problem' : `${problems.length} problems`}: ${listed}. ` +
        'Fix the change (a dry run shows the plan), or set "skipPlanChecks": true to run it anyway and see it compensate.',
      { problems },
    );
  }
}
