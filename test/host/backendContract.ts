/**
 * The contract of the durable storage port (host/durable/backend.ts), as a suite any backend must
 * pass: call `describeBackendContract(name, open)` from a test file with a function that opens a
 * fresh, empty backend. It checks what the engine relies on: work items in, one atomic outcome out.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type {
  Backend,
  InstanceRow,
  NewActivityWork,
  NewInboxMessage,
  OrchestrationCompletion,
} from '../../host/durable/backend';
import { EventType, event } from '../../host/durable/history';
import { newInstance } from '../../host/durable/instanceRecords';

const T0 = Date.parse('2026-01-01T00:00:00Z');

function start(instanceId: string, now = T0, name = 'flow'): ReturnType<typeof newInstance> {
  return newInstance({ instanceId, name, input: '"in"', version: null, now });
}

function raised(instanceId: string, name: string, visibleAt = T0): NewInboxMessage {
  return {
    instanceId,
    event: event(EventType.EventRaised, visibleAt, { Name: name, Input: null }),
    visibleAt,
  };
}

/** A completion of `row` that consumes `consumed`, appends one event and sets `status`. */
function completion(
  row: InstanceRow,
  consumed: number[],
  overrides: Partial<OrchestrationCompletion> = {},
): OrchestrationCompletion {
  return {
    instanceId: row.instanceId,
    executionId: row.executionId,
    consumed,
    history: { append: [event(EventType.OrchestratorStarted, T0)] },
    clearInbox: false,
    instance: { ...row, status: 'Running', updatedAt: T0 + 1 },
    outgoing: [],
    ...overrides,
  };
}

export function describeBackendContract(name: string, open: () => Backend): void {
  describe(`the durable backend contract: ${name}`, () => {
    let backend: Backend;
    const fresh = (): Backend => (backend = open());
    afterEach(() => backend?.close());

    it('creates an instance with its start event waiting in its inbox', () => {
      const b = fresh();
      const s = start('a');
      expect(b.createInstance(s)).toEqual({ created: true });
      expect(b.getInstance('a')).toEqual(s.instance);
      expect(b.pendingInboxes()).toEqual([{ instanceId: 'a', due: T0 }]);
      const item = b.takeOrchestrationWorkItem('a', T0);
      expect(item?.instance.status).toBe('Pending');
      expect(item?.newEvents.map((m) => [m.event.EventType, m.executionId])).toEqual([
        [EventType.ExecutionStarted, s.instance.executionId],
      ]);
    });

    it('refuses to create over a running instance and replaces a finished one with nothing left of it', async () => {
      const b = fresh();
      const first = start('a');
      b.createInstance(first);
      const item = b.takeOrchestrationWorkItem('a', T0);
      await b.completeOrchestrationWorkItem(
        completion(first.instance, [item?.newEvents[0].id ?? -1], {
          outgoing: [{ kind: 'activity', work: work(first.instance, 1) }],
        }),
      );
      const refused = b.createInstance(start('a', T0 + 5));
      expect(refused).toMatchObject({ created: false, existing: { status: 'Running' } });
      expect(await b.createInstanceGrouped(start('a', T0 + 5))).toMatchObject({ created: false });

      b.completeOrchestrationWorkItemNow(
        completion(first.instance, [], {
          instance: { ...first.instance, status: 'Completed' },
          clearInbox: true,
        }),
      );
      const second = start('a', T0 + 10);
      expect(await b.createInstanceGrouped(second)).toEqual({ created: true });
      expect(b.getInstance('a')?.executionId).toBe(second.instance.executionId);
      expect(b.history('a')).toEqual([]);
      expect(b.pendingActivityWork()).toEqual([]);
      expect(b.pendingEvents('a', T0 + 10)).toHaveLength(1);
    });

    it('hands out only the events visible at the time asked, and says when the next one is due', () => {
      const b = fresh();
      b.createInstance(start('a'));
      b.addEvents([raised('a', 'soon', T0 + 100), raised('a', 'later', T0 + 200)]);
      expect(b.takeOrchestrationWorkItem('a', T0)?.newEvents).toHaveLength(1);
      expect(b.nextDue('a', T0)).toBe(T0 + 100);
      expect(b.takeOrchestrationWorkItem('a', T0 + 150)?.newEvents.map((m) => m.event.Name)).toEqual([
        'flow',
        'soon',
      ]);
      expect(b.nextDue('a', T0 + 200)).toBeUndefined();
    });

    it('drops the messages of an instance that does not exist when its work item is taken', () => {
      const b = fresh();
      b.addEvents([raised('ghost', 'x')]);
      expect(b.takeOrchestrationWorkItem('ghost', T0)).toBeUndefined();
      expect(b.pendingEvents('ghost', T0)).toEqual([]);
      expect(b.pendingInboxes()).toEqual([]);
    });

    it('uses a cached row only while the store holds that execution with that history length', async () => {
      const b = fresh();
      const s = start('a');
      b.createInstance(s);
      const cachedRow = { ...s.instance, customStatus: '"from cache"' };
      expect(b.takeOrchestrationWorkItem('a', T0, { row: cachedRow, historyLength: 0 })).toMatchObject({
        fromCache: true,
        instance: cachedRow,
      });
      expect(b.takeOrchestrationWorkItem('a', T0, { row: cachedRow, historyLength: 3 })).toMatchObject({
        fromCache: false,
        instance: s.instance,
      });
      const other = { ...cachedRow, executionId: 'another' };
      expect(b.takeOrchestrationWorkItem('a', T0, { row: other, historyLength: 0 })?.fromCache).toBe(false);
    });

    it('commits an episode in one step: inbox, history (as played), row, messages, work and children', async () => {
      const b = fresh();
      const s = start('p');
      b.createInstance(s);
      b.addEvents([raised('p', 'stays')]);
      const item = b.takeOrchestrationWorkItem('p', T0);
      const startedId = item?.newEvents[0].id ?? -1;
      const result = await b.completeOrchestrationWorkItem(
        completion(s.instance, [startedId], {
          history: { append: [event(EventType.OrchestratorStarted, T0), event(EventType.TaskScheduled, T0)] },
          outgoing: [
            { kind: 'message', message: raised('@counter@k', 'op') },
            { kind: 'activity', work: work(s.instance, 0) },
            {
              kind: 'child',
              child: newInstance({
                instanceId: 'c',
                name: 'child',
                input: null,
                version: null,
                parent: { instanceId: 'p', executionId: s.instance.executionId, taskId: 1, name: 'flow' },
                now: T0,
              }),
              refusal: () => raised('p', 'refused'),
            },
          ],
        }),
      );
      expect(result).toMatchObject({ written: true, childrenStarted: ['c'], childrenRefused: [] });
      expect(result.activities).toEqual([{ ...work(s.instance, 0), id: expect.any(Number) as number }]);
      expect(b.pendingActivityWork()).toEqual(result.activities);
      expect(b.history('p').map((e) => [e.EventType, e.IsPlayed])).toEqual([
        [EventType.OrchestratorStarted, true],
        [EventType.TaskScheduled, true],
      ]);
      expect(b.historyLength('p')).toBe(2);
      expect(b.getInstance('p')?.status).toBe('Running');
      expect(b.pendingEvents('p', T0).map((m) => m.event.Name)).toEqual(['stays']);
      expect(b.pendingEvents('@counter@k', T0)).toHaveLength(1);
      expect(b.getInstance('c')?.parentInstanceId).toBe('p');

      // The same child again while it runs: refused, and the parent is told instead.
      const again = await b.completeOrchestrationWorkItem(
        completion(s.instance, [], {
          history: { append: [] },
          outgoing: [
            { kind: 'child', child: start('c', T0, 'child'), refusal: (st) => raised('p', `refused ${st}`) },
          ],
        }),
      );
      expect(again.childrenRefused).toEqual(['c']);
      expect(b.pendingEvents('p', T0).map((m) => m.event.Name)).toEqual(['stays', 'refused Pending']);
    });

    it('appends after what is stored, and replaces the history for a new execution', () => {
      const b = fresh();
      const s = start('a');
      b.createInstance(s);
      b.completeOrchestrationWorkItemNow(completion(s.instance, []));
      b.completeOrchestrationWorkItemNow(completion(s.instance, []));
      expect(b.historyLength('a')).toBe(2);
      expect(b.historyTexts('a')).toHaveLength(2);
      b.completeOrchestrationWorkItemNow(completion(s.instance, [], { history: { replace: [] } }));
      expect(b.historyLength('a')).toBe(0);
    });

    it('appends right after the stored history when the episode says how long it read it', async () => {
      const b = fresh();
      const s = start('a');
      b.createInstance(s);
      b.completeOrchestrationWorkItemNow(completion(s.instance, []));
      const appended = [event(EventType.OrchestratorStarted, T0 + 1), event(EventType.TaskScheduled, T0 + 1)];
      await b.completeOrchestrationWorkItem(
        completion(s.instance, [], { history: { append: appended, storedLength: b.historyLength('a') } }),
      );
      const first = event(EventType.OrchestratorStarted, T0);
      expect(b.history('a')).toEqual([first, ...appended].map((e) => ({ ...e, IsPlayed: true })));
    });

    it('writes nothing for an execution the instance has left (terminated or replaced meanwhile)', async () => {
      const b = fresh();
      const s = start('a');
      b.createInstance(s);
      const stale = completion({ ...s.instance, executionId: 'old' }, [], {
        clearInbox: true,
        outgoing: [{ kind: 'activity', work: work(s.instance, 0) }],
      });
      expect(await b.completeOrchestrationWorkItem(stale)).toEqual({
        written: false,
        activities: [],
        childrenStarted: [],
        childrenRefused: [],
      });
      expect(b.getInstance('a')).toEqual(s.instance);
      expect(b.historyLength('a')).toBe(0);
      expect(b.pendingEvents('a', T0)).toHaveLength(1);
      expect(b.pendingActivityWork()).toEqual([]);
    });

    it('writes none of a completion that fails part-way, and still commits the others grouped with it', async () => {
      const b = fresh();
      const a = start('a');
      const other = start('b');
      b.createInstance(a);
      b.createInstance(other);
      const startedA = b.takeOrchestrationWorkItem('a', T0)?.newEvents[0].id ?? -1;
      // A running child makes the backend ask for the refusal, which throws: the whole step must go.
      b.createInstance(start('busy'));
      b.completeOrchestrationWorkItemNow(completion(b.getInstance('busy') as InstanceRow, []));
      const failing = b.completeOrchestrationWorkItem(
        completion(a.instance, [startedA], {
          outgoing: [
            { kind: 'activity', work: work(a.instance, 0) },
            {
              kind: 'child',
              child: start('busy'),
              refusal: () => {
                throw new Error('boom');
              },
            },
          ],
        }),
      );
      const fine = b.completeOrchestrationWorkItem(completion(other.instance, []));
      await expect(failing).rejects.toThrow('boom');
      await expect(fine).resolves.toMatchObject({ written: true });
      expect(b.getInstance('a')?.status).toBe('Pending');
      expect(b.historyLength('a')).toBe(0);
      expect(b.pendingEvents('a', T0)).toHaveLength(1);
      expect(b.pendingActivityWork()).toEqual([]);
      expect(b.getInstance('b')?.status).toBe('Running');
    });

    it('ends an instance: its inbox is cleared before what it sends is written', () => {
      const b = fresh();
      const s = start('a');
      b.createInstance(s);
      b.addEvents([raised('a', 'late')]);
      b.completeOrchestrationWorkItemNow(
        completion(s.instance, [], {
          clearInbox: true,
          instance: { ...s.instance, status: 'Terminated' },
          outgoing: [{ kind: 'message', message: raised('parent', 'told') }],
        }),
      );
      expect(b.pendingEvents('a', T0)).toEqual([]);
      expect(b.pendingEvents('parent', T0)).toHaveLength(1);
    });

    it('completes activity work: the work item goes and its result reaches the orchestration', async () => {
      const b = fresh();
      const s = start('a');
      b.createInstance(s);
      const { activities } = b.completeOrchestrationWorkItemNow(
        completion(s.instance, [], {
          outgoing: [
            { kind: 'activity', work: work(s.instance, 0) },
            { kind: 'activity', work: work(s.instance, 1) },
          ],
        }),
      );
      expect(b.pendingActivityWork().map((w) => w.taskId)).toEqual([0, 1]);
      const done = event(EventType.TaskCompleted, T0, { TaskScheduledId: 0, Result: '1' });
      await b.completeActivityWork([
        {
          workId: activities[0].id,
          message: { instanceId: 'a', executionId: s.instance.executionId, event: done, visibleAt: T0 },
        },
      ]);
      expect(b.pendingActivityWork().map((w) => w.taskId)).toEqual([1]);
      expect(b.pendingEvents('a', T0).map((m) => m.event.EventType)).toEqual([
        EventType.ExecutionStarted,
        EventType.TaskCompleted,
      ]);
    });

    it('commits an entity batch: consumed messages go, state and outgoing messages are written', () => {
      const b = fresh();
      b.addEvents([raised('@counter@k', 'op'), raised('@counter@k', 'op')]);
      const [first] = b.pendingEvents('@counter@k', T0);
      b.completeEntityWorkItem({
        entity: { entityId: '@counter@k', state: '3', exists: true, locks: null },
        consumed: [first.id],
        messages: [raised('a', 'answer')],
      });
      expect(b.getEntity('@counter@k')).toEqual({
        entityId: '@counter@k',
        state: '3',
        exists: true,
        locks: null,
      });
      expect(b.entitiesNamed('counter').map((e) => e.entityId)).toEqual(['@counter@k']);
      expect(b.pendingEvents('@counter@k', T0)).toHaveLength(1);
      expect(b.pendingEvents('a', T0)).toHaveLength(1);
    });

    it('rewinds instances in one step: history replaced, work and messages added, rows written', () => {
      const b = fresh();
      const s = start('a');
      b.createInstance(s);
      b.completeOrchestrationWorkItemNow(
        completion(s.instance, [], { instance: { ...s.instance, status: 'Failed', output: '"x"' } }),
      );
      const added = b.rewind([
        {
          instance: { ...s.instance, status: 'Running', output: null },
          history: [event(EventType.ExecutionStarted, T0), event(EventType.TaskScheduled, T0)],
          activities: [work(s.instance, 0)],
          messages: [raised('a', 'rewind')],
        },
      ]);
      expect(added.map((w) => w.taskId)).toEqual([0]);
      expect(b.getInstance('a')).toMatchObject({ status: 'Running', output: null });
      expect(b.historyLength('a')).toBe(2);
      expect(b.pendingEvents('a', T0).map((m) => m.event.Name)).toContain('rewind');
    });

    it('purges only what is asked, with history, inbox and work', () => {
      const b = fresh();
      for (const [id, status] of [
        ['done-1', 'Completed'],
        ['done-2', 'Failed'],
        ['busy', 'Running'],
      ] as const) {
        const s = start(id);
        b.createInstance(s);
        b.completeOrchestrationWorkItemNow(
          completion(s.instance, [], {
            instance: { ...s.instance, status },
            outgoing: [{ kind: 'activity', work: work(s.instance, 0) }],
          }),
        );
      }
      expect(b.purge('done-1')).toBe(true);
      expect(b.purge('done-1')).toBe(false);
      expect(b.historyLength('done-1')).toBe(0);
      expect(b.purgeWhere({ statuses: ['Failed', 'Running'] })).toEqual(['done-2']);
      expect(b.getInstance('busy')?.status).toBe('Running');
      expect(b.pendingActivityWork().map((w) => w.instanceId)).toEqual(['busy']);
    });

    it('lists instances oldest first in pages, filters and counts them', () => {
      const b = fresh();
      for (let i = 0; i < 5; i++) b.createInstance(start(`i${i}`, T0 + i));
      b.createInstance(start('other', T0 + 9));
      const first = b.queryInstances({ instanceIdPrefix: 'i', top: 2 });
      expect(first.rows.map((r) => r.instanceId)).toEqual(['i0', 'i1']);
      const second = b.queryInstances({ instanceIdPrefix: 'i', top: 2, continuation: first.continuation });
      expect(second.rows.map((r) => r.instanceId)).toEqual(['i2', 'i3']);
      expect(b.queryInstances({ createdFrom: T0 + 4 }).rows.map((r) => r.instanceId)).toEqual([
        'i4',
        'other',
      ]);
      expect(b.countInstances({ instanceIdPrefix: 'i', statuses: ['Pending'] })).toBe(5);
      expect(b.countInstances({ statuses: ['Completed'] })).toBe(0);
      expect(() => b.queryInstances({ continuation: 'not-a-token' })).toThrow(
        expect.objectContaining({ code: 'INVALID_CONTINUATION_TOKEN' }),
      );
    });

    it('lists newest first in pages that stay put while instances are added, reading only a page each', () => {
      const b = fresh();
      // Two instances share each created time: the id breaks the tie.
      for (let i = 0; i < 12; i++)
        b.createInstance(start(`n${String(i).padStart(2, '0')}`, T0 + Math.floor(i / 2)));
      const seen: string[] = [];
      let continuation: string | undefined;
      let pages = 0;
      do {
        const before = b.stats.instanceRowsRead;
        const page = b.queryInstances({ newestFirst: true, top: 5, continuation });
        expect(b.stats.instanceRowsRead - before).toBeLessThanOrEqual(6);
        seen.push(...page.rows.map((r) => r.instanceId));
        continuation = page.continuation;
        // Started between pages: newer than every page's position, so in no later page.
        b.createInstance(start(`late${pages++}`, T0 + 100 + pages));
      } while (continuation);
      expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => `n${String(11 - i).padStart(2, '0')}`));
      expect(pages).toBe(3);
      const oldestFirst = b.queryInstances({ top: 2 }).continuation;
      expect(() => b.queryInstances({ newestFirst: true, continuation: oldestFirst })).toThrow(
        expect.objectContaining({ code: 'INVALID_CONTINUATION_TOKEN' }),
      );
    });

    it('counts its transactions and group commits', async () => {
      const b = fresh();
      const before = { ...b.stats };
      b.createInstance(start('a'));
      await Promise.all([b.createInstanceGrouped(start('b')), b.createInstanceGrouped(start('c'))]);
      const after = b.stats;
      expect(after.transactions - before.transactions).toBe(2);
      expect(after.groupCommits - before.groupCommits).toBe(1);
      expect(after.groupWrites - before.groupWrites).toBe(2);
      expect(after.msInTransactions).toBeGreaterThanOrEqual(before.msInTransactions);
    });
  });
}

function work(row: InstanceRow, taskId: number): NewActivityWork {
  return {
    instanceId: row.instanceId,
    executionId: row.executionId,
    taskId,
    name: 'step',
    input: null,
    kind: 'activity',
  };
}
