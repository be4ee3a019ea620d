import { randomUUID } from 'node:crypto';
import { can, isMember, type Principal } from '../auth/abilities.js';
import type { ProxyUrlSigner } from '../cloudinary/urls.js';
import type { Image, ImageExternalUrl } from '../db/schema.js';
import { AccessDenied, BadRequest, NotFound } from '../errors.js';
import type { ExternalUrlRepository } from '../repositories/external-urls.js';
import type { ImageRepository } from '../repositories/images.js';
import type { OrganizationRepository } from '../repositories/organizations.js';
import type { ImageSerializer } from '../serializers/image.js';
import type { DeliveryService } from './delivery.js';
import type { ImageService } from './images.js';

export interface ImageLinkDeps {
  images: ImageRepository;
  imageService: ImageService;
  externalUrls: ExternalUrlRepository;
  organizations: OrganizationRepository;
  serializer: ImageSerializer;
  delivery: DeliveryService;
  proxy: ProxyUrlSigner;
  /** Where a trashed or purged image's external URL leads (absolute). */
  deletedUrl: string;
}

/** `POST /image_external_urls` as the API answers it. */
export interface ExternalUrlJson {
  id: string;
  image_id: string;
  infos: unknown;
  url: string;
  source_url: string;
  resource_url: string;
}

/** External URLs one request may create. */
export const EXTERNAL_URLS_MAX = 100;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The rendition embed codes show (`c_fit,h_1000,w_1000` after the `full` one), as recorded. */
const EMBED_STEP = 'c_fit,h_1000,w_1000';
const VIDEO_SOURCES = [
  ['webm', 'video/webm'],
  ['mp4', 'video/mp4'],
  ['ogv', 'video/ogg'],
] as const;

/**
 * Links to one image that a token asks for: lasting external URLs (a public link that outlives
 * the image, leading to a placeholder once it is gone), a signed URL of the image, its embed
 * code, and who uploaded it.
 */
export class ImageLinkService {
  constructor(private readonly deps: ImageLinkDeps) {}

  /**
   * External URLs for images of the token's organization (`abilities.image_urls`, or an admin),
   * each an image the token may see; all or nothing. The transformations are checked as a
   * token link's are, and kept as asked (`infos`).
   */
  async createExternalUrls(principal: Principal, items: readonly unknown[], where: string): Promise<ExternalUrlJson[]> {
    if (!principal.admin && (principal.abilities as Record<string, unknown>).image_urls !== true) throw new AccessDenied('abilities.image_urls is required');
    if (items.length === 0) throw new BadRequest(`${where}: at least one external URL is expected`);
    if (items.length > EXTERNAL_URLS_MAX) throw new BadRequest(`${where}: at most ${EXTERNAL_URLS_MAX} external URLs per request`);
    const rows = [];
    const images: Image[] = [];
    for (const [index, item] of items.entries()) {
      const field = items.length > 1 || where.endsWith(']') ? `${where}.${index}` : where;
      if (item === null || typeof item !== 'object' || Array.isArray(item)) throw new BadRequest(`${field}: an object with image_id is expected`);
      const { image_id: imageId, transformations } = item as Record<string, unknown>;
      if (typeof imageId !== 'string' || !UUID.test(imageId)) throw new BadRequest(`${field}.image_id: the id of an image is expected`);
      const image = await this.deps.imageService.get(principal, imageId);
      const steps = await this.deps.delivery.steps(principal, transformations, `${field}.transformations`);
      const infos = transformations === undefined ? { image_id: image.id } : { image_id: image.id, transformations };
      rows.push({ id: randomUUID(), organizationId: principal.organizationId, imageId: image.id, userId: principal.userId, infos, steps });
      images.push(image);
    }
    const stored = await this.deps.externalUrls.insertMany(rows);
    return stored.map((row, index) => this.externalUrlJson(row, images[index]!));
  }

  private externalUrlJson(row: ImageExternalUrl, image: Image): ExternalUrlJson {
    const url = this.deps.proxy.url(row.id, 'jpg', `/image_external_urls/${row.id}`);
    return {
      id: row.id,
      image_id: row.image_id,
      infos: row.infos,
      url,
      source_url: this.deps.serializer.transformed(image, row.steps as string[]),
      resource_url: url,
    };
  }

  /**
   * Where `/image_external_urls/:id` leads: the image with its transformations as it is now
   * (edited, processed), or the deleted-image placeholder once it is trashed or purged.
   */
  async externalTarget(id: string): Promise<string> {
    if (!UUID.test(id)) throw new NotFound('Image external url');
    const row = await this.deps.externalUrls.find(id.toLowerCase());
    if (!row) throw new NotFound('Image external url');
    const image = await this.deps.images.findLinked(row.image_id);
    if (!image || image.organization_id !== row.organization_id) return this.deps.deletedUrl;
    return this.deps.delivery.absolute(this.deps.serializer.transformed(image, row.steps as string[]));
  }

  /** `GET /images/:id/image_url`: the image (fit in 1920, or as `width/height/crop` ask), for a token with `image_transform` on its album. */
  async imageUrl(principal: Principal, id: string, query: Record<string, unknown>): Promise<{ url: string; image_id: string }> {
    const image = await this.inOrganization(principal, id);
    if (!can(principal, image.album_id, 'image_transform')) throw new AccessDenied('image_transform is required on the album');
    if (principal.query && (await this.deps.imageService.withinQuery(principal, [image.id])).length === 0) throw new AccessDenied("the image does not match the token's query");
    const steps = await this.deps.delivery.querySteps(principal, query);
    return { url: this.deps.serializer.transformed(image, steps), image_id: image.id };
  }

  /** `GET /images/:id/embed`: HTML that shows the image (an `<img>`, or a `<video>` with its sources for a video upload). */
  async embed(principal: Principal, id: string): Promise<{ html: string }> {
    const image = await this.deps.imageService.get(principal, id);
    const url = (extension: string, resource: 'image' | 'video' = 'image') =>
      escapeAttribute(this.deps.delivery.absolute(this.deps.serializer.transformed(image, [EMBED_STEP], extension, resource)));
    const infos = image.infos as Record<string, unknown> | null;
    if (infos?.resource_type === 'video') {
      const sources = VIDEO_SOURCES.map(([extension, type]) => `<source src="${url(extension, 'video')}" type="${type}" />`).join('');
      return { html: `<video autoplay="autoplay" controls="controls" poster="${url('jpg', 'video')}">${sources}</video>` };
    }
    return { html: `<img src="${url('jpg')}" alt="${escapeAttribute(image.filename ?? '')}" />` };
  }

  /** `GET /images/:id/user`: the uploader's id and name, or `{}` when the image has none (as recorded). */
  async uploader(principal: Principal, id: string): Promise<Record<string, never> | { id: string; name: string | null }> {
    const image = await this.deps.imageService.get(principal, id);
    if (!image.user_id) return {};
    const user = await this.deps.organizations.findUser(image.user_id);
    if (!user || user.organization_id !== image.organization_id) return {};
    return { id: user.id, name: user.name };
  }

  /** A live image of the token's organization, whatever its album rights (checked by the caller). */
  private async inOrganization(principal: Principal, id: string): Promise<Image> {
    if (!UUID.test(id)) throw new NotFound('Image');
    const image = await this.deps.images.find(principal.organizationId, id.toLowerCase());
    if (!image) {
      if (!isMember(principal)) throw new AccessDenied('no such image for this token');
      throw new NotFound('Image');
    }
    return image;
  }
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
