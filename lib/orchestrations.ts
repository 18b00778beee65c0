/**
 * The app's orchestrations by handle: each one's name and the input it takes. Everything that starts
 * or calls an orchestration (the API registry, the webhook routes, the timers, the deployments API,
 * a parent orchestration through the handle defineOrchestration returns) names it through these, never
 * by a string of its own. Declares, registers nothing: the generators live in orchestrators/.
 */
import type { DataverseChangeInput } from './dataverse/changes';
import type { WebhookInput } from './dataverse/webhook/event';
import type { DeploymentManifest } from './deployments/manifest';
import type { z } from 'zod';
import type { configChangeInput } from './contracts/configChange';
import type { createRollbackPointInput } from './contracts/createRollbackPoint';
import type { rollbackInput } from './contracts/rollback';
import { orchestrationRef } from './saga/orchestration';

/** What a caller passes: the contract's input side (the orchestration parses it into the output side). */
export type ConfigChangeInput = z.input<typeof configChangeInput>;
export type RollbackInput = z.input<typeof rollbackInput>;
export type CreateRollbackPointInput = z.input<typeof createRollbackPointInput>;

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
