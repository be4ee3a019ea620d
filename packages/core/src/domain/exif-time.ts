/**
 * `taken_at` from EXIF's DateTimeOriginal ("2018:01:01 08:00:00"), SubSecTimeOriginal ("935")
 * and OffsetTimeOriginal ("+02:00"). Sub-seconds are truncated to milliseconds ("5349" is .534),
 * as a clock counts. Parsed by hand: libraries that revive EXIF dates use the
 * process's local time zone, which would make the result depend on the server. Without an
 * offset the wall time is read as UTC.
 */
export function takenAtFromExif(dateTime: unknown, subSec?: unknown, offset?: unknown): Date | null {
  if (typeof dateTime !== 'string') return null;
  const m = /^\s*(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?\s*(Z|[+-]\d{2}:?\d{2})?\s*$/.exec(dateTime);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (year < 1800 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;

  const given = typeof subSec === 'string' || typeof subSec === 'number' ? String(subSec).trim() : '';
  const fraction = given !== '' ? given : (m[7] ?? '');
  // Truncated to the millisecond, never rounded: a clock showing .534999 has not reached .535 yet.
  // Digits, not arithmetic: 0.57 * 1000 is 569.999… in binary floating point.
  const millis = /^\d+$/.test(fraction) ? Number(fraction.slice(0, 3).padEnd(3, '0')) : 0;

  let offsetMinutes = 0;
  const offsetText = typeof offset === 'string' && offset.trim() ? offset.trim() : m[8];
  if (offsetText && offsetText !== 'Z') {
    const o = /^([+-])(\d{2}):?(\d{2})$/.exec(offsetText);
    if (o) offsetMinutes = (o[1] === '-' ? -1 : 1) * (Number(o[2]) * 60 + Number(o[3]));
  }
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
  const date = new Date(utc);
  return Number.isNaN(date.getTime()) ? null : date;
}
