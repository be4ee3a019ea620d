import { createHash } from 'node:crypto';

/**
 * How core hands work to a queue without knowing which one: `@albumkit/worker` implements this
 * port with BullMQ; `InProcessJobs` runs the same processors in this process (no Redis).
 */
export interface NotificationJob {
  organizationId: string;
  albumId: string;
  userId: string | null;
  /** The Cloudinary notification body, parsed. */
  upload: Record<string, unknown>;
}

export interface JobPayloads {
  /** A Cloudinary upload notification to turn into an image. */
  notification: NotificationJob;
  /** Read an image's EXIF/GPS and mark it processed. */
  metadata: { organizationId: string; imageId: string };
  /** Deliver one event to one webhook. */
  webhook: { eventId: string; webhookId: string };
  /** Purge the trash: images trashed longer ago than the retention, and their unused assets. */
  purge: { olderThanDays?: number };
  /** Fetch the file of an import, store it on Cloudinary and make its image (`@albumkit/worker`). */
  import: { organizationId: string; importId: string };
}

export type JobName = keyof JobPayloads;
export const JOB_NAMES: readonly JobName[] = ['notification', 'metadata', 'webhook', 'purge', 'import'];

export interface JobContext {
  /** 1 for the first run, 2 for the first retry, … */
  attempt: number;
}

export type Processor<K extends JobName> = (data: JobPayloads[K], context: JobContext) => Promise<unknown>;
export type Processors = { [K in JobName]: Processor<K> };

export interface JobPort {
  /** Enqueues a job; the same `jobId` enqueued again while it exists is one job. */
  enqueue<K extends JobName>(name: K, data: JobPayloads[K]): Promise<void>;
  /** Whether this port runs jobs of that name (core enqueues follow-up work only then). */
  supports(name: JobName): boolean;
  close(): Promise<void>;
}

/** Error a retry cannot fix: the job fails at once (BullMQ's UnrecoverableError plays this role there). */
export class UnrecoverableJobError extends Error {
  readonly unrecoverable = true;
}

export function isUnrecoverable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { unrecoverable?: boolean }).unrecoverable === true;
}

const digest = (text: string) => createHash('sha1').update(text).digest('hex');

/**
 * Deterministic job ids: the same upload (organization + public_id + version) arriving several
 * times is one notification job. Hex digests, because BullMQ refuses `:` in custom ids.
 */
/**
 * What a job is about, as the sweeps name it in SQL: the image of a metadata job, the
 * `<organization id>|<upload key>` of a notification job (`jobId` hashes the same text). A job that
 * failed for good is recorded with it, so that the sweeps leave that work to the replay.
 */
export function jobSubject<K extends JobName>(name: K, data: JobPayloads[K]): string | null {
  switch (name) {
    case 'notification': {
      const { organizationId, upload } = data as NotificationJob;
      return `${organizationId}|${String(upload?.public_id)}@${String(upload?.version)}`;
    }
    case 'metadata':
      return String((data as JobPayloads['metadata']).imageId);
    default:
      return null;
  }
}

export function jobId<K extends JobName>(name: K, data: JobPayloads[K]): string {
  switch (name) {
    case 'notification': {
      const { organizationId, upload } = data as NotificationJob;
      return `notification-${digest(`${organizationId}|${String(upload.public_id)}@${String(upload.version)}`)}`;
    }
    case 'metadata':
      return `metadata-${(data as JobPayloads['metadata']).imageId}`;
    case 'webhook': {
      const { eventId, webhookId } = data as JobPayloads['webhook'];
      return `webhook-${eventId}-${webhookId}`;
    }
    case 'purge':
      return 'purge'; // one purge at a time
    case 'import':
      return `import-${(data as JobPayloads['import']).importId}`;
    default:
      throw new Error(`unknown job ${String(name)}`);
  }
}

/** Fails fast when a job name has no processor or an unknown name has one. */
export function checkProcessors(processors: Partial<Processors>, required: readonly JobName[] = JOB_NAMES): void {
  for (const name of Object.keys(processors)) {
    if (!JOB_NAMES.includes(name as JobName)) throw new Error(`processor for unknown job "${name}"`);
  }
  for (const name of required) {
    if (typeof processors[name] !== 'function') throw new Error(`no processor for job "${name}"`);
  }
}
