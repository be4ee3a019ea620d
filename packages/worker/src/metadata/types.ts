/** A JSON-safe tag value: the JSON column stores it as is. */
export type ExifValue = string | number | boolean | null | Array<string | number>;

export interface ImageMetadata {
  /** Flat tag map named as exifr/ExifTool name tags; dates stay strings as in the file. */
  exifs: Record<string, ExifValue>;
  /** [latitude, longitude] in signed decimal degrees (south and west negative). */
  gpsExifs: [number, number] | null;
  takenAt: Date | null;
  /** EXIF Orientation 1..8, null when absent or invalid. */
  orientation: number | null;
  /** Displayed size: stored width/height swapped when the orientation is 5..8. */
  width: number | null;
  height: number | null;
}

export interface RemoteReadOptions {
  /** Exact hostnames (default port only) or `host:port`; anything else is refused before connecting. */
  allowedHosts: string[];
  /** Total cap on body bytes read over all requests (default 8 MB). */
  maxBytes?: number;
  /** Size of the first range request, and the least any later one asks for (default 64 KB). */
  firstChunkBytes?: number;
  /** Per request, including its body (default 10 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}
