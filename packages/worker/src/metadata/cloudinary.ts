import { dimension, metadataFromExifs } from './build.js';
import { MAX_PRINTED_LENGTH } from './exiftool-print.js';
import type { ImageMetadata } from './types.js';

/**
 * Cloudinary's `image_metadata` as canonical `exifs`: it already is ExifTool's printed values as
 * strings ("Horizontal (normal)", "50 deg 17' 58.57\"", "2018:07:25 16:34:23"), so keys and
 * strings are kept as they are; a number or boolean (a JSON post written by hand) becomes its
 * string, anything else (objects, arrays, empty or oversized values) is left out.
 */
export function exifsFromCloudinary(imageMetadata: Record<string, unknown> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(imageMetadata ?? {})) {
    const text = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
    if (text === undefined || text === '' || text.length > MAX_PRINTED_LENGTH) continue;
    out[key] = text;
  }
  return out;
}

/**
 * The same `ImageMetadata` from Cloudinary's upload result. `width`/`height` are the upload
 * result's, which Cloudinary reports after applying the EXIF orientation (an Orientation 6
 * photo stored 80x48 comes back 48x80), so they are used as given; without them, EXIF's size.
 */
export function metadataFromCloudinary(imageMetadata: Record<string, unknown>, width?: number, height?: number): ImageMetadata {
  const w = dimension(width);
  const h = dimension(height);
  return metadataFromExifs(exifsFromCloudinary(imageMetadata), w !== null && h !== null ? { width: w, height: h } : null);
}
