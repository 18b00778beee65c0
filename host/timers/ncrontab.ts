/**
 * Timer-trigger schedules as Azure Functions reads them: six-field NCRONTAB expressions
 * (`{second} {minute} {hour} {day} {month} {day-of-week}`), the five-field form without seconds, and
 * TimeSpan intervals (`hh:mm:ss`, "every interval"). Occurrences are computed in an IANA time zone;
 * `resolveTimeZone` maps the Windows names Azure accepts in WEBSITE_TIME_ZONE.
 *
 * Pure functions only: this module must never read the clock, the environment or set timers. Callers pass
 * the instant and the zone in, so a schedule evaluates the same under a virtual clock as a real one.
 */

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
// NCrontab allows 0-6 only (0 = Sunday); unlike Vixie cron, 7 is rejected, so it is rejected here too.
const DAY_OF_WEEK: FieldSpec = {
  label: 'day-of-week',
  min: 0,
  max: 6,
  names: ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'],
};
const CRON_FIELDS = [SECOND, MINUTE, HOUR, DAY, MONTH, DAY_OF_WEEK] as const;

/** Longest each month can be (February in a leap year), to reject dates that can never occur. */
const MAX_DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const MS_PER_SECOND = 1000;
const MS_PER_DAY = 86_400_000;
/** Weekdays and leap years repeat every 400 Gregorian years, so a search that long is exhaustive. */
const SEARCH_YEARS = 400;

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
  const fields = tokens.length === 6 ? CRON_FIELDS : CRON_FIELDS.slice(1);
  const parsed = tokens.map((token, i) => parseField(expression, token, fields[i]));
  const [seconds, minutes, hours, days, months, daysOfWeek] = tokens.length === 6 ? parsed : [[0], ...parsed];

  if (!months.some((m) => days[0] <= MAX_DAYS_IN_MONTH[m - 1])) {
    throw new Error(
      `Invalid schedule "${expression}": the day and month fields never coincide, so it would never fire`,
    );
  }
  return { kind: 'cron', expression, seconds, minutes, hours, days, months, daysOfWeek };
}

/**
 * The first occurrence strictly after `afterEpochMs`, with cron fields read as wall-clock time in
 * `timeZone` (an IANA name; see resolveTimeZone). Around DST changes a wall-clock time that does not exist
 * is skipped, and one that happens twice fires only at its first instant.
 */
export function nextOccurrence(schedule: Schedule, afterEpochMs: number, timeZone: string): number {
  if (schedule.kind === 'interval') return afterEpochMs + schedule.intervalMs;

  const zone = zoneFormatter(timeZone);
  // Walls are "naive" epoch ms: the local date and time encoded as if it were UTC, so plain arithmetic works.
  let from = wallAt(zone, afterEpochMs) + MS_PER_SECOND;
  for (;;) {
    const wall = firstMatchAtOrAfter(schedule, from);
    if (wall === undefined) break;
    const instant = earliestInstant(zone, wall);
    // Undefined: the wall time falls in a DST gap. <= after: we are in the second pass of a repeated hour
    // and this wall time already occurred in the first pass. Stepping past them one match at a time is
    // simple but slow for per-second schedules (~0.1 s to cross a one-hour change); rare enough to accept.
    if (instant !== undefined && instant > afterEpochMs) return instant;
    from = wall + MS_PER_SECOND;
  }
  throw new Error(`Schedule "${schedule.expression}" has no occurrence in the next ${SEARCH_YEARS} years`);
}

/**
 * Maps WEBSITE_TIME_ZONE to an IANA zone. Accepts IANA names (what Linux plans use) and the common Windows
 * names (what Windows plans use). Empty or missing means UTC, as on Azure.
 */
export function resolveTimeZone(name?: string): string {
  const trimmed = name?.trim() ?? '';
  if (trimmed === '') return 'UTC';
  const zone = WINDOWS_TIME_ZONES.get(trimmed.toLowerCase()) ?? trimmed;
  try {
    zoneFormatter(zone);
  } catch {
    throw new Error(
      `Unknown time zone "${trimmed}": use an IANA name such as "Europe/London" or a common Windows name such as ` +
        `"GMT Standard Time"`,
    );
  }
  return zone;
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
  const fractionMs = Number(`0.${match[5] ?? '0'}`) * MS_PER_SECOND;
  const intervalMs = ((days * 24 + hours) * 60 + minutes) * 60_000 + seconds * MS_PER_SECOND + fractionMs;
  if (intervalMs <= 0)
    throw new Error(`Invalid schedule "${expression}": a TimeSpan interval must be positive`);
  return { kind: 'interval', expression, intervalMs };
}

function parseField(expression: string, token: string, field: FieldSpec): number[] {
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

  const allowed = new Set<number>();
  for (const item of token.split(',')) {
    const [range, stepText, extra] = item.split('/');
    if (range === '' || extra !== undefined) fail(`"${item}" is not a value, range or step`);
    let step = 1;
    if (stepText !== undefined) {
      step = /^\d+$/.test(stepText) ? Number(stepText) : 0;
      if (step === 0) fail(`step "${stepText}" must be a positive whole number`);
    }
    let low: number;
    let high: number;
    const dash = range.indexOf('-');
    if (range === '*') {
      [low, high] = [field.min, field.max];
    } else if (dash > 0) {
      [low, high] = [value(range.slice(0, dash)), value(range.slice(dash + 1))];
      if (low > high) fail(`range ${range} runs backwards`);
    } else {
      low = value(range);
      // NCrontab reads "a/n" as "a through the maximum, every n".
      high = stepText === undefined ? low : field.max;
    }
    for (let v = low; v <= high; v += step) allowed.add(v);
  }
  return [...allowed].sort((a, b) => a - b);
}

/** The first wall time (naive ms) at or after `from` that matches every field. */
function firstMatchAtOrAfter(s: CronSchedule, from: number): number | undefined {
  const start = new Date(from);
  const [y0, mo0, d0] = [start.getUTCFullYear(), start.getUTCMonth() + 1, start.getUTCDate()];
  const [h0, mi0, s0] = [start.getUTCHours(), start.getUTCMinutes(), start.getUTCSeconds()];

  // Each lower bound applies only while every larger field still equals the starting value.
  for (let year = y0; year <= y0 + SEARCH_YEARS; year++) {
    const sameYear = year === y0;
    for (const month of s.months) {
      if (sameYear && month < mo0) continue;
      const sameMonth = sameYear && month === mo0;
      const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
      for (const day of s.days) {
        if (day > daysInMonth) break;
        if (sameMonth && day < d0) continue;
        // NCrontab requires day-of-month AND day-of-week to match when both are restricted (Vixie cron
        // uses OR). Azure uses NCrontab, so "0 0 0 13 * Fri" means Friday the 13th only.
        if (!s.daysOfWeek.includes(new Date(Date.UTC(year, month - 1, day)).getUTCDay())) continue;
        const sameDay = sameMonth && day === d0;
        for (const hour of s.hours) {
          if (sameDay && hour < h0) continue;
          const sameHour = sameDay && hour === h0;
          for (const minute of s.minutes) {
            if (sameHour && minute < mi0) continue;
            const sameMinute = sameHour && minute === mi0;
            const second = s.seconds.find((sec) => !sameMinute || sec >= s0);
            if (second !== undefined) return Date.UTC(year, month - 1, day, hour, minute, second);
          }
        }
      }
    }
  }
  return undefined;
}

/** The earliest instant whose wall time in the zone is `wall`, or undefined if the zone skips it. */
function earliestInstant(zone: Intl.DateTimeFormat, wall: number): number | undefined {
  let best: number | undefined;
  // The offsets a day either side bracket any DST change, so one of them is the offset in force at `wall`.
  for (const probe of [wall - MS_PER_DAY, wall, wall + MS_PER_DAY]) {
    const candidate = wall - (wallAt(zone, probe) - probe);
    if (wallAt(zone, candidate) === wall && (best === undefined || candidate < best)) best = candidate;
  }
  return best;
}

/** Wall-clock time of `instant` in the zone, as naive ms truncated to the second. */
function wallAt(zone: Intl.DateTimeFormat, instant: number): number {
  const parts: Record<string, number> = {};
  for (const p of zone.formatToParts(instant)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  // `% 24`: some ICU versions print midnight as hour 24 even with hourCycle h23.
  return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour % 24, parts.minute, parts.second);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function zoneFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Common Windows zone ids (CLDR windowsZones, territory 001) and their IANA equivalents. */
const WINDOWS_TIME_ZONE_NAMES: ReadonlyMap<string, string> = new Map([
  ['UTC', 'UTC'],
  ['Dateline Standard Time', 'Etc/GMT+12'],
  ['Hawaiian Standard Time', 'Pacific/Honolulu'],
  ['Alaskan Standard Time', 'America/Anchorage'],
  ['Pacific Standard Time', 'America/Los_Angeles'],
  ['US Mountain Standard Time', 'America/Phoenix'],
  ['Mountain Standard Time', 'America/Denver'],
  ['Central Standard Time', 'America/Chicago'],
  ['Central Standard Time (Mexico)', 'America/Mexico_City'],
  ['Canada Central Standard Time', 'America/Regina'],
  ['Eastern Standard Time', 'America/New_York'],
  ['SA Pacific Standard Time', 'America/Bogota'],
  ['Atlantic Standard Time', 'America/Halifax'],
  ['Newfoundland Standard Time', 'America/St_Johns'],
  ['E. South America Standard Time', 'America/Sao_Paulo'],
  ['Argentina Standard Time', 'America/Argentina/Buenos_Aires'],
  ['Pacific SA Standard Time', 'America/Santiago'],
  ['Greenwich Standard Time', 'Atlantic/Reykjavik'],
  ['GMT Standard Time', 'Europe/London'],
  ['Morocco Standard Time', 'Africa/Casablanca'],
  ['W. Europe Standard Time', 'Europe/Berlin'],
  ['Central Europe Standard Time', 'Europe/Budapest'],
  ['Romance Standard Time', 'Europe/Paris'],
  ['Central European Standard Time', 'Europe/Warsaw'],
  ['W. Central Africa Standard Time', 'Africa/Lagos'],
  ['GTB Standard Time', 'Europe/Bucharest'],
  ['FLE Standard Time', 'Europe/Kiev'],
  ['E. Europe Standard Time', 'Europe/Chisinau'],
  ['Egypt Standard Time', 'Africa/Cairo'],
  ['South Africa Standard Time', 'Africa/Johannesburg'],
  ['Israel Standard Time', 'Asia/Jerusalem'],
  ['Turkey Standard Time', 'Europe/Istanbul'],
  ['Russian Standard Time', 'Europe/Moscow'],
  ['Arab Standard Time', 'Asia/Riyadh'],
  ['E. Africa Standard Time', 'Africa/Nairobi'],
  ['Iran Standard Time', 'Asia/Tehran'],
  ['Arabian Standard Time', 'Asia/Dubai'],
  ['Pakistan Standard Time', 'Asia/Karachi'],
  ['India Standard Time', 'Asia/Kolkata'],
  ['Nepal Standard Time', 'Asia/Kathmandu'],
  ['Bangladesh Standard Time', 'Asia/Dhaka'],
  ['SE Asia Standard Time', 'Asia/Bangkok'],
  ['China Standard Time', 'Asia/Shanghai'],
  ['Singapore Standard Time', 'Asia/Singapore'],
  ['W. Australia Standard Time', 'Australia/Perth'],
  ['Taipei Standard Time', 'Asia/Taipei'],
  ['Tokyo Standard Time', 'Asia/Tokyo'],
  ['Korea Standard Time', 'Asia/Seoul'],
  ['Cen. Australia Standard Time', 'Australia/Adelaide'],
  ['AUS Central Standard Time', 'Australia/Darwin'],
  ['E. Australia Standard Time', 'Australia/Brisbane'],
  ['AUS Eastern Standard Time', 'Australia/Sydney'],
  ['Tasmania Standard Time', 'Australia/Hobart'],
  ['New Zealand Standard Time', 'Pacific/Auckland'],
]);

// Windows zone ids are matched case-insensitively, as Windows itself does.
const WINDOWS_TIME_ZONES = new Map(
  [...WINDOWS_TIME_ZONE_NAMES].map(([win, iana]) => [win.toLowerCase(), iana]),
);

/** Exposed for tests and diagnostics: every Windows name resolveTimeZone knows, with its IANA zone. */
export const windowsTimeZones: ReadonlyMap<string, string> = WINDOWS_TIME_ZONE_NAMES;
