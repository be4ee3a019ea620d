/** A cached image JSON, with what access checks need. */
export interface CachedImage {
  organizationId: string;
  albumId: string;
  /** The uploader (for the sync payload's `user_sfid`). */
  userId: string | null;
  /** The serialized image JSON. */
  body: string;
}

/** A read of an image from the database in progress: whether its result may be cached. */
export interface Fill {
  readonly id: string;
  readonly seq: number;
  readonly epoch: number;
}

export interface ImageJsonCacheOptions {
  maxEntries: number;
  maxBytes: number;
  ttlMs: number;
  now?: () => number;
}

interface Entry extends CachedImage {
  expiresAt: number;
  bytes: number;
}

/**
 * The JSON of recently read images, by image id, least recently used out first, bounded in
 * entries and bytes, each entry for `ttlMs` at most.
 *
 * It is correct only while someone calls `invalidate` for every change to an image (the
 * `albumkit_images` channel) and `disable` whenever those calls may have been missed: it
 * starts disabled, and `enable` is called once the change feed is live.
 *
 * A read that raced a change must not be cached: a fill records the sequence number of
 * invalidations when it starts, and its result is dropped when its image (or everything) was
 * invalidated since.
 */
export class ImageJsonCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private enabled = false;
  /** Incremented by every invalidation. */
  private seq = 0;
  /** Incremented by `enable`, `disable` and `clear`: fills started before are dropped. */
  private epoch = 0;
  /** Fills in flight by image id, and the sequence number of that image's last invalidation. */
  private readonly inFlight = new Map<string, { count: number; invalidatedAt: number }>();
  private readonly now: () => number;

  constructor(private readonly options: ImageJsonCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  get isEnabled(): boolean {
    return this.enabled;
  }

  get(id: string): CachedImage | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.remove(id, entry);
      return undefined;
    }
    // Most recently used last.
    this.entries.delete(id);
    this.entries.set(id, entry);
    return entry;
  }

  /** Call before reading the image from the database; pair with `end`. */
  begin(id: string): Fill {
    const flight = this.inFlight.get(id);
    if (flight) flight.count++;
    else this.inFlight.set(id, { count: 1, invalidatedAt: -1 });
    return { id, seq: this.seq, epoch: this.epoch };
  }

  /** Caches what the fill read, unless the image changed (or the cache was reset) meanwhile. */
  set(fill: Fill, value: CachedImage): void {
    if (!this.enabled || fill.epoch !== this.epoch) return;
    const flight = this.inFlight.get(fill.id);
    if (flight && flight.invalidatedAt > fill.seq) return;
    const bytes = value.body.length * 2 + 200;
    if (bytes > this.options.maxBytes || this.options.maxEntries === 0) return;
    const previous = this.entries.get(fill.id);
    if (previous) this.remove(fill.id, previous);
    this.entries.set(fill.id, { ...value, bytes, expiresAt: this.now() + this.options.ttlMs });
    this.bytes += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.options.maxEntries && this.bytes <= this.options.maxBytes) break;
      this.remove(oldest, entry);
    }
  }

  end(fill: Fill): void {
    const flight = this.inFlight.get(fill.id);
    if (flight && --flight.count === 0) this.inFlight.delete(fill.id);
  }

  /** The image changed: forget it, and refuse what reads in flight found. */
  invalidate(id: string): void {
    this.seq++;
    const entry = this.entries.get(id);
    if (entry) this.remove(id, entry);
    const flight = this.inFlight.get(id);
    if (flight) flight.invalidatedAt = this.seq;
  }

  /** Forget everything (any image may have changed). */
  clear(): void {
    this.epoch++;
    this.entries.clear();
    this.bytes = 0;
  }

  /** Changes are announced again: start caching, from scratch. */
  enable(): void {
    this.clear();
    this.enabled = true;
  }

  /** Changes may go unannounced: stop serving and storing. */
  disable(): void {
    this.enabled = false;
    this.clear();
  }

  private remove(id: string, entry: Entry): void {
    this.entries.delete(id);
    this.bytes -= entry.bytes;
  }
}
