import { describe, it, expect } from 'vitest';
import { VirtualClock } from '../../host/clock';
import {
  TimerTriggerScheduler,
  type TimerInfo,
  type TimerScheduleState,
  type TimerStateStore,
} from '../../host/timers/scheduler';

const START = Date.parse('2024-01-01T00:00:00Z');
const MINUTE = 60_000;
const at = (minutes: number): number => START + minutes * MINUTE;
const isoAt = (minutes: number): string => new Date(at(minutes)).toISOString();
const NEVER_ISO = '0001-01-01T00:00:00.000Z';

class MemoryStore implements TimerStateStore {
  readonly states = new Map<string, TimerScheduleState>();
  get(name: string): TimerScheduleState | undefined {
    return this.states.get(name);
  }
  set(name: string, s: TimerScheduleState): void {
    this.states.set(name, { ...s });
  }
}

interface Call {
  name: string;
  at: number;
  info: TimerInfo;
}

/** Lets invocation promises (and the status saves after them) settle. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Advances one due callback at a time, settling in between, as the host's idle loop would. */
async function runUntil(clock: VirtualClock, target: number): Promise<void> {
  for (let due = clock.nextDue(); due !== undefined && due <= target; due = clock.nextDue()) {
    clock.advanceTo(due);
    await settle();
  }
  clock.advanceTo(target);
  await settle();
}

function setup(
  options: { clock?: VirtualClock; store?: MemoryStore; fail?: (call: Call) => Promise<void> } = {},
) {
  const clock = options.clock ?? new VirtualClock(START);
  const store = options.store ?? new MemoryStore();
  const calls: Call[] = [];
  const logs: string[] = [];
  const scheduler = new TimerTriggerScheduler({
    clock,
    store,
    timeZone: 'UTC',
    invoke: async (name, info) => {
      const call = { name, at: clock.now(), info };
      calls.push(call);
      await options.fail?.(call);
    },
    log: (msg) => logs.push(msg),
  });
  return { clock, store, calls, logs, scheduler };
}

describe('TimerTriggerScheduler', () => {
  it('fires each occurrence in order with the matching scheduleStatus', async () => {
    const { clock, store, calls, scheduler } = setup();
    scheduler.add('tick', '0 */5 * * * *', false);
    scheduler.start();

    // `next` is persisted before waiting for it.
    expect(store.get('tick')).toEqual({ last: Date.parse(NEVER_ISO), next: at(5), lastUpdated: START });

    await runUntil(clock, at(15));
    expect(calls.map((c) => c.at)).toEqual([at(5), at(10), at(15)]);
    expect(calls.map((c) => c.info)).toEqual([
      {
        schedule: { adjustForDST: true },
        scheduleStatus: { last: NEVER_ISO, next: isoAt(5), lastUpdated: isoAt(0) },
        isPastDue: false,
      },
      {
        schedule: { adjustForDST: true },
        scheduleStatus: { last: isoAt(5), next: isoAt(10), lastUpdated: isoAt(5) },
        isPastDue: false,
      },
      {
        schedule: { adjustForDST: true },
        scheduleStatus: { last: isoAt(10), next: isoAt(15), lastUpdated: isoAt(10) },
        isPastDue: false,
      },
    ]);
    expect(store.get('tick')).toEqual({ last: at(15), next: at(20), lastUpdated: at(15) });
    await scheduler.stop();
  });

  it('runs a missed occurrence exactly once after a restart, then resumes the schedule', async () => {
    const first = setup();
    first.scheduler.add('tick', '0 */5 * * * *', false);
    first.scheduler.start();
    await runUntil(first.clock, at(5));
    await first.scheduler.stop();
    expect(first.calls).toHaveLength(1);

    // Host down from 00:05 to 00:32: the 00:10 .. 00:30 occurrences are missed.
    first.clock.advanceTo(at(32));
    const second = setup({ clock: first.clock, store: first.store });
    // runOnStartup too: the past-due run replaces it rather than adding a second one.
    second.scheduler.add('tick', '0 */5 * * * *', true);
    second.scheduler.start();
    await settle();

    expect(second.calls).toEqual([
      {
        name: 'tick',
        at: at(32),
        info: {
          schedule: { adjustForDST: true },
          scheduleStatus: { last: isoAt(5), next: isoAt(10), lastUpdated: isoAt(5) },
          isPastDue: true,
        },
      },
    ]);
    expect(second.store.get('tick')).toEqual({ last: at(32), next: at(35), lastUpdated: at(32) });

    await runUntil(second.clock, at(40));
    expect(second.calls.map((c) => [c.at, c.info.isPastDue])).toEqual([
      [at(32), true],
      [at(35), false],
      [at(40), false],
    ]);
    await second.scheduler.stop();
  });

  it('does not treat a restart before the next occurrence as past due', async () => {
    const first = setup();
    first.scheduler.add('tick', '0 */5 * * * *', false);
    first.scheduler.start();
    await first.scheduler.stop();

    first.clock.advanceTo(at(3));
    const second = setup({ clock: first.clock, store: first.store });
    second.scheduler.add('tick', '0 */5 * * * *', false);
    second.scheduler.start();
    await runUntil(second.clock, at(5));
    expect(second.calls.map((c) => [c.at, c.info.isPastDue])).toEqual([[at(5), false]]);
    await second.scheduler.stop();
  });

  it('treats a recorded next that the new schedule would not produce as a schedule change, not a miss', async () => {
    const store = new MemoryStore();
    store.set('tick', { last: at(-7), next: at(-2), lastUpdated: at(-7) });
    const { clock, calls, logs, scheduler } = setup({ store });
    scheduler.add('tick', '0 0 * * * *', false);
    scheduler.start();
    await settle();
    expect(calls).toEqual([]);
    expect(logs.join('\n')).toMatch(/schedule changed/);
    expect(store.get('tick')).toEqual({ last: at(-7), next: at(60), lastUpdated: START });
    await runUntil(clock, at(60));
    expect(calls.map((c) => c.at)).toEqual([at(60)]);
    await scheduler.stop();
  });

  it('retries an occurrence whose invocation was cut short by a crash', async () => {
    const first = setup({ fail: () => new Promise<void>(() => {}) });
    first.scheduler.add('tick', '0 */5 * * * *', false);
    first.scheduler.start();
    await runUntil(first.clock, at(6));
    expect(first.calls).toHaveLength(1);

    // The first host is abandoned mid-invocation; a fresh clock keeps its pending timers out of the way.
    const second = setup({ clock: new VirtualClock(at(7)), store: first.store });
    second.scheduler.add('tick', '0 */5 * * * *', false);
    second.scheduler.start();
    await settle();
    expect(second.calls.map((c) => [c.at, c.info.isPastDue, c.info.scheduleStatus?.next])).toEqual([
      [at(7), true, isoAt(5)],
    ]);
    await second.scheduler.stop();
  });

  it('runs once at start when runOnStartup is set', async () => {
    const { clock, calls, scheduler } = setup();
    scheduler.add('boot', '0 0 * * * *', true);
    scheduler.start();
    await settle();
    expect(calls.map((c) => [c.at, c.info.isPastDue, c.info.scheduleStatus?.next])).toEqual([
      [START, false, isoAt(60)],
    ]);

    await runUntil(clock, at(60));
    expect(calls.map((c) => c.at)).toEqual([START, at(60)]);
    expect(calls[1].info.scheduleStatus).toEqual({ last: isoAt(0), next: isoAt(60), lastUpdated: isoAt(0) });
    await scheduler.stop();
  });

  it('logs a failing invocation and keeps the schedule going', async () => {
    const { clock, store, calls, logs, scheduler } = setup({
      fail: async (call) => {
        if (call.at === at(5)) throw new Error('boom');
      },
    });
    scheduler.add('flaky', '0 */5 * * * *', false);
    scheduler.start();
    await runUntil(clock, at(15));

    expect(calls.map((c) => c.at)).toEqual([at(5), at(10), at(15)]);
    expect(logs).toContain("Timer 'flaky' invocation failed: boom");
    expect(calls[1].info.scheduleStatus?.last).toBe(isoAt(5));
    expect(store.get('flaky')).toEqual({ last: at(15), next: at(20), lastUpdated: at(15) });
    await scheduler.stop();
  });

  it('skips an occurrence while the previous invocation is still running', async () => {
    let release = (): void => {};
    const { clock, store, calls, logs, scheduler } = setup({
      fail: (call) =>
        call.at === at(5) ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve(),
    });
    scheduler.add('slow', '0 */5 * * * *', false);
    scheduler.start();
    await runUntil(clock, at(12));

    expect(calls.map((c) => c.at)).toEqual([at(5)]);
    expect(logs.join('\n')).toMatch(/skipped its 2024-01-01T00:10:00.000Z occurrence/);

    release();
    await settle();
    expect(store.get('slow')).toEqual({ last: at(5), next: at(15), lastUpdated: at(12) });

    await runUntil(clock, at(15));
    expect(calls.map((c) => c.at)).toEqual([at(5), at(15)]);
    expect(calls[1].info.scheduleStatus).toEqual({ last: isoAt(5), next: isoAt(15), lastUpdated: isoAt(12) });
    await scheduler.stop();
  });

  it('runs TimeSpan schedules at a fixed interval without DST adjustment', async () => {
    const { clock, calls, scheduler } = setup();
    scheduler.add('every7', '00:07:00', false);
    scheduler.start();
    await runUntil(clock, at(21));
    expect(calls.map((c) => c.at)).toEqual([at(7), at(14), at(21)]);
    expect(calls[0].info.schedule).toEqual({ adjustForDST: false });
    await scheduler.stop();
  });

  it('stops firing after stop()', async () => {
    const { clock, calls, scheduler } = setup();
    scheduler.add('tick', '0 */5 * * * *', false);
    scheduler.start();
    await scheduler.stop();
    await runUntil(clock, at(30));
    expect(calls).toEqual([]);
  });

  it('rejects bad schedules, duplicate names and unknown zones with clear errors', () => {
    const { scheduler } = setup();
    expect(() => scheduler.add('bad', '0 0 25 * * *', false)).toThrow(
      /^Timer 'bad': Invalid schedule "0 0 25 \* \* \*": hour field "25"/,
    );
    scheduler.add('tick', '0 * * * * *', false);
    expect(() => scheduler.add('tick', '0 * * * * *', false)).toThrow(/already registered/);
    expect(
      () =>
        new TimerTriggerScheduler({
          clock: new VirtualClock(START),
          store: new MemoryStore(),
          timeZone: 'Nowhere/Land',
          invoke: async () => {},
        }),
    ).toThrow(/Unknown time zone "Nowhere\/Land"/);
  });

  it('reads cron fields in the configured zone, including Windows names', async () => {
    const clock = new VirtualClock(Date.parse('2024-07-01T00:00:00Z'));
    const fired: number[] = [];
    const scheduler = new TimerTriggerScheduler({
      clock,
      store: new MemoryStore(),
      timeZone: 'GMT Standard Time',
      invoke: async () => {
        fired.push(clock.now());
      },
    });
    scheduler.add('morning', '0 0 9 * * *', false);
    scheduler.start();
    await runUntil(clock, Date.parse('2024-07-02T00:00:00Z'));
    expect(fired).toEqual([Date.parse('2024-07-01T08:00:00Z')]);
    await scheduler.stop();
  });
});
