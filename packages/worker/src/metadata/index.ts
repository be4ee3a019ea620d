/**
 * EXIF/GPS extraction for the worker: from bytes in memory, from a remote URL by range
 * requests, or from Cloudinary's `image_metadata`, all into the same `ImageMetadata`.
 */
export type { ExifValue, ImageMetadata, RemoteReadOptions } from './types.js';
export { MetadataError, RemoteReadError, ByteLimitExceeded } from './errors.js';
export { extractMetadata } from './extract.js';
export { extractMetadataFromUrl } from './remote.js';
export { metadataFromCloudinary } from './cloudinary.js';
export { checkRemoteUrl } from './url-policy.js';
