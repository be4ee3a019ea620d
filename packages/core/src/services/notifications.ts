import type { Tokens } from '../auth/tokens.js';
import { verifyNotificationSignature } from '../cloudinary/signing.js';
import type { AlbumkitConfig } from '../config.js';
import { readUploadResult } from '../domain/upload-result.js';
import { AccessDenied, BadRequest } from '../errors.js';
import { UnrecoverableJobError, type JobPort, type NotificationJob } from '../jobs/port.js';
import type { Logger } from '../logger.js';
import type { Health } from '../ops/health.js';
import type { NotificationRepository } from '../repositories/notifications.js';
import type { ImageService, ProcessingResult } from './images.js';

export interface NotificationServiceDeps {
  tokens: Tokens;
  images: ImageService;
  notifications: NotificationRepository;
  jobs: () => JobPort;
  config: AlbumkitConfig;
  logger: Logger;
  /** Which dependencies are known to be down (their outage is logged there, once). */
  health?: Pick<Health, 'isDown'>;
}

export interface IncomingNotification {
  token: string | undefined;
  rawBody: Uint8Array;
  timestamp: string | undefined;
  signature: string | undefined;
}

/**
 * Cloudinary's upload notifications: verified on arrival (token + signature over the raw
 * bytes), recorded, answered at once, and turned into an image by a job. Cloudinary does not
 * resend a notification it got a 2xx for, so the record (not the queue) is what guarantees
 * that every accepted upload becomes an image: `resume` re-enqueues what was not handled.
 */
export class NotificationService {
  constructor(private readonly deps: NotificationServiceDeps) {}

  /**
   * Verifies, records and enqueues; any forgery, or a token whose uploader lost the right, is a
   * 401 and changes nothing. Resolves to the renewed notification token (the answer's `X-token`)
   * for an upload, undefined for other kinds of notification.
   */
  async accept(incoming: IncomingNotification): Promise<string | undefined> {
    const verified = await this.deps.tokens.verifyNotificationToken(incoming.token);
    const { target } = verified;
    const verdict = verifyNotificationSignature({
      rawBody: incoming.rawBody,
      timestamp: incoming.timestamp,
      signature: incoming.signature,
      apiSecret: this.deps.config.cloudinary.apiSecret,
      maxAgeSeconds: this.deps.config.notificationMaxAgeSeconds,
    });
    if (!verdict.ok) throw new AccessDenied(verdict.reason);
    let upload: unknown;
    try {
      upload = JSON.parse(Buffer.from(incoming.rawBody).toString('utf8'));
    } catch {
      throw new BadRequest('notification body: not JSON');
    }
    if (upload === null || typeof upload !== 'object' || Array.isArray(upload)) throw new BadRequest('notification body: not an object');
    const type = (upload as { notification_type?: unknown }).notification_type;
    if (type !== undefined && type !== 'upload') return undefined; // other kinds (errors, eager, …) create nothing
    const { uploadKey } = readUploadResult(upload); // a malformed upload result is refused now, not retried later
    const job: NotificationJob = { ...target, upload: upload as Record<string, unknown> };
    try {
      await this.deps.notifications.record(job, uploadKey);
    } catch (error) {
      // 23503: the organization of the token no longer exists.
      if ((error as { code?: string }).code === '23503') throw new AccessDenied('organization no longer exists');
      throw error;
    }
    try {
      await this.deps.jobs().enqueue('notification', job);
    } catch (error) {
      // Recorded: `resume` (the worker's sweep) enqueues it once the queue is back. A Redis outage
      // is reported once where it is seen; only other failures are told here.
      if (!this.deps.health?.isDown('redis')) this.deps.logger.warn({ err: error, uploadKey }, 'notification recorded, not enqueued');
    }
    return this.deps.tokens.renewNotification(verified);
  }

  /** Enqueues again the notifications received before `olderThan` and not handled yet. */
  async resume(olderThan: Date, limit = 500): Promise<number> {
    const pending = await this.deps.notifications.pending(olderThan, limit);
    for (const stored of pending) {
      await this.deps.jobs().enqueue('notification', {
        organizationId: stored.organization_id,
        albumId: stored.album_id,
        userId: stored.user_id,
        upload: stored.upload as Record<string, unknown>,
      });
    }
    return pending.length;
  }

  /**
   * The job: creates the image of an upload notification (once, however often it arrives);
   * `processed`, when the caller already read the metadata the notification carries, creates it processed.
   */
  async process(job: NotificationJob, processed?: ProcessingResult): Promise<void> {
    const type = job.upload.notification_type;
    if (type !== undefined && type !== 'upload') return; // errors and other kinds create nothing
    try {
      // Creating the image marks the recorded notification handled, in the same statement.
      await this.deps.images.createFromUpload(
        { organizationId: job.organizationId, userId: job.userId },
        job.albumId,
        job.upload,
        undefined,
        // The notification's own signature already proved it came from Cloudinary.
        { source: 'notification', verifySignature: false, ...(processed ? { processed } : {}) },
      );
    } catch (error) {
      if (error instanceof BadRequest) throw new UnrecoverableJobError(error.message);
      // 23503: the organization (or user) is gone; the album's foreign key refuses the image.
      if ((error as { code?: string }).code === '23503') throw new UnrecoverableJobError('organization or user no longer exists');
      throw error;
    }
  }
}
