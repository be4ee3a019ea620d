/**
 * Dates in queries. Every date stands for an interval, as precise as it is written: `2024-05-01`
 * is that whole day in UTC, `2024-05` the month, `2024-05-01T10:00` that minute,
 * `…T10:00:00.250Z` that millisecond; `now` is the instant, `now-7d` seven days before it and
 * `now/d` today (rounding, as in Elasticsearch date math). Comparisons use the interval's ends,
 * which gives Elasticsearch's rounding rules: `>2024-05-01` is from May 2nd, `<=2024-05-01`
 * up to the end of May 1st.
 */

export type DateUnit = 'y' | 'M' | 'w' | 'd' | 'h' | 'm' | 's';

export type DateValue =
  /** Milliseconds since the epoch: [start, end). */
  | { readonly kind: 'fixed'; readonly start: number; readonly end: number }
  /** Relative to the time the query runs. */
  | { readonly kind: 'now'; readonly steps: readonly { amount: number; unit: DateUnit }[]; readonly round: DateUnit | null };

/** PostgreSQL's timestamps and ISO 8601 both hold years 1 to 9999: instants are kept within. */
export const EARLIEST = utc(1, 1, 1, 0, 0, 0, 0);
export const LATEST = utc(9999, 12, 31, 23, 59, 59, 999);

const ISO =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?)?)?)?$/;
const NOW = /^now((?:[+-]\d{1,9}[yMwdhHms])*)(?:\/([yMwdhHms]))?$/;
const STEP = /([+-]\d{1,9})([yMwdhHms])/g;

/** The date a query value denotes, or null when it is not one. */
export function parseDate(text: string): DateValue | null {
  const now = NOW.exec(text);
  if (now) {
    const steps = [...now[1]!.matchAll(STEP)].map((m) => ({ amount: Number(m[1]), unit: unit(m[2]!) }));
    return { kind: 'now', steps, round: now[2] ? unit(now[2]) : null };
  }
  const m = ISO.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, fraction, , sign, oh, om] = m;
  const year = Number(y);
  const month = mo === undefined ? 1 : Number(mo);
  const day = d === undefined ? 1 : Number(d);
  const hour = h === undefined ? 0 : Number(h);
  const minute = mi === undefined ? 0 : Number(mi);
  const second = s === undefined ? 0 : Number(s);
  const ms = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) return null;
  const offsetHours = oh === undefined ? 0 : Number(oh);
  const offsetMinutes = om === undefined ? 0 : Number(om);
  if (offsetHours > 14 || offsetMinutes > 59) return null;
  const offset = (sign === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  const start = utc(year, month, day, hour, minute, second, ms) - offset;
  let end: number;
  if (mo === undefined) end = utc(year + 1, 1, 1, 0, 0, 0, 0);
  else if (d === undefined) end = month === 12 ? utc(year + 1, 1, 1, 0, 0, 0, 0) : utc(year, month + 1, 1, 0, 0, 0, 0);
  else if (h === undefined) end = start + 86_400_000;
  else if (s === undefined) end = start + 60_000;
  else if (fraction === undefined) end = start + 1000;
  else end = start + 10 ** (3 - Math.min(fraction.length, 3));
  return { kind: 'fixed', start: clamp(start), end: clamp(end) };
}

/** The interval a date denotes when the query runs at `now` (milliseconds), within years 1 to 9999. */
export function interval(value: DateValue, now: number): { start: number; end: number } {
  if (value.kind === 'fixed') return value;
  let t = now;
  for (const step of value.steps) t = add(t, step.amount, step.unit);
  if (!value.round) return { start: t, end: clamp(t + 1) };
  const start = floor(t, value.round);
  return { start, end: clamp(add(start, 1, value.round)) };
}

function unit(letter: string): DateUnit {
  return letter === 'H' ? 'h' : (letter as DateUnit);
}

const FIXED: Record<Exclude<DateUnit, 'y' | 'M'>, number> = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 };

/** Calendar arithmetic in UTC; a month step keeps the day within the month (Jan 31 + 1M = Feb 28/29). Saturates at the ends. */
function add(t: number, amount: number, unit: DateUnit): number {
  if (unit !== 'y' && unit !== 'M') return clamp(t + amount * FIXED[unit]);
  const date = new Date(t);
  const months = date.getUTCFullYear() * 12 + date.getUTCMonth() + (unit === 'y' ? amount * 12 : amount);
  const year = Math.floor(months / 12);
  if (year < 1) return EARLIEST;
  if (year > 9999) return LATEST;
  const month = (months % 12) + 1;
  const day = Math.min(date.getUTCDate(), daysIn(year, month));
  return clamp(utc(year, month, day, date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds(), date.getUTCMilliseconds()));
}

function floor(t: number, unit: DateUnit): number {
  const d = new Date(t);
  const [y, mo, day] = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
  switch (unit) {
    case 'y':
      return utc(y, 1, 1, 0, 0, 0, 0);
    case 'M':
      return utc(y, mo, 1, 0, 0, 0, 0);
    case 'w':
      // Weeks start on Monday, as in Elasticsearch.
      return Math.max(EARLIEST, utc(y, mo, day, 0, 0, 0, 0) - ((d.getUTCDay() + 6) % 7) * 86_400_000);
    case 'd':
      return utc(y, mo, day, 0, 0, 0, 0);
    case 'h':
      return utc(y, mo, day, d.getUTCHours(), 0, 0, 0);
    case 'm':
      return utc(y, mo, day, d.getUTCHours(), d.getUTCMinutes(), 0, 0);
    case 's':
      return utc(y, mo, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), 0);
  }
}

/** `Date.UTC` for any year (it reads years 0-99 as 1900-1999). */
function utc(year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  return date.getTime();
}

function daysIn(year: number, month: number): number {
  // Day 32 of a month falls in the next one, on the day that tells the month's length.
  return 32 - new Date(utc(year, month, 32, 0, 0, 0, 0)).getUTCDate();
}

function clamp(t: number): number {
  return Number.isNaN(t) ? LATEST : Math.min(LATEST, Math.max(EARLIEST, t));
}
