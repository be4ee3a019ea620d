import { describe, expect, it } from 'vitest';
import { takenAtFromExif } from '../src/domain/exif-time.js';
import { chooseGps, toLatLng } from '../src/domain/gps.js';

describe('taken_at from EXIF', () => {
  it('reads the wall time as UTC when there is no offset', () => {
    expect(takenAtFromExif('2018:01:01 08:00:00')?.toISOString()).toBe('2018-01-01T08:00:00.000Z');
  });

  it('adds sub-seconds and applies the offset', () => {
    expect(takenAtFromExif('2019:10:20 18:34:30', '130', '+02:00')?.toISOString()).toBe('2019-10-20T16:34:30.130Z');
    expect(takenAtFromExif('2018:07:25 16:34:23', '935476')?.toISOString()).toBe('2018-07-25T16:34:23.935Z');
    expect(takenAtFromExif('2015:06:12 13:40:32', '41', '-07:00')?.toISOString()).toBe('2015-06-12T20:40:32.410Z');
  });

  it('truncates sub-seconds to the millisecond, as a clock counts, never rounds them', () => {
    // A clock at .534999 shows .534: rounding would put the photo in a millisecond not yet reached.
    expect(takenAtFromExif('2018:07:25 16:34:23', '5349')?.toISOString()).toBe('2018-07-25T16:34:23.534Z');
    expect(takenAtFromExif('2018:07:25 16:34:23', '534999')?.toISOString()).toBe('2018-07-25T16:34:23.534Z');
    // .9995 rounded would carry into the next second (…:24.000).
    expect(takenAtFromExif('2018:07:25 16:34:23', '9995')?.toISOString()).toBe('2018-07-25T16:34:23.999Z');
    expect(takenAtFromExif('2018:12:31 23:59:59', '99999')?.toISOString()).toBe('2018-12-31T23:59:59.999Z');
    // Fewer than three digits are tenths and hundredths; 0.57 * 1000 is 569.99… in floating point.
    expect(takenAtFromExif('2015:06:12 13:40:32', '57')?.toISOString()).toBe('2015-06-12T13:40:32.570Z');
    expect(takenAtFromExif('2015:06:12 13:40:32', '5')?.toISOString()).toBe('2015-06-12T13:40:32.500Z');
    expect(takenAtFromExif('2015:06:12 13:40:32', 29)?.toISOString()).toBe('2015-06-12T13:40:32.290Z');
    // Sub-seconds written into the date itself, and an empty SubSecTime leaves them alone.
    expect(takenAtFromExif('2015:06:12 13:40:32.1239')?.toISOString()).toBe('2015-06-12T13:40:32.123Z');
    expect(takenAtFromExif('2015:06:12 13:40:32.1239', '')?.toISOString()).toBe('2015-06-12T13:40:32.123Z');
  });

  it('does not depend on the process time zone', () => {
    const before = process.env.TZ;
    try {
      process.env.TZ = 'Pacific/Kiritimati';
      expect(takenAtFromExif('2010:05:11 10:51:45', '87')?.toISOString()).toBe('2010-05-11T10:51:45.870Z');
    } finally {
      process.env.TZ = before;
    }
  });

  it('gives null for missing or nonsense values', () => {
    for (const value of [undefined, '', '0000:00:00 00:00:00', '2018:13:01 00:00:00', 'yesterday', 42]) {
      expect(takenAtFromExif(value)).toBeNull();
    }
  });
});

describe('GPS', () => {
  it('drops (0, 0) and out-of-range values, accepts numeric strings', () => {
    expect(toLatLng(0, 0)).toBeNull();
    expect(toLatLng(91, 10)).toBeNull();
    expect(toLatLng(10, -181)).toBeNull();
    expect(toLatLng('abc', 1)).toBeNull();
    expect(toLatLng('-0.3713', '36.0564')).toEqual([-0.3713, 36.0564]);
  });

  it('prefers EXIF, then the browser, then the IP', () => {
    expect(chooseGps([1, 1], [2, 2], [3, 3])).toEqual([1, 1]);
    expect(chooseGps(null, [2, 2], [3, 3])).toEqual([2, 2]);
    expect(chooseGps(null, null, [3, 3])).toEqual([3, 3]);
    expect(chooseGps(null, null, null)).toBeNull();
  });
});
