/**
 * The deployment manifest (its contract is lib/contracts/deployment.ts): `validateManifest` checks
 * everything a manifest can be checked for without I/O and names every bad field, so the HTTP
 * trigger, `blc deploy` and the orchestrator refuse the same manifests; and what a manifest asks of
 * the configuration. It must never touch the network or the clock.
 */
import { deploymentManifest, type DeploymentManifest } from '../contracts/deployment';
import { InvalidInputError, parseInput, type FieldProblem } from '../contracts/problems';
import { deploymentInstanceId } from '../instanceIds';

export type { DeploymentManifest, ExpectedRecord } from '../contracts/deployment';
export { MAX_APPROVAL_TIMEOUT_HOURS } from '../contracts/deployment';
export { ncrontabProblem } from '../contracts/ncrontab';

export const DEFAULT_APPROVAL_TIMEOUT_HOURS = 24;

export class ManifestValidationError extends InvalidInputError {
  constructor(problems: FieldProblem[]) {
    super(problems, 'INVALID_MANIFEST', 'The deployment manifest');
    this.name = 'ManifestValidationError';
  }
}

/** Checks a manifest's shape and returns it typed; throws ManifestValidationError naming each bad field. */
export function validateManifest(input: unknown): DeploymentManifest {
  return parseInput(
    deploymentManifest,
    input,
    (problems) => new ManifestValidationError(problems),
    '(manifest)',
  );
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
