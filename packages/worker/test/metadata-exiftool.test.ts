import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { extractMetadata } from '../src/metadata/index.js';

/**
 * The canonical `exifs` against ExifTool itself: Cloudinary's `image_metadata` is ExifTool's
 * printed output, so the file path must print every tag exactly as ExifTool 12.57 does
 * (exiftool-printed.json, made with the command it names), plus the two keys Cloudinary adds
 * to a JPEG's metadata (Colorspace, DPI).
 */
const golden = JSON.parse(readFileSync(new URL('exiftool-printed.json', import.meta.url), 'utf8')) as { files: Record<string, Record<string, string>> };
const dir = new URL('../../../test/fixtures/photos/', import.meta.url);
const photo = (name: string) => new Uint8Array(readFileSync(new URL(name, dir)));

/** What Cloudinary adds to a JPEG's image_metadata, per fixture (components of the frame, resolution). */
const CLOUDINARY_KEYS: Record<string, Record<string, string>> = {
  'IMG_20180725_163423-tiny.jpg': { Colorspace: 'RGB', DPI: '72' },
  'RangeError_Offset_outside_bounds.jpg': { Colorspace: 'RGB', DPI: '300' },
  'canon-dslr.jpg': { Colorspace: 'RGB', DPI: '72' },
  'issue-exifr-36.jpg': { Colorspace: 'RGB', DPI: '72' },
  'issue-exifr-59.jpg': { Colorspace: 'RGB', DPI: '239' }, // 94 dots per cm
  'noexif.jpg': { Colorspace: 'RGB', DPI: '0' },
  'orientation-f6t.jpg': { Colorspace: 'GRAY', DPI: '220' },
};

describe('exifs are printed as ExifTool prints them', () => {
  for (const [name, expected] of Object.entries(golden.files)) {
    it(`${name}: the same keys and strings as ExifTool`, async () => {
      const { exifs } = await extractMetadata(photo(name));
      expect(exifs).toEqual({ ...expected, ...CLOUDINARY_KEYS[name] });
    });
  }
});

describe('HEIF orientation', () => {
  const heic = () => photo('heic-iphone7.heic');
  const IROT_ANGLE = 2097; // the payload byte of the primary item's irot box (angle 0 in the file)

  it('turns the displayed size by the irot box, as HEIF readers (and Cloudinary) do', async () => {
    expect([heic()[IROT_ANGLE - 4], heic()[IROT_ANGLE]]).toEqual([0x69, 0]); // "irot", angle 0
    for (const [angle, size] of [[1, [3024, 4032]], [2, [4032, 3024]], [3, [3024, 4032]]] as const) {
      const bytes = heic();
      bytes[IROT_ANGLE] = angle;
      const m = await extractMetadata(bytes);
      expect([m.width, m.height], `irot ${angle}`).toEqual(size);
      expect(m.exifs.Orientation).toBe('Horizontal (normal)');
    }
  });

  it('does not turn a HEIF by its EXIF Orientation, which HEIF readers ignore', async () => {
    const bytes = heic();
    const at = Buffer.from(bytes).indexOf(Buffer.from('01120003000000010001', 'hex')); // IFD0 Orientation = 1 (big-endian)
    expect(at).toBeGreaterThan(0);
    bytes[at + 9] = 6;
    const m = await extractMetadata(bytes);
    expect(m.exifs.Orientation).toBe('Rotate 90 CW');
    expect(m.orientation).toBe(6);
    expect([m.width, m.height]).toEqual([4032, 3024]);
  });

  it('turns other formats by their EXIF Orientation', async () => {
    const m = await extractMetadata(photo('orientation-f6t.jpg'));
    expect([m.orientation, m.width, m.height]).toEqual([6, 48, 80]);
  });
});
