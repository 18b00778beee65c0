/**
 * The shapes the public API answers with, declared once: the app builds its answers as these types,
 * and `blc` (cli/) and the dashboard (ui/) read them. A declaration file on purpose: it can hold no
 * runtime code, and the browser build can compile against it without taking in server code. It
 * must never import a module (the dashboard's build could not follow it).
 */

// ---- Instances (GET /api/instances, /api/instances/{id}) ----

/** A saga's phase, as its custom status publishes it. */
export type SagaPhase = 'running' | 'compensating' | 'compensated' | 'compensation-failed' | 'completed';

export type StepState =
  'running' | 'completed' | 'failed' | 'compensating' | 'compensated' | 'compensation-failed';

export interface StepError {
  message: string;
  type?: string;
}

export interface CompensationStatus {
  activity: string;
  /**
   * `pending` while the saga runs (a failure would run it); `available` once the saga completed: the
   * undo is kept in the saga's rollback point (SagaStatus.details.rollbackPointId), not run by itself.
   */
  state: 'pending' | 'available' | 'running' | 'completed' | 'failed';
  startedAt?: string;
  completedAt?: string;
  error?: StepError;
}

export interface StepStatus {
  name: string;
  activity: string;
  state: StepState;
  pivot: boolean;
  /** False for steps before a completed pivot, and for steps that declared no compensation. */
  compensable: boolean;
  startedAt: string;
  completedAt?: string;
  error?: StepError;
  compensation?: CompensationStatus;
  /**
   * Set while the step (or its compensation) waits out a transient outage of a service before its
   * next attempt: "waiting for Dataverse (retry 3, next at 10:42:10)". Cleared when an attempt succeeds.
   */
  waiting?: { service: string; attempt: number; nextAttemptAt: string; error: string };
}

/** What a saga publishes as its orchestration's custom status. */
export interface SagaStatus {
  kind: 'saga';
  saga: string;
  phase: SagaPhase;
  steps: StepStatus[];
  updatedAt: string;
  failure?: { step: string; error: StepError };
  /** Free-form details the orchestration adds (e.g. a rollback point id). */
  details?: Record<string, unknown>;
}

export interface InstanceSummary {
  instanceId: string;
  name: string;
  runtimeStatus: string;
  createdTime: string;
  lastUpdatedTime: string;
  /** The saga's phase, when the instance is a saga. */
  phase?: string;
}

export interface InstanceView extends InstanceSummary {
  input: unknown;
  output: unknown;
  customStatus: unknown;
  steps?: StepStatus[];
  /** For a failed instance: the error code its message leads with, and the message. */
  failure?: { code?: string; message: string };
  /** The orchestration's history events, with ?history=true. */
  history?: Record<string, unknown>[];
  /** The rollback point the instance left (a completed change saga), and whether it was rolled back. */
  rollbackPoint?: Pick<RollbackPoint, 'id' | 'status' | 'rollback'>;
}

/** GET /api/instances: newest first, with a token for the next page when there is one. */
export interface InstancePage {
  instances: InstanceSummary[];
  continuationToken?: string;
}

// ---- Dataverse change plans (the output of a dataverseChange dry run) ----

/**
 * What the write of one operation would be refused for, found by the plan against the table's
 * metadata: `UNKNOWN_COLUMN`, `READ_ONLY`, `WRONG_TYPE`, `TOO_LONG`, `OUT_OF_RANGE`, `NOT_IN_OPTION_SET`,
 * `REQUIRED_MISSING`, `LOOKUP_TARGET_NOT_FOUND`, `LOOKUP_TARGET_UNREADABLE`, `DELETED_BY_CASCADE`,
 * `DELETE_RESTRICTED`, ...
 */
export interface PlanProblem {
  /** The operation's index in the change (0-based; shown to people as #index+1). */
  operation: number;
  field?: string;
  code: string;
  message: string;
}

// ---- Rollback points (GET /api/rollback-points, /{id}, POST /{id}/plan) ----

export type RollbackStatus = 'active' | 'rolling-back' | 'rolled-back' | 'rollback-failed' | 'expired';

/**
 * How a Dataverse record is named to a person: its entity set and id, plus (when known) the table's
 * logical name and the record's primary name value, shown as `account "Lindqvist Physio" (3eedb109…)`.
 * The names are captured when the record is touched, so a deleted record keeps its name.
 */
export type DataverseRecordRef = {
  /** Entity set name, as in the Web API URL (accounts). */
  table: string;
  id: string;
  /** The table's logical name (account). */
  entity?: string;
  /** The record's primary name attribute value (Lindqvist Physio). */
  name?: string;
};

/**
 * The records lookups point at, as people know them, by binding (`/accounts(<lower-case id>)`): the
 * table's logical name and the record's primary name, read when the change was planned.
 */
export type LookupNames = Record<string, { entity: string; name: string }>;

/** A resource a change touched, and the version it had right after the change. */
export type TouchedResource =
  | (DataverseRecordRef & {
      kind: 'dataverse';
      etagAfter?: string;
      /** The values the change wrote, to name them when someone has edited the record since. */
      fieldsAfter?: Record<string, unknown>;
    })
  | { kind: 'config'; name: string; versionAfter: number };

/** One undo action, in the order the rollback must run them (newest change first). */
export type UndoAction =
  | (DataverseRecordRef & { kind: 'dataverse-delete' })
  | (DataverseRecordRef & {
      kind: 'dataverse-restore-fields';
      fields: Record<string, unknown>;
      /** Names of the records the restored lookups point at (for people; the undo writes `fields`). */
      lookupNames?: LookupNames;
    })
  | (DataverseRecordRef & { kind: 'dataverse-recreate'; record: Record<string, unknown> })
  /** Puts a record back as it was when a point was made by hand: update it, or create it again. */
  | (DataverseRecordRef & { kind: 'dataverse-restore-record'; record: Record<string, unknown> })
  | { kind: 'config-activate'; name: string; version: number };

/** A rollback point, as stored and as GET /api/rollback-points/{id} shows it. */
export interface RollbackPoint {
  id: string;
  /** The saga instance that made the change; absent for points made by hand. */
  sagaInstanceId?: string;
  origin: 'saga' | 'manual';
  description: string;
  createdAt: string;
  /** Wall-clock time the point was stored, to order points created in the same orchestration tick. */
  recordedAt?: string;
  expiresAt: string;
  status: RollbackStatus;
  resources: TouchedResource[];
  plan: UndoAction[];
  /** Blob names of before-images kept for this point (deleted when it expires). */
  snapshots: string[];
  /** Set while and after a rollback runs. */
  rollback?: { instanceId: string; startedAt: string; finishedAt?: string; error?: string };
}

/** A point in GET /api/rollback-points: no undo plan, with the earlier points it depends on. */
export type RollbackPointListed = Pick<
  RollbackPoint,
  'id' | 'origin' | 'description' | 'createdAt' | 'expiresAt' | 'status' | 'sagaInstanceId' | 'resources'
> &
  Pick<Partial<RollbackPoint>, 'rollback'> & {
    /** Earlier points that touched the same resources: this point depends on them. */
    dependsOn: string[];
  };

/** A record edited since a point was made: the values the change wrote, and what it has now. */
export interface FieldConflict extends DataverseRecordRef {
  deleted?: boolean;
  fields: Record<string, { expected: unknown; actual: unknown }>;
}

/**
 * POST /api/rollback-points/{id}/plan: the points a rollback would undo, newest first. Read in the
 * HTTP function: no orchestration instance is started for it.
 */
export interface RollbackPlan {
  pointId: string;
  dryRun: true;
  steps: { pointId: string; description: string; plan: UndoAction[] }[];
  conflicts: FieldConflict[];
}

// ---- Deployments (GET /api/deployments, /{id}) ----

export type DeploymentState =
  | 'pending'
  | 'awaiting-approval'
  | 'applying'
  | 'verifying'
  | 'succeeded'
  /** A succeeded deployment being undone on request (POST /api/deployments/{id}/rollback). */
  | 'rolling-back'
  | 'rejected'
  | 'rolled-back'
  | 'failed';

export interface DeploymentApproval {
  deadline: string;
  decision?: 'approved' | 'rejected' | 'timed-out';
  by?: string;
  reason?: string;
  at?: string;
}

/** A deployment in GET /api/deployments (GET /{id} adds the whole record). */
export interface DeploymentSummary {
  /** Also the orchestration instance id. */
  id: string;
  version: string;
  description?: string;
  state: DeploymentState;
  requestedAt: string;
  updatedAt: string;
  requireApproval: boolean;
  approval?: DeploymentApproval;
  /** The rollback points that undo the deployment, in the order to execute them (newest first). */
  rollbackPoints: string[];
  error?: { code: string; message: string };
  /** For a deployment not yet final: its orchestration's runtime status (`NotFound` when gone). */
  runtimeStatus?: string;
}

/** GET /api/deployments: newest request first, with a token for the next page when there is one. */
export interface DeploymentPage {
  deployments: DeploymentSummary[];
  continuationToken?: string;
}
