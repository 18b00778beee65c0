/**
 * The API's answers as the dashboard reads them. They mirror lib/api/status.ts, lib/saga/status.ts,
 * lib/rollback/types.ts and lib/deployments/store.ts (the browser build cannot import server code).
 */

export interface InstanceSummary {
  instanceId: string;
  name: string;
  runtimeStatus: string;
  createdTime: string;
  lastUpdatedTime: string;
  phase?: string;
}

export interface StepError {
  message: string;
  type?: string;
}

export interface Compensation {
  activity: string;
  state: 'pending' | 'running' | 'completed' | 'failed';
  startedAt?: string;
  completedAt?: string;
  error?: StepError;
}

export interface Step {
  name: string;
  activity: string;
  state: string;
  pivot: boolean;
  compensable: boolean;
  startedAt: string;
  completedAt?: string;
  error?: StepError;
  compensation?: Compensation;
}

export interface SagaStatus {
  kind: 'saga';
  saga: string;
  phase: string;
  steps: Step[];
  updatedAt: string;
  failure?: { step: string; error: StepError };
  details?: Record<string, unknown>;
}

export interface InstanceView extends InstanceSummary {
  input: unknown;
  output: unknown;
  customStatus: unknown;
  steps?: Step[];
  failure?: { code?: string; message: string };
  history?: Record<string, unknown>[];
}

export type Resource =
  { kind: 'dataverse'; table: string; id: string } | { kind: 'config'; name: string; versionAfter: number };

export interface RollbackPoint {
  id: string;
  origin: 'saga' | 'manual';
  description: string;
  createdAt: string;
  expiresAt: string;
  status: string;
  sagaInstanceId?: string;
  resources: Resource[];
  plan?: Record<string, unknown>[];
  rollback?: { instanceId: string; startedAt: string; finishedAt?: string; error?: string };
  /** Earlier points that touched the same resources: this point depends on them. */
  dependsOn?: string[];
}

export interface RollbackPlan {
  pointId: string;
  steps: { pointId: string; description: string; plan: Record<string, unknown>[] }[];
  conflicts: { table: string; id: string; deleted?: boolean; fields?: Record<string, unknown> }[];
}

export interface Deployment {
  id: string;
  version: string;
  description?: string;
  state: string;
  requestedAt: string;
  updatedAt: string;
  requireApproval: boolean;
  approval?: { deadline: string; decision?: string; by?: string; reason?: string; at?: string };
  rollbackPoints: string[];
  error?: { code: string; message: string };
  runtimeStatus?: string;
}

export const FINAL_STATUSES = ['Completed', 'Failed', 'Terminated', 'Canceled'];
