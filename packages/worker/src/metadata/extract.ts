import { canonicalExifs, containerDisplayedSize, metadataFromExifs } from './build.js';
import { readContainer } from './container.js';
import { parseExifBlock } from './exif-tags.js';
import type { ByteSource } from './source.js';
import { memorySource } from './source.js';
import type { ImageMetadata } from './types.js';

/**
 * Shared by the in-memory and the remote paths, so both give the same answer for the same file.
 * The file's tags become the canonical `exifs` first, and every other field is derived from those
 * by the function Cloudinary's `image_metadata` goes through too (`metadataFromCloudinary`).
 */
export async function extractFromSource(source: ByteSource): Promise<ImageMetadata> {
  const container = await readContainer(source);
  const exifs = canonicalExifs(container, await parseExifBlock(container.exif));
  return metadataFromExifs(exifs, containerDisplayedSize(container, exifs));
}

/**
 * EXIF, GPS, taken-at, orientation and displayed size of a JPEG, PNG, TIFF, HEIC or AVIF file.
 * Throws `MetadataError` for an unknown format or a broken container; a file without EXIF, or
 * with a damaged EXIF block, gives no EXIF tags and null fields but keeps its size.
 */
export async function extractMetadata(input: Uint8Array): Promise<ImageMetadata> {
  return extractFromSource(memorySource(input));
}
