/**
 * Timer-trigger schedules as Azure Functions reads them: six-field NCRONTAB expressions
 * (`{second} {minute} {hour} {day} {month} {day-of-week}`), the five-field form without seconds, and
 * TimeSpan intervals (`hh:mm:ss`, "every interval"). Occurrences are computed in an IANA time zone (see
 * timeZones.ts).
 *
 * croner expands the fields and finds matching times. What stays here is where NCrontab differs from it:
 * NCrontab's error messages, name prefixes ("Wed", "Wednesday"), `a/n` meaning "a through the maximum",
 * day of week 7 rejected, day-of-month AND day-of-week, TimeSpans, and DST (a skipped wall time does not
 * fire, a repeated one fires once; croner's fixed-time jobs run after a gap and its interval jobs run twice).
 *
 * Pure functions only: this module must never read the clock, the environment or set timers. Callers pass
 * the instant and the zone in, so a schedule evaluates the same under a virtual clock as a real one.
 */
import { Cron, CronPattern } from 'croner';
import { earliestInstant, wallAt } from './timeZones';

export interface CronSchedule {
  readonly kind: 'cron';
  readonly expression: string;
  /** Allowed values of each field, ascending. Day of week: 0 = Sunday .. 6 = Saturday. */
  readonly seconds: readonly number[];
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly days: readonly number[];
  readonly months: readonly number[];
  readonly daysOfWeek: readonly number[];
  /** The expression in croner's syntax, evaluated in UTC: its times are wall-clock times of the zone. */
  readonly wallClock: Cron;
}

export interface IntervalSchedule {
  readonly kind: 'interval';
  readonly expression: string;
  readonly intervalMs: number;
}

export type Schedule = CronSchedule | IntervalSchedule;

interface FieldSpec {
  readonly label: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const SECOND: FieldSpec = { label: 'second', min: 0, max: 59 };
const MINUTE: FieldSpec = { label: 'minute', min: 0, max: 59 };
const HOUR: FieldSpec = { label: 'hour', min: 0, max: 23 };
const DAY: FieldSpec = { label: 'day', min: 1, max: 31 };
const MONTH: FieldSpec = {
  label: 'month',
  min: 1,
  max: 12,
  names: [
    'January',
    'February',
    'March',
    'April',
    'May',
    'June',
    'July',
    'August',
    'September',
    'October',
    'November',
    'December',
  ],
};
// NCrontab allows 0-6 only (0 = Sunday); unlike Vixie cron (and croner), 7 is rejected, so it is rejected here too.
const DAY_OF_WEEK: FieldSpec = {
  label: 'day-of-week',
  min: 0,
  max: 6,
  names: ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'],
};
const CRON_FIELDS = [SECOND, MINUTE, HOUR, DAY, MONTH, DAY_OF_WEEK] as const;

// UTC: croner sees naive wall-clock times, so its own DST handling never applies (ours does, below).
// domAndDow: NCrontab requires day-of-month AND day-of-week to match when both are restricted (Vixie cron
// uses OR), so "0 0 0 13 * Fri" means Friday the 13th only.
const CRONER_OPTIONS = { timezone: 'UTC', domAndDow: true, mode: '6-part' } as const;

/** Longest each month can be (February in a leap year), to reject dates that can never occur. */
const MAX_DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Parses a timer schedule. Like Azure, a single token containing ':' is a TimeSpan; otherwise the
 * expression must have 6 fields, or 5 (seconds then default to 0). Throws an Error naming the bad field.
 */
export function parseSchedule(expression: string): Schedule {
  const tokens = expression
    .trim()
    .split(/\s+/)
    .filter((t) => t.length > 0);
  if (tokens.length === 1 && tokens[0].includes(':')) return parseTimeSpan(expression, tokens[0]);
  if (tokens.length !== 6 && tokens.length !== 5) {
    throw new Error(
      `Invalid schedule "${expression}": expected 6 fields ({second} {minute} {hour} {day} {month} {day-of-week}), ` +
        `5 fields (no seconds) or a TimeSpan such as "00:05:00", but found ${tokens.length}`,
    );
  }
  const fields = tokens.length === 6 ? tokens : ['0', ...tokens];
  const pattern = fields.map((token, i) => toCronerField(expression, token, CRON_FIELDS[i])).join(' ');
  const expanded = new CronPattern(pattern, undefined, { mode: CRONER_OPTIONS.mode });
  const allowed = (flags: readonly number[], min: number): number[] =>
    flags.flatMap((flag, i) => (flag ? [i + min] : []));
  const [days, months] = [allowed(expanded.day, 1), allowed(expanded.month, 1)];

  if (!months.some((m) => days[0] <= MAX_DAYS_IN_MONTH[m - 1])) {
    throw new Error(
      `Invalid schedule "${expression}": the day and month fields never coincide, so it would never fire`,
    );
  }
  return {
    kind: 'cron',
    expression,
    seconds: allowed(expanded.second, 0),
    minutes: allowed(expanded.minute, 0),
    hours: allowed(expanded.hour, 0),
    days,
    months,
    daysOfWeek: allowed(expanded.dayOfWeek, 0),
    wallClock: new Cron(pattern, CRONER_OPTIONS),
  };
}

/**
 * The first occurrence strictly after `afterEpochMs`, with cron fields read as wall-clock time in
 * `timeZone` (an IANA name; see resolveTimeZone). Around DST changes a wall-clock time that does not exist
 * is skipped, and one that happens twice fires only at its first instant.
 */
export function nextOccurrence(schedule: Schedule, afterEpochMs: number, timeZone: string): number {
  if (schedule.kind === 'interval') return afterEpochMs + schedule.intervalMs;

  let wall = wallAt(timeZone, afterEpochMs);
  for (;;) {
    const match = schedule.wallClock.nextRun(new Date(wall));
    if (match === null) break;
    wall = match.getTime();
    const instant = earliestInstant(timeZone, wall);
    // Undefined: the wall time falls in a DST gap. <= after: we are in the second pass of a repeated hour
    // and this wall time already occurred in the first pass. Stepping past them one match at a time is
    // simple but slow for per-second schedules (~0.1 s to cross a one-hour change); rare enough to accept.
    if (instant !== undefined && instant > afterEpochMs) return instant;
  }
  throw new Error(`Schedule "${schedule.expression}" has no future occurrence`);
}

function parseTimeSpan(expression: string, token: string): IntervalSchedule {
  // .NET TimeSpan format [d.]hh:mm[:ss[.fffffff]], which is what Azure falls back to when cron parsing fails.
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?$/.exec(token);
  if (!match) {
    throw new Error(
      `Invalid schedule "${expression}": not a TimeSpan; expected [d.]hh:mm[:ss] such as "00:05:00"`,
    );
  }
  const [days, hours, minutes, seconds] = [match[1], match[2], match[3], match[4]].map((p) => Number(p ?? 0));
  if (hours > 23 || minutes > 59 || seconds > 59) {
    throw new Error(
      `Invalid schedule "${expression}": TimeSpan hours must be 0-23 and minutes and seconds 0-59`,
    );
  }
  const fractionMs = Number(`0.${match[5] ?? '0'}`) * 1000;
  const intervalMs = ((days * 24 + hours) * 60 + minutes) * 60_000 + seconds * 1000 + fractionMs;
  if (intervalMs <= 0)
    throw new Error(`Invalid schedule "${expression}": a TimeSpan interval must be positive`);
  return { kind: 'interval', expression, intervalMs };
}

/**
 * Checks one NCrontab field and rewrites it in croner's syntax: names become numbers and every stepped item
 * an explicit `low-high/step`. The checks are here, not left to croner, so that errors read as NCrontab's
 * rules and name the field.
 */
function toCronerField(expression: string, token: string, field: FieldSpec): string {
  const fail = (why: string): never => {
    throw new Error(`Invalid schedule "${expression}": ${field.label} field "${token}": ${why}`);
  };
  const value = (text: string): number => {
    if (/^\d+$/.test(text)) {
      const n = Number(text);
      if (n < field.min || n > field.max) {
        const hint = field === DAY_OF_WEEK ? ' (0 = Sunday)' : '';
        fail(`${n} is out of range ${field.min}-${field.max}${hint}`);
      }
      return n;
    }
    // NCrontab accepts any case-insensitive prefix of the full name ("Mon", "mon", "Monday"); first match wins.
    const lower = text.toLowerCase();
    const index = /^[a-z]+$/.test(lower)
      ? (field.names?.findIndex((n) => n.toLowerCase().startsWith(lower)) ?? -1)
      : -1;
    if (index < 0) {
      fail(
        `"${text}" is not a number${field.names ? ` or a ${field.label} name (${field.names.join(', ')})` : ''}`,
      );
    }
    return field.min + index;
  };

  const items = token.split(',').map((item) => {
    const [range, stepText, extra] = item.split('/');
    if (range === '' || extra !== undefined) fail(`"${item}" is not a value, range or step`);
    const step = stepText === undefined ? 1 : /^\d+$/.test(stepText) ? Number(stepText) : 0;
    if (step === 0) fail(`step "${stepText}" must be a positive whole number`);
    const dash = range.indexOf('-');
    let [low, high] = [field.min, field.max];
    if (dash > 0) {
      [low, high] = [value(range.slice(0, dash)), value(range.slice(dash + 1))];
      if (low > high) fail(`range ${range} runs backwards`);
    } else if (range !== '*') {
      low = value(range);
      // NCrontab reads "a/n" as "a through the maximum, every n".
      if (stepText === undefined) high = low;
    }
    // croner rejects a step longer than the field; NCrontab takes it to mean just the first value.
    return low === high || step > high - low ? `${low}` : `${low}-${high}/${step}`;
  });
  return items.join(',');
}
