/**
 * How core hands work to a queue without knowing which one: the worker package implements
 * this port with BullMQ; `InProcessJobs` serves the embedded default (no Redis).
 */
export interface NotificationJob {
  organizationId: string;
  albumId: string;
  userId: string | null;
  /** The Cloudinary notification body, parsed. */
  upload: Record<string, unknown>;
}

export interface JobPort {
  enqueueNotification(job: NotificationJob): Promise<void>;
  close(): Promise<void>;
}

/** Identity of a notification job: the same upload arriving twice is one job. */
export function notificationJobId(job: NotificationJob): string {
  const { public_id: publicId, version } = job.upload;
  return `notification:${job.organizationId}:${String(publicId)}@${String(version)}`;
}
