/**
 * The contract of the deployment orchestration's input, the deployment manifest: what one release
 * changes (configuration, Dataverse reference data, schedules), whether a person must approve it,
 * and what the health check must find afterwards. The deployments route, `blc deploy` and the
 * orchestration all check a manifest against it. Pure: no network, no clock.
 */
import { z } from 'zod';
import { oneOfValueOrPatch } from './configChange';
import { dataverseChangeInput } from './dataverseChange';
import {
  alternateKey,
  closedObject,
  description,
  entitySetName,
  flag,
  guid,
  isJsonObject,
  jsonObject,
  onObjects,
  type JsonObject,
} from './fields';
import { ncrontabProblem } from './ncrontab';

export const MAX_APPROVAL_TIMEOUT_HOURS = 24 * 30;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const VERSION_RULE = 'is required: 1-64 letters, digits, dots, dashes or underscores, such as "2026.11.1"';
const TIMEOUT_RULE = `must be a number of hours above 0 and at most ${MAX_APPROVAL_TIMEOUT_HOURS}`;

/** The rules between an expected record's fields: how it is found, and what is checked. */
function checkExpected(r: JsonObject, ctx: z.RefinementCtx): void {
  const problem = (message: string): void => ctx.addIssue({ code: 'custom', path: [], message });
  if ((r.id !== undefined) === (r.key !== undefined)) problem('give exactly one of id or key');
  if (r.exists === false && r.fields !== undefined)
    problem('a record expected to be absent has no fields to check');
  if (r.exists !== false && r.fields === undefined) problem('give the fields to check, or exists: false');
}

export const expectedRecord = z
  .object(
    {
      table: entitySetName,
      id: guid.optional(),
      key: alternateKey.optional(),
      /** Attribute values the record must have; `exists: false` instead expects it to be absent. */
      fields: z
        .custom<JsonObject>(isJsonObject, { error: 'must be an object of attribute values' })
        .optional(),
      exists: flag.optional(),
    },
    { error: 'must be an object' },
  )
  .superRefine((r, ctx) => checkExpected(r, ctx), onObjects);

const config = closedObject(
  { value: jsonObject.optional(), patch: jsonObject.optional() },
  { notAnObject: 'must be an object with value or patch', unknownField: 'is not a config field' },
).superRefine(oneOfValueOrPatch([]), onObjects);

const schedules = closedObject(
  {
    reminders: z
      .string({ error: 'must be a string' })
      .superRefine((expression, ctx) => {
        const problem = ncrontabProblem(expression);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
  },
  { notAnObject: 'must be an object', unknownField: 'is not a known schedule (reminders)' },
);

const healthCheck = closedObject(
  { records: z.array(expectedRecord, { error: 'must be an array' }).optional() },
  { notAnObject: 'must be an object', unknownField: 'is not a health check field' },
);

/** The rules between a manifest's sections. */
function checkManifest(m: JsonObject, ctx: z.RefinementCtx): void {
  const c = m.config;
  const target = isJsonObject(c) ? (isJsonObject(c.value) ? c.value : c.patch) : undefined;
  if (isJsonObject(target) && m.schedules !== undefined && 'schedules' in target)
    ctx.addIssue({
      code: 'custom',
      path: ['config'],
      message: "set schedules through the manifest's schedules, not in config",
    });
  const h = m.approvalTimeoutHours;
  if (typeof h === 'number' && h > 0 && h <= MAX_APPROVAL_TIMEOUT_HOURS && m.requireApproval !== true)
    ctx.addIssue({
      code: 'custom',
      path: ['approvalTimeoutHours'],
      message: 'only applies with requireApproval: true',
    });
  if (m.config === undefined && m.dataverse === undefined && m.schedules === undefined)
    ctx.addIssue({
      code: 'custom',
      path: [],
      message: 'changes nothing: give config, dataverse and/or schedules',
    });
}

const SECTIONS = {
  /** Names the deployment: one version is deployed once (the instance id is `deploy-<version>`). */
  version: z.string({ error: VERSION_RULE }).regex(VERSION, { error: VERSION_RULE }),
  description: description.optional(),
  /** The app configuration: the whole value, or a patch of top-level keys (null removes a key). */
  config: config.optional(),
  /** Reference-data operations, as the Dataverse change saga takes them (atomic by default). */
  dataverse: closedObject(
    { operations: dataverseChangeInput.shape.operations, atomic: dataverseChangeInput.shape.atomic },
    { notAnObject: 'must be an object with operations', unknownField: 'is not a dataverse field' },
  ).optional(),
  /** Schedule settings, kept in the configuration under `schedules`. */
  schedules: schedules.optional(),
  requireApproval: flag.optional(),
  /** How long to wait for `approve` before the deployment is rejected; default 24 hours. */
  approvalTimeoutHours: z
    .number({ error: TIMEOUT_RULE })
    .gt(0, { error: TIMEOUT_RULE })
    .max(MAX_APPROVAL_TIMEOUT_HOURS, { error: TIMEOUT_RULE })
    .optional(),
  /** Further post-conditions the health check verifies, beyond what the deployment itself wrote. */
  healthCheck: healthCheck.optional(),
};

export const deploymentManifest = closedObject(SECTIONS, {
  unknownField: `is not a manifest field (${Object.keys(SECTIONS).join(', ')})`,
}).superRefine((m, ctx) => checkManifest(m, ctx), onObjects);

export type DeploymentManifest = z.infer<typeof deploymentManifest>;
export type ExpectedRecord = z.infer<typeof expectedRecord>;
