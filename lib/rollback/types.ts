/**
 * Rollback points: what a finished change saga (or a person, by hand) leaves behind so the change
 * can be undone later. Plain data, stored as JSON in Blob storage.
 */

export type RollbackStatus = 'active' | 'rolling-back' | 'rolled-back' | 'rollback-failed' | 'expired';

/** A resource a change touched, and the version it had right after the change. */
export type TouchedResource =
  | {
      kind: 'dataverse';
      table: string;
      id: string;
      etagAfter?: string;
      /** The values the change wrote, to name them when someone has edited the record since. */
      fieldsAfter?: Record<string, unknown>;
    }
  | { kind: 'config'; name: string; versionAfter: number };

/** One undo action, in the order the rollback must run them (newest change first). */
export type UndoAction =
  | { kind: 'dataverse-delete'; table: string; id: string }
  | { kind: 'dataverse-restore-fields'; table: string; id: string; fields: Record<string, unknown> }
  | { kind: 'dataverse-recreate'; table: string; id: string; record: Record<string, unknown> }
  /** Puts a record back as it was when a point was made by hand: update it, or create it again. */
  | { kind: 'dataverse-restore-record'; table: string; id: string; record: Record<string, unknown> }
  | { kind: 'config-activate'; name: string; version: number };

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

export const DEFAULT_RETENTION_DAYS = 30;

export function resourceKey(r: TouchedResource): string {
  return r.kind === 'dataverse' ? `dataverse:${r.table}:${r.id.toLowerCase()}` : `config:${r.name}`;
}
