/**
 * The schedule expressions a deployment may set: six-field NCRONTAB, as Azure Functions timers take
 * them. It only says what is wrong with an expression; it never computes when a schedule fires.
 */

// Six-field NCRONTAB (second minute hour day month day-of-week), as Azure Functions timers take it.
const CRON_FIELDS: { name: string; min: number; max: number; names?: string[] }[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
  },
  { name: 'day of week', min: 0, max: 6, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

/** Why a six-field NCRONTAB expression is not valid, or undefined when it is. */
export function ncrontabProblem(expression: string): string | undefined {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 6)
    return `must be a six-field NCRONTAB expression (second minute hour day month day-of-week), got ${parts.length} field(s)`;
  for (const [i, part] of parts.entries()) {
    const f = CRON_FIELDS[i];
    const value = (token: string): number | undefined => {
      const named = f.names?.indexOf(token.toLowerCase()) ?? -1;
      if (named >= 0) return named + (f.name === 'month' ? 1 : 0);
      if (!/^\d+$/.test(token)) return undefined;
      const n = Number(token);
      return n >= f.min && n <= f.max ? n : undefined;
    };
    for (const item of part.split(',')) {
      const [range, step, ...rest] = item.split('/');
      if (rest.length || (step !== undefined && !/^[1-9]\d*$/.test(step)))
        return `${f.name} field '${part}' has a bad step`;
      if (range === '*') continue;
      const bounds = range.split('-');
      if (bounds.length > 2 || bounds.some((b) => value(b) === undefined))
        return `${f.name} field '${part}' must use * or values ${f.min}-${f.max}${f.names ? ' or names' : ''}`;
    }
  }
  return undefined;
}
