import { describe, it, expect } from 'vitest';
import { nextOccurrence, parseSchedule } from '../../host/timers/ncrontab';
import { resolveTimeZone, windowsTimeZones } from '../../host/timers/timeZones';

const t = (isoString: string): number => Date.parse(isoString);
const iso = (ms: number): string => new Date(ms).toISOString();

/** The next `count` occurrences after `after`, as ISO strings. */
function occurrences(expr: string, after: string, count: number, zone = 'UTC'): string[] {
  const schedule = parseSchedule(expr);
  const out: string[] = [];
  let at = t(after);
  for (let i = 0; i < count; i++) {
    at = nextOccurrence(schedule, at, zone);
    out.push(iso(at));
  }
  return out;
}

describe('parseSchedule', () => {
  it('expands values, ranges, lists and steps', () => {
    const s = parseSchedule('5/20 1-10/3 */6 1,15 Jan-Mar Mon-Fri');
    expect(s).toMatchObject({
      kind: 'cron',
      seconds: [5, 25, 45],
      minutes: [1, 4, 7, 10],
      hours: [0, 6, 12, 18],
      days: [1, 15],
      months: [1, 2, 3],
      daysOfWeek: [1, 2, 3, 4, 5],
    });
  });

  it('accepts month and day names case-insensitively, abbreviated or in full', () => {
    expect(parseSchedule('0 0 0 * jan,JUL,December sat,SUNDAY,Wed')).toMatchObject({
      months: [1, 7, 12],
      daysOfWeek: [0, 3, 6],
    });
  });

  it('accepts the five-field form with seconds fixed at 0', () => {
    expect(parseSchedule('30 9 * * *')).toMatchObject({
      kind: 'cron',
      seconds: [0],
      minutes: [30],
      hours: [9],
    });
  });

  it('accepts TimeSpan intervals', () => {
    expect(parseSchedule('00:05:00')).toEqual({
      kind: 'interval',
      expression: '00:05:00',
      intervalMs: 300_000,
    });
    expect(parseSchedule('1.02:00:00')).toMatchObject({ intervalMs: 26 * 3_600_000 });
    expect(parseSchedule('00:00:01.5')).toMatchObject({ intervalMs: 1_500 });
  });

  it.each([
    ['0 0 25 * * *', /hour field "25": 25 is out of range 0-23/],
    ['0 0 0 * * 7', /day-of-week field "7": 7 is out of range 0-6 \(0 = Sunday\)/],
    ['0 0 0 * Foo *', /month field "Foo": "Foo" is not a number or a month name/],
    ['x 0 0 * * *', /second field "x": "x" is not a number$/],
    ['*/0 * * * * *', /second field "\*\/0": step "0" must be a positive whole number/],
    ['0 0 10-5 * * *', /hour field "10-5": range 10-5 runs backwards/],
    ['0 0 0 1,,2 * *', /day field "1,,2"/],
    ['0 0 0 0 * *', /day field "0": 0 is out of range 1-31/],
    ['0 0 0 31 Feb,Apr *', /never coincide/],
    ['* * *', /expected 6 fields .* but found 3/],
    ['', /but found 0/],
    ['0 0 0 * * * *', /but found 7/],
    ['00:00:00', /must be positive/],
    ['24:00:00', /hours must be 0-23/],
    ['5:xx', /not a TimeSpan/],
  ])('rejects %j', (expr, message) => {
    expect(() => parseSchedule(expr)).toThrow(message);
  });
});

describe('nextOccurrence', () => {
  it('finds the next 09:00 UTC, strictly after the given instant', () => {
    expect(occurrences('0 0 9 * * *', '2024-01-01T10:00:00Z', 2)).toEqual([
      '2024-01-02T09:00:00.000Z',
      '2024-01-03T09:00:00.000Z',
    ]);
    expect(iso(nextOccurrence(parseSchedule('0 0 9 * * *'), t('2024-01-02T08:59:59.999Z'), 'UTC'))).toBe(
      '2024-01-02T09:00:00.000Z',
    );
  });

  it('keeps 09:00 local in Europe/London across the March change to BST', () => {
    expect(occurrences('0 0 9 * * *', '2024-03-29T12:00:00Z', 3, 'Europe/London')).toEqual([
      '2024-03-30T09:00:00.000Z',
      '2024-03-31T08:00:00.000Z',
      '2024-04-01T08:00:00.000Z',
    ]);
  });

  it('keeps 09:00 local in Europe/London across the October change back to GMT', () => {
    expect(occurrences('0 0 9 * * *', '2024-10-25T12:00:00Z', 3, 'Europe/London')).toEqual([
      '2024-10-26T08:00:00.000Z',
      '2024-10-27T09:00:00.000Z',
      '2024-10-28T09:00:00.000Z',
    ]);
  });

  it('skips a local time that does not exist (01:30 on the March change in London)', () => {
    expect(occurrences('0 30 1 * * *', '2024-03-30T12:00:00Z', 1, 'Europe/London')).toEqual([
      '2024-04-01T00:30:00.000Z',
    ]);
  });

  it('fires a repeated local time once, at its first instant (01:30 on the October change)', () => {
    expect(occurrences('0 30 1 * * *', '2024-10-26T12:00:00Z', 2, 'Europe/London')).toEqual([
      '2024-10-27T00:30:00.000Z',
      '2024-10-28T01:30:00.000Z',
    ]);
    // Starting during the second 01:xx hour: today's 01:30 has already happened.
    expect(occurrences('0 30 1 * * *', '2024-10-27T01:10:00Z', 1, 'Europe/London')).toEqual([
      '2024-10-28T01:30:00.000Z',
    ]);
    expect(occurrences('0 */30 * * * *', '2024-10-27T00:00:00Z', 3, 'Europe/London')).toEqual([
      '2024-10-27T00:30:00.000Z',
      '2024-10-27T02:00:00.000Z',
      '2024-10-27T02:30:00.000Z',
    ]);
  });

  it('steps every 15 seconds', () => {
    expect(occurrences('*/15 * * * * *', '2024-01-01T00:00:07Z', 4)).toEqual([
      '2024-01-01T00:00:15.000Z',
      '2024-01-01T00:00:30.000Z',
      '2024-01-01T00:00:45.000Z',
      '2024-01-01T00:01:00.000Z',
    ]);
  });

  it('skips weekends for Mon-Fri', () => {
    // 2024-01-05 is a Friday.
    expect(occurrences('0 30 9 * * Mon-Fri', '2024-01-05T08:00:00Z', 3)).toEqual([
      '2024-01-05T09:30:00.000Z',
      '2024-01-08T09:30:00.000Z',
      '2024-01-09T09:30:00.000Z',
    ]);
  });

  it('reads a step longer than its field as the first value only', () => {
    expect(parseSchedule('*/90 0/75 * * * *')).toMatchObject({ seconds: [0], minutes: [0] });
    expect(occurrences('10/90 * * * * *', '2024-01-01T00:00:00Z', 2)).toEqual([
      '2024-01-01T00:00:10.000Z',
      '2024-01-01T00:01:10.000Z',
    ]);
  });

  it('uses month names', () => {
    expect(occurrences('0 0 12 1 Jan,jul *', '2024-02-01T00:00:00Z', 2)).toEqual([
      '2024-07-01T12:00:00.000Z',
      '2025-01-01T12:00:00.000Z',
    ]);
  });

  it('requires both day-of-month and day-of-week to match (NCrontab AND semantics)', () => {
    // Friday the 13th: September and December 2024.
    expect(occurrences('0 0 0 13 * Fri', '2024-01-01T00:00:00Z', 2)).toEqual([
      '2024-09-13T00:00:00.000Z',
      '2024-12-13T00:00:00.000Z',
    ]);
  });

  it('finds rare dates such as 29 February', () => {
    expect(occurrences('0 0 0 29 Feb *', '2024-03-01T00:00:00Z', 1)).toEqual(['2028-02-29T00:00:00.000Z']);
  });

  it('handles the five-field form', () => {
    expect(occurrences('30 9 * * *', '2024-01-01T00:00:00Z', 2)).toEqual([
      '2024-01-01T09:30:00.000Z',
      '2024-01-02T09:30:00.000Z',
    ]);
  });

  it('adds TimeSpan intervals to the given instant', () => {
    const every5 = parseSchedule('00:05:00');
    expect(nextOccurrence(every5, t('2024-01-01T00:00:01.250Z'), 'Europe/London')).toBe(
      t('2024-01-01T00:05:01.250Z'),
    );
  });
});

describe('resolveTimeZone', () => {
  it('defaults to UTC', () => {
    expect(resolveTimeZone()).toBe('UTC');
    expect(resolveTimeZone('  ')).toBe('UTC');
  });

  it('maps Windows names, case-insensitively', () => {
    expect(resolveTimeZone('Eastern Standard Time')).toBe('America/New_York');
    expect(resolveTimeZone('GMT Standard Time')).toBe('Europe/London');
    expect(resolveTimeZone('w. europe standard time')).toBe('Europe/Berlin');
    expect(resolveTimeZone('Pacific Standard Time')).toBe('America/Los_Angeles');
    expect(resolveTimeZone('Central Standard Time')).toBe('America/Chicago');
    expect(resolveTimeZone('AUS Eastern Standard Time')).toBe('Australia/Sydney');
    expect(resolveTimeZone('UTC')).toBe('UTC');
  });

  it('passes IANA names through', () => {
    expect(resolveTimeZone('Europe/Paris')).toBe('Europe/Paris');
  });

  it('rejects unknown names clearly', () => {
    expect(() => resolveTimeZone('Mars Standard Time')).toThrow(/Unknown time zone "Mars Standard Time"/);
  });

  it('maps every Windows name to a zone this runtime knows', () => {
    for (const [windows, iana] of windowsTimeZones) expect(resolveTimeZone(windows)).toBe(iana);
  });

  it('evaluates schedules in the resolved zone', () => {
    const zone = resolveTimeZone('Eastern Standard Time');
    expect(occurrences('0 0 9 * * *', '2024-07-01T00:00:00Z', 1, zone)).toEqual(['2024-07-01T13:00:00.000Z']);
    expect(occurrences('0 0 9 * * *', '2024-12-01T00:00:00Z', 1, zone)).toEqual(['2024-12-01T14:00:00.000Z']);
  });
});
