import type { Principal } from '../auth/abilities.js';
import type { ImageChangeFeed } from '../cache/image-changes.js';
import type { CachedImage, ImageJsonCache } from '../cache/image-json.js';
import type { Image } from '../db/schema.js';
import type { ImageSerializer } from '../serializers/image.js';
import { syncIds, type ImageService } from './images.js';

const cachedImage = (image: Image, body: string): CachedImage => ({
  organizationId: image.organization_id,
  albumId: image.album_id,
  userId: image.user_id,
  body,
});

/**
 * `GET /images/:id` and `GET /image_syncs` as JSON text: from the cache when the image is there, else read, serialized
 * and cached. The access rules are `ImageService`'s, applied to cached images too.
 */
export class ImageJsonReader {
  constructor(
    private readonly images: ImageService,
    private readonly serializer: ImageSerializer,
    private readonly cache: ImageJsonCache,
    private readonly feed: ImageChangeFeed,
  ) {}

  /** The image's JSON text, and the album it is in (its access headers depend on it). */
  async get(principal: Principal, id: string): Promise<{ body: string; albumId: string }> {
    void this.feed.start();
    const key = id.toLowerCase();
    const hit = this.cache.get(key);
    // An image of another organization is looked up as usual (and not found there).
    // A token bound to a query is checked against the database (`ImageService.get`), not the cache.
    if (hit && hit.organizationId === principal.organizationId && !principal.query) {
      this.images.checkRead(principal, hit.albumId);
      return { body: hit.body, albumId: hit.albumId };
    }
    const fill = this.cache.begin(key);
    try {
      const image = await this.images.get(principal, id);
      const body = JSON.stringify(this.serializer.serialize(image));
      this.cache.set(fill, cachedImage(image, body));
      return { body, albumId: image.album_id };
    } finally {
      this.cache.end(fill);
    }
  }

  /**
   * The sync payloads of the images the token may see among `ids`, in the order asked, as a
   * JSON array; unknown ids and ids of other organizations are left out. Cached images are
   * not read again; tags and uploaders are, every time.
   */
  async syncs(principal: Principal, ids: string[]): Promise<string> {
    void this.feed.start();
    const wanted = principal.query ? await this.images.withinQuery(principal, syncIds(ids)) : syncIds(ids);
    const albums = this.images.syncAlbums(principal);
    const allowed = albums && new Set(albums);
    const hits = new Map<string, CachedImage>();
    const misses: string[] = [];
    for (const id of wanted) {
      const hit = this.cache.get(id);
      if (hit && hit.organizationId === principal.organizationId) {
        if (!allowed || allowed.has(hit.albumId)) hits.set(id, hit);
      } else misses.push(id);
    }
    const uploaders = [...new Set([...hits.values()].flatMap((hit) => (hit.userId ? [hit.userId] : [])))];
    const fills = new Map(misses.map((id) => [id, this.cache.begin(id)]));
    try {
      // Tags of ids that turn out not to be visible are simply not used.
      const [rows, tags, sfids] = await Promise.all([
        misses.length > 0 ? this.images.syncRows(principal, misses, albums) : [],
        this.images.tagNames([...hits.keys(), ...misses]),
        this.images.uploaderSfids(principal, uploaders),
      ]);
      const read = new Map<string, { body: string; userSfid: string | null }>();
      for (const row of rows) {
        const body = JSON.stringify(this.serializer.serialize(row));
        read.set(row.id, { body, userSfid: row.user_sfid });
        const fill = fills.get(row.id);
        if (fill) this.cache.set(fill, cachedImage(row, body));
      }
      const parts: string[] = [];
      for (const id of wanted) {
        const hit = hits.get(id);
        const found = hit ? { body: hit.body, userSfid: hit.userId ? (sfids.get(hit.userId) ?? null) : null } : read.get(id);
        if (found) parts.push(this.serializer.syncJson(found.body, tags.get(id) ?? [], found.userSfid));
      }
      return `[${parts.join(',')}]`;
    } finally {
      for (const fill of fills.values()) this.cache.end(fill);
    }
  }
}
