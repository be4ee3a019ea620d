import { dimension, displayedSize, orientationFrom, takenAtFromTags } from './build.js';
import { jsonSafeTags } from './exif-tags.js';
import { gpsFromTags } from './gps.js';
import type { ImageMetadata } from './types.js';

/** ExifTool's printed Orientation values, which Cloudinary returns in `image_metadata`. */
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

function orientation(value: unknown): number | null {
  if (typeof value === 'string') {
    const named = ORIENTATION_NAMES[value.trim().toLowerCase()];
    if (named !== undefined) return named;
  }
  return orientationFrom(value);
}

/**
 * The same shape from Cloudinary's upload result: `image_metadata` holds ExifTool's printed
 * values as strings ("50 deg 17' 58.57\" N", "Rotate 90 CW", "2018:07:25 16:34:23").
 * `width`/`height` are the upload result's, which Cloudinary reports after applying the EXIF
 * orientation (an Orientation 6 photo stored 80x48 comes back 48x80), so they are used as
 * given; only the fallback to the tags' stored size is swapped for orientations 5..8.
 */
export function metadataFromCloudinary(imageMetadata: Record<string, unknown>, width?: number, height?: number): ImageMetadata {
  const tags = imageMetadata ?? {};
  const turn = orientation(tags.Orientation);
  let size: [number | null, number | null];
  const givenWidth = dimension(width);
  const givenHeight = dimension(height);
  if (givenWidth !== null && givenHeight !== null) size = [givenWidth, givenHeight];
  else {
    const storedWidth = dimension(tags.ImageWidth) ?? dimension(tags.ExifImageWidth);
    const storedHeight = dimension(tags.ImageHeight) ?? dimension(tags.ExifImageHeight);
    size = displayedSize(storedWidth, storedHeight, turn);
  }
  return {
    exifs: jsonSafeTags(tags),
    gpsExifs: gpsFromTags(tags),
    takenAt: takenAtFromTags(tags),
    orientation: turn,
    width: size[0],
    height: size[1],
  };
}
