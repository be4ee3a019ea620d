import { buildMetadata } from './build.js';
import { readContainer } from './container.js';
import { jsonSafeTags, parseExifBlock } from './exif-tags.js';
import type { ByteSource } from './source.js';
import { memorySource } from './source.js';
import type { ImageMetadata } from './types.js';

/** Shared by the in-memory and the remote paths, so both give the same answer for the same file. */
export async function extractFromSource(source: ByteSource): Promise<ImageMetadata> {
  const container = await readContainer(source);
  const tags = await parseExifBlock(container.exif);
  return buildMetadata(tags, jsonSafeTags(tags), container);
}

/**
 * EXIF, GPS, taken-at, orientation and displayed size of a JPEG, PNG, TIFF, HEIC or AVIF file.
 * Throws `MetadataError` for an unknown format or a broken container; a file without EXIF, or
 * with a damaged EXIF block, gives empty `exifs` and null fields but keeps its size.
 */
export async function extractMetadata(input: Uint8Array): Promise<ImageMetadata> {
  return extractFromSource(memorySource(input));
}
