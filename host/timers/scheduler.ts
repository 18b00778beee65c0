/**
 * Runs timer-triggered functions on their schedules the way the Azure Functions timer listener does: one
 * invocation per occurrence, a single catch-up run (isPastDue) for an occurrence missed while the host was
 * down, optional runOnStartup, and a persisted schedule status so a restart can tell what it missed.
 *
 * It must never read the system time or set timers itself (everything goes through the Clock, so virtual
 * time works), never run two invocations of one timer at once, and never let a failing function stop its
 * schedule or throw into the caller.
 */
import type { Clock } from '../clock';
import { nextOccurrence, parseSchedule, type Schedule } from './ncrontab';
import { resolveTimeZone } from './timeZones';

/** Epoch ms. Mirrors Azure's ScheduleStatus. */
export interface TimerScheduleState {
  last: number;
  next: number;
  lastUpdated: number;
}

export interface TimerStateStore {
  get(name: string): TimerScheduleState | undefined;
  set(name: string, s: TimerScheduleState): void;
}

/** The value a v4 Node timer handler receives (camel-cased, ISO timestamps). */
export interface TimerInfo {
  schedule: { adjustForDST: boolean };
  scheduleStatus?: { last: string; next: string; lastUpdated: string };
  isPastDue: boolean;
}

export interface TimerTriggerSchedulerOptions {
  clock: Clock;
  store: TimerStateStore;
  /** IANA or Windows zone name (WEBSITE_TIME_ZONE); cron fields are read as wall-clock time there. */
  timeZone: string;
  invoke: (name: string, timerInfo: TimerInfo) => Promise<void>;
  log?: (msg: string) => void;
}

/** .NET's DateTime.MinValue, which Azure reports as `last` before a timer has ever run. */
const NEVER = Date.parse('0001-01-01T00:00:00Z');

interface Timer {
  readonly name: string;
  readonly schedule: Schedule;
  readonly runOnStartup: boolean;
  /** The occurrence currently armed on the clock. */
  next: number;
  /** The status as last persisted; what the next invocation is shown. */
  status?: TimerScheduleState;
  cancel?: () => void;
  /** Set while an invocation is in flight. */
  running?: Promise<void>;
}

export class TimerTriggerScheduler {
  private readonly timers = new Map<string, Timer>();
  private readonly timeZone: string;
  private readonly log: (msg: string) => void;
  private started = false;

  constructor(private readonly options: TimerTriggerSchedulerOptions) {
    this.timeZone = resolveTimeZone(options.timeZone);
    this.log = options.log ?? ((msg) => console.error(msg));
  }

  /** Registers a timer function. Throws if the schedule is invalid or the name is taken. */
  add(name: string, schedule: string, runOnStartup: boolean): void {
    if (this.timers.has(name)) throw new Error(`Timer '${name}' is already registered`);
    let parsed: Schedule;
    try {
      parsed = parseSchedule(schedule);
    } catch (err) {
      throw new Error(`Timer '${name}': ${describe(err)}`);
    }
    const timer: Timer = { name, schedule: parsed, runOnStartup, next: NaN };
    this.timers.set(name, timer);
    if (this.started) this.begin(timer);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const timer of this.timers.values()) this.begin(timer);
  }

  /** Stops firing. The promise settles once in-flight invocations have finished and saved their status. */
  async stop(): Promise<void> {
    this.started = false;
    for (const timer of this.timers.values()) {
      timer.cancel?.();
      timer.cancel = undefined;
    }
    await Promise.all([...this.timers.values()].map((t) => t.running));
  }

  private begin(timer: Timer): void {
    const now = this.options.clock.now();
    const stored = this.load(timer.name);
    const next = nextOccurrence(timer.schedule, now, this.timeZone);

    if (stored !== undefined && stored.next <= now) {
      if (this.isOccurrence(timer.schedule, stored.next)) {
        this.log(
          `Timer '${timer.name}' missed its ${iso(stored.next)} occurrence; running it now (isPastDue)`,
        );
        timer.status = stored;
        this.arm(timer, next);
        // The store keeps the missed `next` until the catch-up finishes, so a crash during it retries it.
        this.run(timer, true, () => ({ last: now, next: timer.next, lastUpdated: this.options.clock.now() }));
        return;
      }
      // Azure treats a recorded `next` the current schedule would not produce as a schedule change, not a miss.
      this.log(
        `Timer '${timer.name}' schedule changed since ${iso(stored.next)} was recorded; not running it as missed`,
      );
    }

    // Persist `next` before waiting for it, so a host that dies before then sees it as missed on restart.
    this.save(timer, { last: stored?.last ?? NEVER, next, lastUpdated: now });
    this.arm(timer, next);
    if (timer.runOnStartup) {
      this.run(timer, false, () => ({ last: now, next: timer.next, lastUpdated: this.options.clock.now() }));
    }
  }

  private arm(timer: Timer, at: number): void {
    timer.next = at;
    timer.cancel = this.options.clock.schedule(at, () => this.fire(timer, at));
  }

  private fire(timer: Timer, at: number): void {
    timer.cancel = undefined;
    if (!this.started) return;
    const now = this.options.clock.now();
    let next = nextOccurrence(timer.schedule, at, this.timeZone);
    // If the clock jumped (host suspended), resume from now instead of replaying every occurrence in between.
    if (next <= now) next = nextOccurrence(timer.schedule, now, this.timeZone);
    // Arm before invoking so a slow invocation cannot push the schedule back.
    this.arm(timer, next);

    if (timer.running) {
      this.log(
        `Timer '${timer.name}' skipped its ${iso(at)} occurrence: the previous invocation is still running`,
      );
      return;
    }
    // Saved only after the invocation, so a crash mid-run leaves `next` = `at` and the restart retries it.
    this.run(timer, false, () => ({ last: at, next: timer.next, lastUpdated: this.options.clock.now() }));
  }

  /** Starts an invocation; `after` gives the status to persist once it has finished, however it ended. */
  private run(timer: Timer, isPastDue: boolean, after: () => TimerScheduleState): void {
    const status = timer.status;
    const info: TimerInfo = {
      schedule: { adjustForDST: timer.schedule.kind === 'cron' },
      scheduleStatus: status && {
        last: iso(status.last),
        next: iso(status.next),
        lastUpdated: iso(status.lastUpdated),
      },
      isPastDue,
    };
    timer.running = (async () => {
      try {
        await this.options.invoke(timer.name, info);
      } catch (err) {
        this.log(`Timer '${timer.name}' invocation failed: ${describe(err)}`);
      }
      timer.running = undefined;
      this.save(timer, after());
    })();
  }

  /**
   * Whether `at` is an occurrence of the schedule. Interval schedules have no fixed phase, so any
   * instant counts.
   */
  private isOccurrence(schedule: Schedule, at: number): boolean {
    return schedule.kind === 'interval' || nextOccurrence(schedule, at - 1, this.timeZone) === at;
  }

  private load(name: string): TimerScheduleState | undefined {
    try {
      return this.options.store.get(name);
    } catch (err) {
      this.log(`Timer '${name}': could not read its schedule status, starting fresh: ${describe(err)}`);
      return undefined;
    }
  }

  private save(timer: Timer, status: TimerScheduleState): void {
    timer.status = status;
    try {
      this.options.store.set(timer.name, status);
    } catch (err) {
      this.log(`Timer '${timer.name}': could not save its schedule status: ${describe(err)}`);
    }
  }
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
