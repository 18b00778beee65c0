/**
 * The deployment manifest: what one release of the practice's setup changes (configuration,
 * Dataverse reference data, schedules), whether a person must approve it, and what the health check
 * must find afterwards. `validateManifest` checks everything a manifest can be checked for without
 * I/O and names every bad field; it is pure, so the HTTP trigger and the orchestrator both use it.
 * It must never touch the network or the clock.
 */
import {
  ChangeValidationError,
  validateChange,
  type DataverseOperation,
  type ValidationProblem,
} from '../dataverse/changes';
import { isGuid, type AlternateKey } from '../dataverse/keys';
import { deploymentInstanceId } from '../instanceIds';

export interface DeploymentManifest {
  /** Names the deployment: one version is deployed once (the instance id is `deploy-<version>`). */
  version: string;
  description?: string;
  /** The app configuration: the whole value, or a patch of top-level keys (null removes a key). */
  config?: { value?: Record<string, unknown>; patch?: Record<string, unknown> };
  /** Reference-data operations, as the Dataverse change saga takes them. */
  dataverse?: { operations: DataverseOperation[] };
  /** Schedule settings, kept in the configuration under `schedules`. */
  schedules?: { reminders?: string };
  requireApproval?: boolean;
  /** How long to wait for `approve` before the deployment is rejected; default 24 hours. */
  approvalTimeoutHours?: number;
  /** Further post-conditions the health check verifies, beyond what the deployment itself wrote. */
  healthCheck?: { records?: ExpectedRecord[] };
}

export interface ExpectedRecord {
  table: string;
  id?: string;
  key?: AlternateKey;
  /** Attribute values the record must have; `exists: false` instead expects it to be absent. */
  fields?: Record<string, unknown>;
  exists?: boolean;
}

export const DEFAULT_APPROVAL_TIMEOUT_HOURS = 24;
export const MAX_APPROVAL_TIMEOUT_HOURS = 24 * 30;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KNOWN = [
  'version',
  'description',
  'config',
  'dataverse',
  'schedules',
  'requireApproval',
  'approvalTimeoutHours',
  'healthCheck',
];

export class ManifestValidationError extends Error {
  readonly code = 'INVALID_MANIFEST';
  constructor(readonly problems: ValidationProblem[]) {
    super(
      `[INVALID_MANIFEST] The deployment manifest is not valid: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`,
    );
    this.name = 'ManifestValidationError';
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// Six-field NCRONTAB (second minute hour day month day-of-week), as Azure Functions timers take it.
const CRON_FIELDS: { name: string; min: number; max: number; names?: string[] }[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
  },
  { name: 'day of week', min: 0, max: 6, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

/** Why a six-field NCRONTAB expression is not valid, or undefined when it is. */
export function ncrontabProblem(expression: string): string | undefined {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 6)
    return `must be a six-field NCRONTAB expression (second minute hour day month day-of-week), got ${parts.length} field(s)`;
  for (const [i, part] of parts.entries()) {
    const f = CRON_FIELDS[i];
    const value = (token: string): number | undefined => {
      const named = f.names?.indexOf(token.toLowerCase()) ?? -1;
      if (named >= 0) return named + (f.name === 'month' ? 1 : 0);
      if (!/^\d+$/.test(token)) return undefined;
      const n = Number(token);
      return n >= f.min && n <= f.max ? n : undefined;
    };
    for (const item of part.split(',')) {
      const [range, step, ...rest] = item.split('/');
      if (rest.length || (step !== undefined && !/^[1-9]\d*$/.test(step)))
        return `${f.name} field '${part}' has a bad step`;
      if (range === '*') continue;
      const bounds = range.split('-');
      if (bounds.length > 2 || bounds.some((b) => value(b) === undefined))
        return `${f.name} field '${part}' must use * or values ${f.min}-${f.max}${f.names ? ' or names' : ''}`;
    }
  }
  return undefined;
}

function checkExpected(raw: unknown, at: string, problems: ValidationProblem[]): void {
  if (!isPlainObject(raw)) {
    problems.push({ field: at, message: 'must be an object' });
    return;
  }
  if (typeof raw.table !== 'string' || !IDENTIFIER.test(raw.table))
    problems.push({ field: `${at}.table`, message: 'must be an entity set name such as "contacts"' });
  const hasId = raw.id !== undefined;
  const hasKey = raw.key !== undefined;
  if (hasId === hasKey) problems.push({ field: at, message: 'give exactly one of id or key' });
  if (hasId && (typeof raw.id !== 'string' || !isGuid(raw.id)))
    problems.push({ field: `${at}.id`, message: 'must be a GUID' });
  if (
    hasKey &&
    !(
      isPlainObject(raw.key) &&
      Object.keys(raw.key).length > 0 &&
      Object.entries(raw.key).every(
        ([k, v]) => IDENTIFIER.test(k) && ['string', 'number', 'boolean'].includes(typeof v),
      )
    )
  )
    problems.push({
      field: `${at}.key`,
      message: 'must map attribute names to strings, numbers or booleans',
    });
  if (raw.exists !== undefined && typeof raw.exists !== 'boolean')
    problems.push({ field: `${at}.exists`, message: 'must be true or false' });
  if (raw.fields !== undefined && !isPlainObject(raw.fields))
    problems.push({ field: `${at}.fields`, message: 'must be an object of attribute values' });
  if (raw.exists === false && raw.fields !== undefined)
    problems.push({ field: at, message: 'a record expected to be absent has no fields to check' });
  if (raw.exists !== false && raw.fields === undefined)
    problems.push({ field: at, message: 'give the fields to check, or exists: false' });
}

/** Checks a manifest's shape and returns it typed; throws ManifestValidationError naming each bad field. */
export function validateManifest(input: unknown): DeploymentManifest {
  if (!isPlainObject(input))
    throw new ManifestValidationError([{ field: '(manifest)', message: 'must be a JSON object' }]);
  const problems: ValidationProblem[] = [];
  for (const k of Object.keys(input))
    if (!KNOWN.includes(k))
      problems.push({ field: k, message: `is not a manifest field (${KNOWN.join(', ')})` });
  if (typeof input.version !== 'string' || !VERSION.test(input.version))
    problems.push({
      field: 'version',
      message: 'is required: 1-64 letters, digits, dots, dashes or underscores, such as "2026.11.1"',
    });
  if (input.description !== undefined && typeof input.description !== 'string')
    problems.push({ field: 'description', message: 'must be a string' });

  if (input.config !== undefined) {
    const c = input.config;
    if (!isPlainObject(c))
      problems.push({ field: 'config', message: 'must be an object with value or patch' });
    else {
      if ((c.value === undefined) === (c.patch === undefined))
        problems.push({
          field: 'config',
          message: 'give exactly one of value (the whole configuration) or patch',
        });
      for (const k of ['value', 'patch'] as const)
        if (c[k] !== undefined && !isPlainObject(c[k]))
          problems.push({ field: `config.${k}`, message: 'must be a JSON object' });
      for (const k of Object.keys(c))
        if (k !== 'value' && k !== 'patch')
          problems.push({ field: `config.${k}`, message: 'is not a config field' });
      const target = isPlainObject(c.value) ? c.value : isPlainObject(c.patch) ? c.patch : undefined;
      if (target && input.schedules !== undefined && 'schedules' in target)
        problems.push({
          field: 'config',
          message: "set schedules through the manifest's schedules, not in config",
        });
    }
  }

  if (input.dataverse !== undefined) {
    const d = input.dataverse;
    if (!isPlainObject(d))
      problems.push({ field: 'dataverse', message: 'must be an object with operations' });
    else {
      for (const k of Object.keys(d))
        if (k !== 'operations')
          problems.push({ field: `dataverse.${k}`, message: 'is not a dataverse field' });
      try {
        validateChange({ operations: d.operations });
      } catch (err) {
        if (!(err instanceof ChangeValidationError)) throw err;
        for (const p of err.problems) problems.push({ field: `dataverse.${p.field}`, message: p.message });
      }
    }
  }

  if (input.schedules !== undefined) {
    const s = input.schedules;
    if (!isPlainObject(s)) problems.push({ field: 'schedules', message: 'must be an object' });
    else {
      for (const k of Object.keys(s))
        if (k !== 'reminders')
          problems.push({ field: `schedules.${k}`, message: 'is not a known schedule (reminders)' });
      if (s.reminders !== undefined) {
        const problem = typeof s.reminders === 'string' ? ncrontabProblem(s.reminders) : 'must be a string';
        if (problem) problems.push({ field: 'schedules.reminders', message: problem });
      }
    }
  }

  if (input.requireApproval !== undefined && typeof input.requireApproval !== 'boolean')
    problems.push({ field: 'requireApproval', message: 'must be true or false' });
  if (input.approvalTimeoutHours !== undefined) {
    const h = input.approvalTimeoutHours;
    if (typeof h !== 'number' || !(h > 0) || h > MAX_APPROVAL_TIMEOUT_HOURS)
      problems.push({
        field: 'approvalTimeoutHours',
        message: `must be a number of hours above 0 and at most ${MAX_APPROVAL_TIMEOUT_HOURS}`,
      });
    else if (input.requireApproval !== true)
      problems.push({ field: 'approvalTimeoutHours', message: 'only applies with requireApproval: true' });
  }

  if (input.healthCheck !== undefined) {
    const h = input.healthCheck;
    if (!isPlainObject(h)) problems.push({ field: 'healthCheck', message: 'must be an object' });
    else {
      for (const k of Object.keys(h))
        if (k !== 'records')
          problems.push({ field: `healthCheck.${k}`, message: 'is not a health check field' });
      if (h.records !== undefined) {
        if (!Array.isArray(h.records))
          problems.push({ field: 'healthCheck.records', message: 'must be an array' });
        else h.records.forEach((r: unknown, i) => checkExpected(r, `healthCheck.records[${i}]`, problems));
      }
    }
  }

  if (input.config === undefined && input.dataverse === undefined && input.schedules === undefined)
    problems.push({
      field: '(manifest)',
      message: 'changes nothing: give config, dataverse and/or schedules',
    });
  if (problems.length) throw new ManifestValidationError(problems);
  return input as unknown as DeploymentManifest;
}

/** The deployment id (and orchestration instance id) of a manifest's version. */
export function deploymentIdFor(version: string): string {
  return deploymentInstanceId(version);
}

/** The configuration change a manifest makes (config and schedules together), or undefined for none. */
export function configChangeOf(
  manifest: DeploymentManifest,
): { value: Record<string, unknown> } | { patch: Record<string, unknown> } | undefined {
  const schedules = manifest.schedules ? { schedules: { ...manifest.schedules } } : {};
  if (manifest.config?.value) return { value: { ...manifest.config.value, ...schedules } };
  if (manifest.config?.patch) return { patch: { ...manifest.config.patch, ...schedules } };
  if (manifest.schedules) return { patch: schedules };
  return undefined;
}
