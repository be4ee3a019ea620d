/** A location as the API returns it: `[latitude, longitude]`. */
export type LatLng = [number, number];

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

/** A valid coordinate pair, or null: out-of-range values and the (0, 0) "no fix" are dropped. */
export function toLatLng(latitude: unknown, longitude: unknown): LatLng | null {
  const lat = toNumber(latitude);
  const lng = toNumber(longitude);
  if (lat === undefined || lng === undefined) return null;
  if (!Number.isFinite(lat) || !Number.isFinite(lng) || Math.abs(lat) > 90 || Math.abs(lng) > 180) return null;
  if (lat === 0 && lng === 0) return null;
  return [lat, lng];
}

/** The location shown for an image: EXIF first, then the browser's, then the IP's. */
export function chooseGps(exif: LatLng | null, html: LatLng | null, ip: LatLng | null): LatLng | null {
  return exif ?? html ?? ip;
}
