/**
 * Rollback points: what a finished change saga (or a person, by hand) leaves behind so the change
 * can be undone later. Plain data, stored as JSON in Blob storage; the API shows a point as it is
 * stored, so its shape is declared with the API's answers (lib/contracts/responses.d.ts).
 */

import type { TouchedResource } from '../contracts/responses';

export type { RollbackPoint, RollbackStatus, TouchedResource, UndoAction } from '../contracts/responses';

export const DEFAULT_RETENTION_DAYS = 30;

export function resourceKey(r: TouchedResource): string {
  return r.kind === 'dataverse' ? `dataverse:${r.table}:${r.id.toLowerCase()}` : `config:${r.name}`;
}
