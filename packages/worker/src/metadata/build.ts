import { takenAtFromExif } from '@albumkit/core';
import type { ContainerFacts } from './container.js';
import { printTags } from './exiftool-print.js';
import { gpsFromTags } from './gps.js';
import { iccDescription } from './icc.js';
import type { ImageMetadata } from './types.js';

/**
 * When the photo was taken: DateTimeOriginal (+ SubSecTimeOriginal, OffsetTimeOriginal), else
 * CreateDate, EXIF's DateTimeDigitized (+ SubSecTimeDigitized, OffsetTimeDigitized), which
 * cameras set to the same moment. ModifyDate (IFD0 DateTime) is deliberately NOT used: editors
 * rewrite it (in the fixtures, Lightroom and GIMP export dates, weeks or years after the shot),
 * and a wrong date sorts a photo worse than no date. Strings are parsed by @albumkit/core's
 * `takenAtFromExif`, never by the local time zone; without an offset the wall time is read as UTC.
 */
export function takenAtFromTags(tags: Record<string, unknown>): Date | null {
  return (
    takenAtFromExif(tags.DateTimeOriginal, tags.SubSecTimeOriginal, tags.OffsetTimeOriginal) ??
    takenAtFromExif(tags.CreateDate ?? tags.DateTimeDigitized, tags.SubSecTimeDigitized, tags.OffsetTimeDigitized)
  );
}

/** ExifTool's printed Orientation values, as in `exifs`. */
const ORIENTATION_NAMES: Record<string, number> = {
  'horizontal (normal)': 1,
  'mirror horizontal': 2,
  'rotate 180': 3,
  'mirror vertical': 4,
  'mirror horizontal and rotate 270 cw': 5,
  'rotate 90 cw': 6,
  'mirror horizontal and rotate 90 cw': 7,
  'rotate 270 cw': 8,
};

/** EXIF Orientation 1..8 from ExifTool's printed name, a number or a numeric string; anything else is null. */
export function orientationFrom(value: unknown): number | null {
  if (typeof value === 'string') {
    const named = ORIENTATION_NAMES[value.trim().toLowerCase()];
    if (named !== undefined) return named;
  }
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 8 ? n : null;
}

/** A positive integer dimension: a number, "4048", or the first of "100 0" (a LONG written as two SHORTs). */
export function dimension(value: unknown): number | null {
  const first = Array.isArray(value) || ArrayBuffer.isView(value) ? (value as ArrayLike<unknown>)[0] : value;
  const n = typeof first === 'string' && /^\s*\d+(\s|$)/.test(first) ? Number.parseInt(first, 10) : first;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : null;
}

/** Orientations 5..8 turn the picture by 90 degrees: the displayed width is the stored height. */
export function displayedSize(width: number | null, height: number | null, orientation: number | null): [number | null, number | null] {
  return orientation !== null && orientation >= 5 ? [height, width] : [width, height];
}

const JFIF_UNITS: Record<number, string> = { 0: 'None', 1: 'inches', 2: 'cm' };
const JPEG_COLORSPACES: Record<number, string> = { 1: 'GRAY', 3: 'RGB', 4: 'CMYK' };

/**
 * The canonical `exifs` of a file, as Cloudinary's `image_metadata` has them: every value a
 * string printed as ExifTool prints it. In file order: JFIF (JFIFVersion, ResolutionUnit,
 * XResolution, YResolution), then EXIF IFD0, ExifIFD, GPS and Interop tags (an EXIF tag of the
 * same name replaces JFIF's, as in ExifTool), then the ICC ProfileDescription, then, for JPEG,
 * Cloudinary's own Colorspace ("RGB", "GRAY", "CMYK") and DPI (XResolution in dots per inch,
 * "0" when the unit is None).
 */
export function canonicalExifs(container: ContainerFacts, tags: Record<string, unknown>): Record<string, string> {
  const out = new Map<string, string>();
  const put = (key: string, value: string) => {
    out.delete(key); // the later reading wins and takes its place in the order
    out.set(key, value);
  };
  const jfif = container.jfif;
  if (jfif) {
    put('JFIFVersion', `${jfif.major}.${String(jfif.minor).padStart(2, '0')}`);
    put('ResolutionUnit', JFIF_UNITS[jfif.unit] ?? `Unknown (${jfif.unit})`);
    put('XResolution', String(jfif.x));
    put('YResolution', String(jfif.y));
  }
  for (const [key, value] of Object.entries(printTags(tags))) put(key, value);
  const profile = iccDescription(container.icc ?? null);
  if (profile) put('ProfileDescription', profile);
  if (container.format === 'jpeg') {
    const colorspace = JPEG_COLORSPACES[container.components ?? 0];
    if (colorspace) put('Colorspace', colorspace);
    const x = Number(out.get('XResolution'));
    const unit = out.get('ResolutionUnit');
    if (out.has('XResolution') && Number.isFinite(x)) put('DPI', unit === 'inches' ? String(Math.round(x)) : unit === 'cm' ? String(Math.round(x * 2.54)) : '0');
  }
  return Object.fromEntries(out);
}

/**
 * Every field derived from the canonical `exifs`, the same way whatever the source: taken-at,
 * GPS, orientation. `size` is the displayed size when the source knows it (the container's,
 * after orientation; Cloudinary's upload result); otherwise EXIF's size, turned for 5..8.
 */
export function metadataFromExifs(exifs: Record<string, string>, size: { width: number | null; height: number | null } | null): ImageMetadata {
  const orientation = orientationFrom(exifs.Orientation);
  let width = size?.width ?? null;
  let height = size?.height ?? null;
  if (width === null || height === null) {
    [width, height] = displayedSize(
      dimension(exifs.ExifImageWidth) ?? dimension(exifs.ImageWidth),
      dimension(exifs.ExifImageHeight) ?? dimension(exifs.ImageHeight),
      orientation,
    );
  }
  return { exifs, gpsExifs: gpsFromTags(exifs), takenAt: takenAtFromTags(exifs), orientation, width, height };
}

/**
 * The displayed size of a file: the container's stored size (JPEG SOF, PNG IHDR, TIFF IFD0, HEIF
 * ispe), EXIF's only as a fallback (EXIF sizes go stale when a file is resized: the tiny JPEG
 * fixture says 4048x3036 in EXIF, 1012x759 in its frame). Turned by EXIF Orientation 5..8, except
 * HEIF, which is turned by its `irot` (HEIF readers apply it and ignore the EXIF Orientation).
 */
export function containerDisplayedSize(container: ContainerFacts, exifs: Record<string, string>): { width: number | null; height: number | null } | null {
  const { width, height } = container;
  if (width === null || height === null) return null;
  const turned = container.format === 'heif' ? (container.quarterTurns ?? 0) % 2 === 1 : (orientationFrom(exifs.Orientation) ?? 1) >= 5;
  return turned ? { width: height, height: width } : { width, height };
}
