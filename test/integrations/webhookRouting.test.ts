import { describe, expect, it } from 'vitest';
import { routeFor, type DataverseEvent } from '../../lib/dataverse/webhook';

function update(target: Record<string, unknown>, preImage?: Record<string, unknown>): DataverseEvent {
  return {
    message: 'Update',
    table: 'lc_session',
    id: '00000000-0000-0000-0000-000000000001',
    operationId: 'op',
    correlationId: 'corr',
    userId: 'u',
    initiatingUserId: 'u',
    depth: 1,
    target,
    preImage,
  };
}

describe('routing session updates', () => {
  it('routes a real move of a session, and ignores a save that changed nothing that matters', () => {
    expect(
      routeFor(update({ lc_starttime: '2026-12-01T10:00:00Z' }, { lc_starttime: '2026-12-01T09:00:00Z' }))
        ?.orchestration,
    ).toBe('sessionConfirmation');
    expect(
      routeFor(update({ lc_starttime: '2026-12-01T09:00:00Z' }, { lc_starttime: '2026-12-01T09:00:00Z' })),
    ).toBeUndefined();
    expect(routeFor(update({ lc_notes: 'x' }))).toBeUndefined();
    expect(routeFor(update({ lc_starttime: '2026-12-01T10:00:00Z' }))?.orchestration).toBe(
      'sessionConfirmation',
    );
  });
});
