import { describe, expect, it } from 'vitest';
import { newInstance } from '../../host/durable/instanceRecords';
import { SqliteBackend } from '../../host/durable/sqliteBackend';
import type { RuntimeStatus } from '../../host/durable/backend';
import { countRecovered, recoveredLine } from '../../host/recovery';

describe('what a host finds left over at startup', () => {
  it('counts unfinished orchestrations as resumed and suspended ones apart, finished ones not at all', () => {
    const store = new SqliteBackend(':memory:');
    try {
      const statuses: RuntimeStatus[] = [
        'Pending',
        'Running',
        'Running',
        'ContinuedAsNew',
        'Suspended',
        'Completed',
        'Failed',
      ];
      for (const [i, status] of statuses.entries()) {
        const start = newInstance({ instanceId: `i${i}`, name: 'flow', input: null, version: null, now: i });
        store.createInstance({ ...start, instance: { ...start.instance, status } });
      }
      const recovered = countRecovered(store);
      expect(recovered).toEqual({ resumed: 4, suspended: 1 });
      expect(recoveredLine(recovered)).toBe(
        'Resumed 4 orchestrations left running at the last stop. 1 orchestration stays suspended until resumed.',
      );
    } finally {
      store.close();
    }
  });

  it('says it in the singular, and nothing when nothing was left', () => {
    expect(recoveredLine({ resumed: 1, suspended: 0 })).toBe(
      'Resumed 1 orchestration left running at the last stop.',
    );
    expect(recoveredLine({ resumed: 0, suspended: 2 })).toBe(
      'No orchestration was left running; 2 orchestrations stay suspended until resumed.',
    );
    expect(recoveredLine({ resumed: 0, suspended: 0 })).toBeUndefined();
  });
});
