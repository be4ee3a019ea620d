import type { DatabaseHandle } from '../db/connect.js';
import type { Unlisten } from '../db/listen.js';
import { IMAGE_CHANGES_CHANNEL } from '../db/migrations/0005_image_changes.js';
import type { Logger } from '../logger.js';
import type { ImageJsonCache } from './image-json.js';

/**
 * Keeps an image cache true: the database's announcements of changed images (a trigger on
 * `images`, whoever writes) invalidate it, and it is off while they could be missed. Started
 * on first use, so that processes that never read images (workers) hold no extra connection.
 */
export class ImageChangeFeed {
  private started: Promise<void> | undefined;
  private unlisten: Unlisten | undefined;
  private closed = false;

  constructor(
    private readonly database: DatabaseHandle,
    private readonly cache: ImageJsonCache,
    private readonly logger: Logger,
  ) {}

  /** Starts listening (once); resolves when the first attempt is over. Never rejects. */
  start(): Promise<void> {
    this.started ??= this.listen();
    return this.started;
  }

  private async listen(): Promise<void> {
    const { listen } = this.database;
    if (!listen || this.closed) return;
    const cache = this.cache;
    try {
      const unlisten = await listen(IMAGE_CHANGES_CHANNEL, {
        notify: (payload) => (payload === '*' ? cache.clear() : cache.invalidate(payload)),
        ready: () => cache.enable(),
        lost: (error) => {
          cache.disable();
          if (!this.closed) this.logger.warn({ err: error }, 'image change feed lost: image cache off until it reconnects');
        },
      });
      if (this.closed) await unlisten();
      else this.unlisten = unlisten;
    } catch (error) {
      cache.disable();
      this.logger.warn({ err: error }, 'image change feed could not start: image cache off');
    }
  }

  async stop(): Promise<void> {
    this.closed = true;
    this.cache.disable();
    await this.started;
    await this.unlisten?.();
    this.unlisten = undefined;
  }
}
