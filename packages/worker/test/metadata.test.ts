import { readFileSync, readdirSync } from 'node:fs';
import { isUnrecoverable } from '@albumkit/core';
import { describe, expect, it } from 'vitest';
import { extractMetadata, MetadataError, metadataFromCloudinary, type ImageMetadata } from '../src/metadata/index.js';

/** ExifTool's reading of each fixture (see test/fixtures/photos/README.md). */
interface Facts {
  ImageWidth: number;
  ImageHeight: number;
  Orientation?: number;
  DateTimeOriginal?: string;
  GPSLatitude?: number;
  GPSLongitude?: number;
  expected_taken_at_utc?: string;
}

const dir = new URL('../../../test/fixtures/photos/', import.meta.url);
const facts = JSON.parse(readFileSync(new URL('facts.json', dir), 'utf8')) as Record<string, Facts>;
const photo = (name: string) => new Uint8Array(readFileSync(new URL(name, dir)));
const names = readdirSync(dir).filter((n) => !/\.(json|md)$/.test(n));

/** The checks every fixture must pass against ExifTool's values. */
function expectFacts(name: string, m: ImageMetadata): void {
  const f = facts[name]!;
  expect(m.takenAt?.toISOString() ?? null, `${name} takenAt`).toBe(f.expected_taken_at_utc ?? null);
  if (f.GPSLatitude === undefined) expect(m.gpsExifs, `${name} gps`).toBeNull();
  else {
    // GPS comes from the printed coordinates (seconds with 2 decimals, as Cloudinary gives them),
    // so that both paths agree: within 0.005" (1.4e-6 degrees, 15 cm) of ExifTool's exact value.
    expect(m.gpsExifs, `${name} gps`).not.toBeNull();
    expect(Math.abs(m.gpsExifs![0] - f.GPSLatitude)).toBeLessThan(1.4e-6);
    expect(Math.abs(m.gpsExifs![1] - f.GPSLongitude!)).toBeLessThan(1.4e-6);
  }
  expect(m.orientation, `${name} orientation`).toBe(f.Orientation ?? null);
  const turned = (f.Orientation ?? 1) >= 5;
  expect([m.width, m.height], `${name} displayed size`).toEqual(turned ? [f.ImageHeight, f.ImageWidth] : [f.ImageWidth, f.ImageHeight]);
  if (f.DateTimeOriginal) expect(m.exifs.DateTimeOriginal).toBe(f.DateTimeOriginal);
}

describe('extractMetadata', () => {
  it('covers every fixture listed in facts.json', () => {
    expect(names.sort()).toEqual(Object.keys(facts).sort());
  });

  for (const name of names) {
    it(`reads ${name} as ExifTool does`, async () => {
      const m = await extractMetadata(photo(name));
      expectFacts(name, m);
      // The canonical shape: every value a non-empty string of at most 1 KB.
      for (const [key, value] of Object.entries(m.exifs)) {
        expect(typeof value, `${name} ${key}`).toBe('string');
        expect(value.length, `${name} ${key}`).toBeGreaterThan(0);
        expect(value.length, `${name} ${key}`).toBeLessThanOrEqual(1024);
      }
    });
  }

  it('prints values as ExifTool does, dates as the file writes them', async () => {
    const m = await extractMetadata(photo('heic-iphone7.heic'));
    expect(m.exifs).toMatchObject({
      Make: 'Apple',
      DateTimeOriginal: '2019:10:20 18:34:30',
      OffsetTimeOriginal: '+02:00',
      SubSecTimeOriginal: '130',
      Orientation: 'Horizontal (normal)',
      GPSLatitudeRef: 'North',
      GPSLatitude: `38 deg 2' 47.91"`,
      ExifVersion: '0231',
      ProfileDescription: 'Display P3',
    });
    expect(m.exifs).not.toHaveProperty('latitude'); // exifr's computed keys are not tags
    expect(m.exifs).not.toHaveProperty('RunTimeFlags'); // no MakerNote tags
  });

  it('writes 0/0 rationals as ExifTool does, not as NaN', async () => {
    const m = await extractMetadata(photo('canon-dslr.jpg'));
    expect(m.exifs.LensInfo).toBe('18-55mm f/?');
    expect(m.exifs).not.toHaveProperty('UserComment'); // 264 zero bytes: no comment
    expect(m.exifs).not.toHaveProperty('Artist'); // empty in the file: left out
    expect(m.exifs).not.toHaveProperty('MakerNote');
  });

  it('uses the frame size, not the stale EXIF size of a resized photo', async () => {
    const m = await extractMetadata(photo('IMG_20180725_163423-tiny.jpg'));
    expect(m.exifs.ExifImageWidth).toBe('4048');
    expect([m.width, m.height]).toEqual([1012, 759]);
  });

  it('gives the JFIF tags, Colorspace and DPI and the frame size for a JPEG without EXIF', async () => {
    expect(await extractMetadata(photo('noexif.jpg'))).toEqual({
      // As Cloudinary's image_metadata for a JFIF-only JPEG (its documented sample.jpg upload).
      exifs: { JFIFVersion: '1.01', ResolutionUnit: 'None', XResolution: '1', YResolution: '1', Colorspace: 'RGB', DPI: '0' },
      gpsExifs: null,
      takenAt: null,
      orientation: null,
      width: 250,
      height: 188,
    });
  });

  it('reads the damaged-metadata JPEG without crashing: no EXIF APP1, size from the frame', async () => {
    // Its damage is in the Photoshop/ICC segments; the JPEG structure itself is sound.
    expect(await extractMetadata(photo('RangeError_Offset_outside_bounds.jpg'))).toEqual({
      exifs: {
        JFIFVersion: '1.01',
        ResolutionUnit: 'inches',
        XResolution: '300',
        YResolution: '300',
        ProfileDescription: 'sRGB IEC61966-2.1',
        Colorspace: 'RGB',
        DPI: '300',
      },
      gpsExifs: null,
      takenAt: null,
      orientation: null,
      width: 100,
      height: 63,
    });
  });

  it('keeps the size when the EXIF block itself is broken', async () => {
    const bytes = photo('issue-exifr-36.jpg');
    bytes.set([0xff, 0xff, 0xff, 0x0f], 34); // IFD0 offset (APP1 at 20, TIFF header at 30) far outside the block
    const m = await extractMetadata(bytes);
    expect(m).toMatchObject({ takenAt: null, width: 100, height: 78 });
    expect(Object.keys(m.exifs)).toEqual(['JFIFVersion', 'ResolutionUnit', 'XResolution', 'YResolution', 'Colorspace', 'DPI']);
  });

  const broken: Record<string, () => Uint8Array> = {
    'an empty file': () => new Uint8Array(0),
    'random bytes': () => new Uint8Array(4096).map((_, i) => (i * 7919 + 13) % 251),
    'a GIF (unsupported)': () => new TextEncoder().encode('GIF89a\x01\x00\x01\x00\x00\x00\x00;'),
    'a JPEG cut inside its EXIF segment': () => photo('canon-dslr.jpg').subarray(0, 5000),
    'a JPEG cut before its frame header': () => photo('issue-exifr-36.jpg').subarray(0, 3000),
    'a HEIC cut inside its meta box': () => photo('heic-iphone7.heic').subarray(0, 2000),
    'a HEIC cut before its Exif item': () => photo('heic-iphone7.heic').subarray(0, 5000),
    'a TIFF cut before its IFD': () => photo('issue-exif-js-124.tiff').subarray(0, 300),
    'a PNG without IHDR': () => new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]),
  };
  for (const [what, bytes] of Object.entries(broken)) {
    it(`throws an unrecoverable MetadataError for ${what}`, async () => {
      const error = await extractMetadata(bytes()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MetadataError);
      expect(isUnrecoverable(error)).toBe(true);
    });
  }

  it('prints the average time per file (not an assertion)', async () => {
    const files = names.map(photo);
    for (const f of files) await extractMetadata(f); // warm-up
    const rounds = 20;
    const start = performance.now();
    for (let r = 0; r < rounds; r++) for (const f of files) await extractMetadata(f);
    const perFile = (performance.now() - start) / (rounds * files.length);
    console.log(`in-memory extraction: ${perFile.toFixed(3)} ms per file on average (${files.length} fixtures x ${rounds})`);
  });
});

describe('metadataFromCloudinary', () => {
  // What Cloudinary returns for IMG_20180725_163423-tiny.jpg (ExifTool's printed values, all strings).
  const pixel = {
    Make: 'Google',
    Model: 'Pixel',
    Orientation: 'Horizontal (normal)',
    DateTimeOriginal: '2018:07:25 16:34:23',
    SubSecTimeOriginal: '935476',
    GPSLatitude: `50 deg 17' 58.57"`,
    GPSLatitudeRef: 'North',
    GPSLongitude: `14 deg 49' 13.06"`,
    GPSLongitudeRef: 'East',
    ExifImageWidth: '4048',
    ExifImageHeight: '3036',
  };

  it('gives the same facts as reading the file', async () => {
    const fromFile = await extractMetadata(photo('IMG_20180725_163423-tiny.jpg'));
    const m = metadataFromCloudinary(pixel, 1012, 759);
    expect(m.takenAt).toEqual(fromFile.takenAt);
    expect(m.orientation).toBe(1);
    expect([m.width, m.height]).toEqual([1012, 759]);
    expect(m.gpsExifs).toEqual(fromFile.gpsExifs);
    expect(m.exifs).toEqual(pixel);
    for (const [key, value] of Object.entries(pixel)) expect(fromFile.exifs[key], key).toBe(value);
  });

  it('signs decimal coordinates with the Ref, and the hemisphere letter wins', () => {
    const south = metadataFromCloudinary({ GPSLatitude: '0.3713', GPSLatitudeRef: 'South', GPSLongitude: '119.529883', GPSLongitudeRef: 'West' });
    expect(south.gpsExifs).toEqual([-0.3713, -119.529883]);
    const letters = metadataFromCloudinary({ GPSLatitude: `0 deg 22' 16.68" S`, GPSLongitude: `119 deg 31' 47.58" W` });
    expect(letters.gpsExifs![0]).toBeCloseTo(-0.3713, 6);
    expect(letters.gpsExifs![1]).toBeCloseTo(-119.529883, 6);
    const words = metadataFromCloudinary({ GPSLatitude: '33.5 deg', GPSLatitudeRef: 'South', GPSLongitude: '151.2 deg', GPSLongitudeRef: 'East' });
    expect(words.gpsExifs).toEqual([-33.5, 151.2]); // the "e" of "deg" is no hemisphere
    const signed = metadataFromCloudinary({ GPSLatitude: '-33.5', GPSLongitude: '151.2' });
    expect(signed.gpsExifs).toEqual([-33.5, 151.2]);
  });

  it('drops (0, 0), out-of-range and unreadable coordinates', () => {
    expect(metadataFromCloudinary({ GPSLatitude: `0 deg 0' 0.00" N`, GPSLongitude: `0 deg 0' 0.00" E` }).gpsExifs).toBeNull();
    expect(metadataFromCloudinary({ GPSLatitude: '95', GPSLongitude: '10' }).gpsExifs).toBeNull();
    expect(metadataFromCloudinary({ GPSLatitude: 'somewhere', GPSLongitude: '10' }).gpsExifs).toBeNull();
    expect(metadataFromCloudinary({ GPSLatitude: '10' }).gpsExifs).toBeNull();
  });

  it('reads the orientation by name or number; the given size is already the displayed one', () => {
    for (const value of ['Rotate 90 CW', '6', 6]) {
      const m = metadataFromCloudinary({ Orientation: value, ImageWidth: '80', ImageHeight: '48' }, 48, 80);
      expect([m.orientation, m.width, m.height]).toEqual([6, 48, 80]);
    }
    // Without Cloudinary's size, the tags' stored size is turned.
    const fallback = metadataFromCloudinary({ Orientation: 'Rotate 270 CW', ImageWidth: '80', ImageHeight: '48' });
    expect([fallback.orientation, fallback.width, fallback.height]).toEqual([8, 48, 80]);
    expect(metadataFromCloudinary({ Orientation: 'Sideways' }).orientation).toBeNull();
  });

  it('reads the taken-at time with its offset, independent of the server time zone', () => {
    const m = metadataFromCloudinary({ DateTimeOriginal: '2019:10:20 18:34:30', SubSecTimeOriginal: '130', OffsetTimeOriginal: '+02:00' });
    expect(m.takenAt?.toISOString()).toBe('2019-10-20T16:34:30.130Z');
    // No DateTimeOriginal (or an empty one): CreateDate; ModifyDate is never used.
    expect(metadataFromCloudinary({ DateTimeOriginal: '0000:00:00 00:00:00', CreateDate: '2010:05:11 10:51:45' }).takenAt?.toISOString()).toBe('2010-05-11T10:51:45.000Z');
    expect(metadataFromCloudinary({ ModifyDate: '2015:07:24 22:52:15' }).takenAt).toBeNull();
  });

  it('keeps strings as they are, numbers as their string, nothing else', () => {
    const m = metadataFromCloudinary({ Make: 'Canon', Nested: { a: 1 }, List: ['a'], Long: 'x'.repeat(5000), Empty: '', Count: 3 });
    expect(m.exifs).toEqual({ Make: 'Canon', Count: '3' });
  });
});
