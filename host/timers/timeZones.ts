/**
 * Time zones for timer schedules: maps WEBSITE_TIME_ZONE (IANA or the Windows names Azure accepts) to an IANA
 * zone, and converts between instants and wall-clock time in that zone, with the DST rules NCrontab follows.
 *
 * Pure functions only: this module must never read the clock or the environment. Callers pass the name in.
 */

const MS_PER_DAY = 86_400_000;

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

/**
 * Wall-clock time of `instant` in the zone, as "naive" epoch ms (the local date and time encoded as if it
 * were UTC, so plain arithmetic works), truncated to the second.
 */
export function wallAt(timeZone: string, instant: number): number {
  const parts: Record<string, number> = {};
  for (const p of zoneFormatter(timeZone).formatToParts(instant)) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  // `% 24`: some ICU versions print midnight as hour 24 even with hourCycle h23.
  return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour % 24, parts.minute, parts.second);
}

/**
 * The earliest instant whose wall time in the zone is `wall` (naive ms), or undefined if the zone skips it.
 * Earliest, because NCrontab fires a wall time that happens twice (DST fall-back) only at its first instant.
 */
export function earliestInstant(timeZone: string, wall: number): number | undefined {
  let best: number | undefined;
  // The offsets a day either side bracket any DST change, so one of them is the offset in force at `wall`.
  for (const probe of [wall - MS_PER_DAY, wall, wall + MS_PER_DAY]) {
    const candidate = wall - (wallAt(timeZone, probe) - probe);
    if (wallAt(timeZone, candidate) === wall && (best === undefined || candidate < best)) best = candidate;
  }
  return best;
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
