import { isUnrecoverable, type Albumkit, type Image, type ProcessingResult, type Processors } from '@albumkit/core';
import { extractMetadataFromUrl, metadataFromCloudinary, type ImageMetadata } from './metadata/index.js';

export interface ProcessorOptions {
  /** Hosts the metadata job may fetch originals from; default: the configured delivery host. */
  allowedHosts?: string[];
  /** Most bytes read from one original. */
  maxBytes?: number;
  fetchTimeoutMs?: number;
}

/**
 * Every job's processor: core's (notification, webhook) plus the metadata job, which reads
 * EXIF/GPS from the upload result or, when absent, from the head of the original file.
 */
export function createProcessors(albumkit: Albumkit, options: ProcessorOptions = {}): Processors {
  const allowedHosts = options.allowedHosts ?? [new URL(albumkit.config.cloudinary.deliveryPrefix).host];

  async function read(image: Image): Promise<ImageMetadata> {
    const infos = (image.infos ?? {}) as Record<string, unknown>;
    const provided = infos.image_metadata;
    if (provided && typeof provided === 'object' && Object.keys(provided).length > 0) {
      return metadataFromCloudinary(provided as Record<string, unknown>, image.original_width, image.original_height);
    }
    const asset = { publicId: image.cloudinary_public_id, version: image.cloudinary_version, type: image.cloudinary_type };
    // The original, untransformed: its metadata sits in its first bytes.
    const url = albumkit.delivery.url(asset, '', image.format ?? 'jpg');
    const { metadata } = await extractMetadataFromUrl(url, {
      allowedHosts,
      ...(options.maxBytes ? { maxBytes: options.maxBytes } : {}),
      ...(options.fetchTimeoutMs ? { timeoutMs: options.fetchTimeoutMs } : {}),
    });
    return metadata;
  }

  return {
    ...albumkit.processors,
    async metadata({ organizationId, imageId }) {
      const image = await albumkit.repositories.images.find(organizationId, imageId);
      if (!image || image.processed) return;
      let result: ProcessingResult;
      try {
        const metadata = await read(image);
        const found = Object.keys(metadata.exifs).length > 0;
        result = {
          exifs: metadata.exifs,
          gpsExifs: metadata.gpsExifs,
          takenAt: metadata.takenAt,
          width: metadata.width,
          height: metadata.height,
          error: found ? null : 'no EXIF metadata in the file',
        };
      } catch (error) {
        // A file we cannot read (or may not fetch) is processed with the reason; network
        // trouble and 5xx are thrown, so the job is retried with backoff.
        if (!isUnrecoverable(error)) throw error;
        result = { error: (error as Error).message };
      }
      await albumkit.images.markProcessed(organizationId, imageId, result);
    },
  };
}
