import { isUnrecoverable, type Albumkit, type Image, type ProcessingResult, type Processors } from '@albumkit/core';
import { uploadToCloudinary } from './imports/cloudinary-upload.js';
import { DEFAULT_REMOTE_FILE_POLICY, fetchRemoteFile, type RemoteFilePolicy } from './imports/fetch.js';
import { extractMetadataFromUrl, metadataFromCloudinary, type ImageMetadata } from './metadata/index.js';
import { DEFAULT_RETRY } from './queues.js';

export interface ProcessorOptions {
  /** Hosts the metadata job may fetch originals from; default: the configured delivery host. */
  allowedHosts?: string[];
  /** Most bytes read from one original. */
  maxBytes?: number;
  fetchTimeoutMs?: number;
  /**
   * Imports (`POST /imports`): size, time and redirect caps of the fetch, and the hosts that may
   * be private addresses (none by default: imports reach public hosts only).
   */
  imports?: Partial<RemoteFilePolicy>;
  /** Attempts of an import job, after which it is marked failed with the last reason (default: the BullMQ retry policy's). */
  importAttempts?: number;
}

/** A positive integer size from an upload result (a number from JSON, a string from a form post). */
function uploadSize(v: unknown): number | undefined {
  return Number.isInteger(Number(v)) && Number(v) > 0 ? Number(v) : undefined;
}

/** EXIF from the upload result's `image_metadata` (Cloudinary's reading), when it has some. */
function fromUploadResult(upload: Record<string, unknown>): ImageMetadata | undefined {
  const provided = upload.image_metadata;
  if (!provided || typeof provided !== 'object' || Object.keys(provided).length === 0) return undefined;
  return metadataFromCloudinary(provided as Record<string, unknown>, uploadSize(upload.width), uploadSize(upload.height));
}

/**
 * What the image record gets. A file that merely has no EXIF is not an error (`processing_error`
 * stays null, as the API records show); only a file that could not be read is (see `metadata`).
 */
function processingResult(metadata: ImageMetadata): ProcessingResult {
  return {
    exifs: metadata.exifs,
    gpsExifs: metadata.gpsExifs,
    takenAt: metadata.takenAt,
    width: metadata.width,
    height: metadata.height,
    error: null,
  };
}

/**
 * Every job's processor: core's (notification, webhook) plus the metadata job, which reads
 * EXIF/GPS from the upload result or, when absent, from the head of the original file.
 */
export function createProcessors(albumkit: Albumkit, options: ProcessorOptions = {}): Processors {
  const allowedHosts = options.allowedHosts ?? [new URL(albumkit.config.cloudinary.deliveryPrefix).host];

  async function read(image: Image): Promise<ImageMetadata> {
    const provided = fromUploadResult((image.infos ?? {}) as Record<string, unknown>);
    if (provided) return provided;
    const asset = { publicId: image.cloudinary_public_id, version: image.cloudinary_version, type: image.cloudinary_type };
    // The original, untransformed: its metadata sits in its first bytes.
    const url = albumkit.delivery.url(asset, '', image.format ?? 'jpg');
    const { metadata } = await extractMetadataFromUrl(url, {
      allowedHosts,
      ...(options.maxBytes ? { maxBytes: options.maxBytes } : {}),
      ...(options.fetchTimeoutMs ? { timeoutMs: options.fetchTimeoutMs } : {}),
    });
    // width/height mean what original_width/height mean: the size Cloudinary measured (after the
    // EXIF orientation), as on the image_metadata path. The file's reading counts only without it.
    const infos = (image.infos ?? {}) as Record<string, unknown>;
    const width = uploadSize(infos.width);
    const height = uploadSize(infos.height);
    return width !== undefined && height !== undefined ? { ...metadata, width, height } : metadata;
  }

  const importPolicy: RemoteFilePolicy = { ...DEFAULT_REMOTE_FILE_POLICY, ...options.imports };
  const importAttempts = options.importAttempts ?? DEFAULT_RETRY.import.attempts;

  return {
    ...albumkit.processors,
    // An import: fetch under the remote policy, store on Cloudinary (once: the result is kept
    // before the image is made), then the image as a notification's, with the import's metadatas.
    async import({ organizationId, importId }, { attempt }) {
      const work = await albumkit.imports.pending(organizationId, importId);
      if (!work) return;
      const { row, request } = work;
      try {
        let upload = row.upload as Record<string, unknown> | null;
        if (!upload) {
          const file = await fetchRemoteFile(request.url, request.headers, importPolicy);
          upload = await uploadToCloudinary(albumkit.config.cloudinary, file.bytes, { filename: request.filename ?? fileNameOf(file.url), albumId: row.album_id });
          await albumkit.imports.stored(row.id, upload);
        }
        let metadata: ImageMetadata | undefined;
        try {
          metadata = fromUploadResult(upload);
        } catch {
          metadata = undefined; // the metadata job reads the file itself
        }
        await albumkit.imports.complete(row, request, upload, metadata ? processingResult(metadata) : undefined);
      } catch (error) {
        const reason = (error as Error).message;
        const final = isUnrecoverable(error) || attempt >= importAttempts;
        await albumkit.imports.failed(row.id, reason, final);
        if (!final) throw error; // retried with backoff
      }
    },
    // Cloudinary's notification usually carries the EXIF it read (`image_metadata`): the image is
    // then created processed in one transaction, with no metadata job at all.
    async notification(job) {
      let metadata: ImageMetadata | undefined;
      try {
        metadata = fromUploadResult(job.upload);
      } catch {
        metadata = undefined; // the metadata job will read the file itself
      }
      await albumkit.notifications.process(job, metadata ? processingResult(metadata) : undefined);
    },
    async metadata({ organizationId, imageId }) {
      const image = await albumkit.repositories.images.find(organizationId, imageId);
      if (!image || image.processed) return;
      let result: ProcessingResult;
      try {
        result = processingResult(await read(image));
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

/** The file name an import gets when it was given none: the URL's last path segment, else `import`. */
function fileNameOf(url: string): string {
  const last = new URL(url).pathname.split('/').filter(Boolean).pop();
  let name = 'import';
  try {
    if (last) name = decodeURIComponent(last);
  } catch {
    name = last ?? name;
  }
  return name.replace(/[\u0000-\u001f/\\]/g, '_').slice(0, 255) || 'import';
}

/**
 * `ALBUMKIT_IMPORT_PRIVATE_HOSTS`: comma-separated `host` or `host:port` entries that imports may
 * fetch although they are private addresses (an intranet server). Unset: public hosts only.
 */
export function importOptionsFromEnv(env: Record<string, string | undefined> = process.env): Pick<ProcessorOptions, 'imports'> {
  const hosts = (env.ALBUMKIT_IMPORT_PRIVATE_HOSTS ?? '').split(',').map((h) => h.trim()).filter(Boolean);
  return hosts.length > 0 ? { imports: { allowPrivateHosts: hosts } } : {};
}
