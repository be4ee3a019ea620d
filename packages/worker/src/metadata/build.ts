import { takenAtFromExif } from '@albumkit/core';
import { gpsFromTags } from './gps.js';
import type { ExifValue, ImageMetadata } from './types.js';

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

/** EXIF Orientation 1..8 from a number or numeric string; anything else is null. */
export function orientationFrom(value: unknown): number | null {
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 8 ? n : null;
}

/** A positive integer dimension; exifr returns some LONG sizes as a [value, 0] pair of SHORTs. */
export function dimension(value: unknown): number | null {
  const first = Array.isArray(value) || ArrayBuffer.isView(value) ? (value as ArrayLike<unknown>)[0] : value;
  const n = typeof first === 'string' && /^\s*\d+\s*$/.test(first) ? Number(first) : first;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : null;
}

/** Orientations 5..8 turn the picture by 90 degrees: the displayed width is the stored height. */
export function displayedSize(width: number | null, height: number | null, orientation: number | null): [number | null, number | null] {
  return orientation !== null && orientation >= 5 ? [height, width] : [width, height];
}

/**
 * Assembles the result. `stored` is the container's pixel size (JPEG SOF, PNG IHDR, TIFF IFD0,
 * HEIF ispe); EXIF sizes are only a fallback: they describe the camera's original and go stale
 * when a file is resized (the tiny JPEG fixture says 4048x3036 in EXIF, 1012x759 in its frame).
 */
export function buildMetadata(tags: Record<string, unknown>, exifs: Record<string, ExifValue>, stored: { width: number | null; height: number | null }): ImageMetadata {
  const orientation = orientationFrom(tags.Orientation);
  let { width, height } = stored;
  if (width === null || height === null) {
    width = dimension(tags.ExifImageWidth) ?? dimension(tags.ImageWidth);
    height = dimension(tags.ExifImageHeight) ?? dimension(tags.ImageHeight);
  }
  const [displayedWidth, displayedHeight] = displayedSize(width, height, orientation);
  return {
    exifs,
    gpsExifs: gpsFromTags(tags),
    takenAt: takenAtFromTags(tags),
    orientation,
    width: displayedWidth,
    height: displayedHeight,
  };
}
