/**
 * The app's orchestrations by handle: each one's name and the input it takes. Everything that starts
 * or calls an orchestration (the API registry, the webhook routes, the timers, the deployments API,
 * a parent orchestration through the handle defineOrchestration returns) names it through these, never
 * by a string of its own. Declares, registers nothing: the generators live in orchestrators/.
 */
import type { DataverseChangeInput } from './dataverse/changes';
import type { WebhookInput } from './dataverse/webhook/event';
import type { DeploymentManifest } from './deployments/manifest';
import { orchestrationRef } from './saga/orchestration';

export interface ConfigChangeInput {
  description?: string;
  /** Replaces the whole configuration. */
  value?: Record<string, unknown>;
  /** Merged into the current configuration (top-level keys; null removes a key). */
  patch?: Record<string, unknown>;
  retentionDays?: number;
}

export interface RollbackInput {
  pointId: string;
  cascade?: boolean;
  force?: boolean;
  dryRun?: boolean;
}

export interface CreateRollbackPointInput {
  description?: string;
  records?: { table: string; id: string }[];
  includeConfig?: boolean;
  retentionDays?: number;
}

export interface DeploymentRollbackInput {
  deploymentId: string;
  /** Roll back records even where someone edited them since (see the rollback orchestration). */
  force?: boolean;
}

export interface RemindersInput {
  /** The practice's calendar day, YYYY-MM-DD. */
  day: string;
  /** [from, to) in UTC: the day in the practice's time zone. */
  from: string;
  to: string;
  timeZone: string;
}

export const configChangeFlow = orchestrationRef<ConfigChangeInput>('configChange');
export const dataverseChangeFlow = orchestrationRef<DataverseChangeInput>('dataverseChange');
export const rollbackFlow = orchestrationRef<RollbackInput>('rollback');
export const createRollbackPointFlow = orchestrationRef<CreateRollbackPointInput>('createRollbackPoint');
export const deploymentFlow = orchestrationRef<DeploymentManifest>('deployment');
export const deploymentRollbackFlow = orchestrationRef<DeploymentRollbackInput>('deploymentRollback');
export const dailyRemindersFlow = orchestrationRef<RemindersInput>('dailyReminders');
export const clientOnboardingFlow = orchestrationRef<WebhookInput>('clientOnboarding');
export const sessionConfirmationFlow = orchestrationRef<WebhookInput>('sessionConfirmation');
