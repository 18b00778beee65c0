/**
 * Activities that record rollback points. A point's id derives from the saga instance, so recording
 * it again after a crash finds the first one.
 */
import { defineActivity } from '../lib/saga';
import { services } from '../lib/config/services';
import type { RollbackPoint, TouchedResource, UndoAction } from '../lib/rollback';

export interface RecordPointInput {
  sagaInstanceId: string;
  description: string;
  createdAt: string;
  retentionDays?: number;
  resources: TouchedResource[];
  /** Undo actions in the order a rollback runs them (newest change first). */
  plan: UndoAction[];
  snapshots: string[];
}

export const recordRollbackPoint = defineActivity<RecordPointInput, RollbackPoint>(
  'rollback_record',
  async (input) => {
    const { rollbackPoints, settings } = services();
    const days = input.retentionDays ?? settings.rollbackRetentionDays;
    const expiresAt = new Date(Date.parse(input.createdAt) + days * 24 * 3600 * 1000).toISOString();
    return rollbackPoints.create({
      id: `rp-${input.sagaInstanceId}`,
      sagaInstanceId: input.sagaInstanceId,
      origin: 'saga',
      description: input.description,
      createdAt: input.createdAt,
      expiresAt,
      status: 'active',
      resources: input.resources,
      plan: input.plan,
      snapshots: input.snapshots,
    });
  },
);
