import type { Principal } from '../auth/abilities.js';
import type { ImageChangeFeed } from '../cache/image-changes.js';
import type { ImageJsonCache } from '../cache/image-json.js';
import type { ImageSerializer } from '../serializers/image.js';
import type { ImageService } from './images.js';

/**
 * `GET /images/:id` as JSON text: from the cache when the image is there, else read, serialized
 * and cached. The access rules are `ImageService`'s, applied to cached images too.
 */
export class ImageJsonReader {
  constructor(
    private readonly images: ImageService,
    private readonly serializer: ImageSerializer,
    private readonly cache: ImageJsonCache,
    private readonly feed: ImageChangeFeed,
  ) {}

  async get(principal: Principal, id: string): Promise<string> {
    void this.feed.start();
    const key = id.toLowerCase();
    const hit = this.cache.get(key);
    // An image of another organization is looked up as usual (and not found there).
    if (hit && hit.organizationId === principal.organizationId) {
      this.images.checkRead(principal, hit.albumId);
      return hit.body;
    }
    const fill = this.cache.begin(key);
    try {
      const image = await this.images.get(principal, id);
      const body = JSON.stringify(this.serializer.serialize(image));
      this.cache.set(fill, { organizationId: image.organization_id, albumId: image.album_id, body });
      return body;
    } finally {
      this.cache.end(fill);
    }
  }
}
