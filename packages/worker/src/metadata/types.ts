/** A tag value in `exifs`: always ExifTool's printed string, as in Cloudinary's `image_metadata`. */
export type ExifValue = string;

export interface ImageMetadata {
  /**
   * The canonical EXIF map, whatever the source: ExifTool tag names, every value the string
   * ExifTool prints (Cloudinary's `image_metadata` shape); see README.md in this folder.
   */
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
