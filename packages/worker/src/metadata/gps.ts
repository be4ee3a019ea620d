import { toLatLng } from '@albumkit/core';

/**
 * One GPS coordinate in signed decimal degrees from what a file or Cloudinary gives:
 * exifr's raw [degrees, minutes, seconds] rationals, a number, or ExifTool's strings
 * ("50 deg 17' 58.57\" N", "50.2996"). EXIF stores the magnitude and the hemisphere apart
 * (GPSLatitudeRef "N"/"S", Cloudinary "North"/"South"), so the sign is applied here.
 */
export function coordinate(value: unknown, ref: unknown): number | null {
  let parts: number[];
  let hemisphere: string | null = null;
  if (typeof value === 'number') parts = [value];
  else if (Array.isArray(value) || ArrayBuffer.isView(value)) parts = Array.from(value as ArrayLike<unknown>, Number);
  else if (typeof value === 'string') {
    parts = (value.match(/-?\d+(?:\.\d+)?/g) ?? []).map(Number);
    // A trailing hemisphere word ("N", "South"), not a letter inside "deg".
    hemisphere = /(?:^|[^a-z])(north|south|east|west|[nsew])\s*$/i.exec(value.trim())?.[1]?.charAt(0).toUpperCase() ?? null;
  } else return null;
  if (parts.length === 0 || parts.length > 3 || parts.some((n) => !Number.isFinite(n))) return null;

  const [degrees = 0, minutes = 0, seconds = 0] = parts;
  const magnitude = Math.abs(degrees) + minutes / 60 + seconds / 3600;
  // The value's own hemisphere letter or minus sign wins: it comes from a reader (ExifTool's
  // composite tags) that already applied the Ref. Otherwise the Ref decides; no Ref means N/E.
  const refLetter = typeof ref === 'string' ? ref.trim().charAt(0).toUpperCase() : null;
  const negative = hemisphere ? hemisphere === 'S' || hemisphere === 'W' : degrees < 0 || Object.is(degrees, -0) ? true : refLetter === 'S' || refLetter === 'W';
  return negative ? -magnitude : magnitude;
}

/** [lat, lng] from the GPS tags; @albumkit/core's `toLatLng` drops out-of-range values and (0, 0). */
export function gpsFromTags(tags: Record<string, unknown>): [number, number] | null {
  const lat = coordinate(tags.GPSLatitude, tags.GPSLatitudeRef);
  const lng = coordinate(tags.GPSLongitude, tags.GPSLongitudeRef);
  if (lat === null || lng === null) return null;
  return toLatLng(lat, lng);
}
