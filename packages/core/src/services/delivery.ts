import { timingSafeEqual } from 'node:crypto';
import type { Principal } from '../auth/abilities.js';
import type { ProxyUrlSigner } from '../cloudinary/urls.js';
import type { Image } from '../db/schema.js';
import { AlbumkitError, BadRequest, NotFound } from '../errors.js';
import type { ImageRepository } from '../repositories/images.js';
import type { ImageSerializer } from '../serializers/image.js';
import type { ImageService } from './images.js';

/** A link albumkit did not hand out, or no longer matches what it links to: `400 Invalid url`, as the API answered. */
export class InvalidLink extends AlbumkitError {
  constructor() {
    super(400, 'bad_request', 'Invalid url');
  }
}

export interface DeliveryDeps {
  images: ImageRepository;
  imageService: ImageService;
  serializer: ImageSerializer;
  proxy: ProxyUrlSigner;
  /** Origin of the host (`https://app.example.com`): base of relative placeholders and of the proxy's redirects. */
  origin: string;
  /** Host the proxied links name (`url=<host>/images/…`), as the image JSON writes it. */
  sourceHost: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** `mini-974eea0f2af.jpg`: the kind as the links name it, and the rendition's short name. */
const THUMBNAIL_FILE = /^(mini|thumbnail|full)-([0-9a-f]{11})\.jpg$/;
const KINDS = { mini: 'mini', thumbnail: 'large', full: 'full' } as const;

/** Cloudinary crop modes a link may ask for. */
const CROPS = new Set(['fill', 'fit', 'scale', 'pad', 'limit', 'lfill', 'lpad', 'mfit', 'mpad', 'crop', 'thumb', 'fill_pad']);
const GRAVITIES = new Set(['north', 'south', 'east', 'west', 'center', 'north_east', 'north_west', 'south_east', 'south_west', 'face', 'faces', 'auto']);
const NAMED_ANGLES = new Set(['auto_right', 'auto_left', 'ignore', 'vflip', 'hflip']);
/** Flags of a layer: meaningful only beside an overlay, dropped otherwise (as the API did with `tiled`). */
const LAYER_FLAGS = new Set(['tiled', 'layer_apply', 'no_overflow', 'relative', 'region_relative', 'cutter']);
const FLAGS = new Set(['attachment', 'progressive', 'lossy', 'keep_iptc', 'strip_profile', 'preserve_transparency', 'force_strip', 'immutable_cache']);
const FORMATS = new Set(['jpg', 'png', 'webp', 'gif', 'avif']);
/** Most transformation steps a token may carry (each one a Cloudinary component). */
const MAX_STEPS = 10;

/**
 * The links albumkit hands out that live at the host's root: the thumbnails of the image JSON
 * (`/images/:id/thumbnails/<kind>-<name>.jpg`), an image through a signed token
 * (`/images/:id?token=`) and albumkit's own image proxy. Each answers with where the image is:
 * a signed Cloudinary delivery URL (behind the placeholder while the image is not processed).
 */
export class DeliveryService {
  constructor(private readonly deps: DeliveryDeps) {}

  /** A relative URL (the placeholder `/assets/blank.jpg#…`) made absolute on the host's origin. */
  absolute(url: string): string {
    return url.startsWith('/') ? this.deps.origin + url : url;
  }

  /**
   * Where `/images/:id/thumbnails/:file` leads. The file names the rendition as the image JSON
   * wrote it; once the image is edited (another rendition) the old name is refused.
   */
  async thumbnail(id: string, file: string): Promise<string> {
    const parsed = THUMBNAIL_FILE.exec(file);
    if (!parsed || !UUID.test(id)) throw new InvalidLink();
    const image = await this.deps.images.findLinked(id.toLowerCase());
    if (!image) throw new NotFound('Image');
    const { url, name } = this.deps.serializer.thumbnail(image, KINDS[parsed[1] as keyof typeof KINDS]);
    if (!sameText(name, parsed[2]!)) throw new InvalidLink();
    return this.absolute(url);
  }

  /**
   * Where `/images/:id?token=` leads: the image as edited, fit in 1920, then the token's
   * `transformations` (one object or a list, each a step) and the query's `width/height/crop`.
   * A token naming `image_id` names the image, and the path is then only a file name.
   */
  async linked(principal: Principal, claims: Record<string, unknown>, pathId: string, query: Record<string, unknown>): Promise<string> {
    const named = claims.image_id;
    const id = typeof named === 'string' ? named : pathId;
    if (!UUID.test(id)) throw new NotFound('Image');
    const image = await this.readable(principal, id.toLowerCase());
    const steps = [...(await this.steps(principal, claims.transformations, 'transformations')), ...(await this.querySteps(principal, query))];
    const options = claims.sharinpix;
    let format = 'jpg';
    if (options !== undefined && options !== null) {
      if (typeof options !== 'object' || Array.isArray(options)) throw new BadRequest('sharinpix: an object is expected');
      const wanted = (options as Record<string, unknown>).format;
      if (wanted !== undefined) {
        if (typeof wanted !== 'string' || !FORMATS.has(wanted)) throw new BadRequest(`sharinpix.format: one of ${[...FORMATS].join(', ')}`);
        format = wanted;
      }
    }
    return this.absolute(this.deps.serializer.transformed(image, steps, format));
  }

  /**
   * Where albumkit's own proxy (`<origin>/proxy/<name>.<ext>?s=…&url=<host>/…`) leads: the link
   * it proxies, on this host, once the short signature holds. Anything else is refused: it is
   * no open redirect.
   */
  proxied(file: string, rawQuery: string): string {
    if (!this.deps.proxy.verify(`${this.deps.proxy.baseUrl}/${file}?${rawQuery}`)) throw new InvalidLink();
    const target = /(?:^|&)url=(.+)$/.exec(rawQuery)![1]!;
    const prefix = `${this.deps.sourceHost}/`;
    if (!target.startsWith(prefix)) throw new InvalidLink();
    const path = target.slice(prefix.length - 1);
    if (!/^\/(images|image_external_urls)\/[\w./-]+$/.test(path) || path.includes('..')) throw new InvalidLink();
    return this.deps.origin + path;
  }

  /**
   * Transformation steps as Cloudinary writes them, from what a token or a body gives (one
   * object or a list, each a step): known keys only, values checked, overlays of the
   * principal's organization only. A 400 names the field (`<where>.<index>.<key>`).
   */
  async steps(principal: Principal, given: unknown, where: string): Promise<string[]> {
    const list = given === undefined || given === null || given === '' ? [] : Array.isArray(given) ? given : [given];
    if (list.length > MAX_STEPS) throw new BadRequest(`${where}: at most ${MAX_STEPS} steps`);
    const steps: string[] = [];
    for (const [index, step] of list.entries()) {
      const text = await this.step(principal, step, Array.isArray(given) ? `${where}.${index}` : where);
      if (text) steps.push(text);
    }
    return steps;
  }

  /** The step a link's query asks for (`width`, `height`, `crop`), if any. */
  async querySteps(principal: Principal, query: Record<string, unknown>): Promise<string[]> {
    const text = await this.step(principal, pick(query, ['width', 'height', 'crop']), 'query');
    return text ? [text] : [];
  }

  /** The image a token may see through a link: an integrator's token (signed with the organization's secret) any of its organization, others as `GET /images/:id` allows. */
  private async readable(principal: Principal, id: string): Promise<Image> {
    if (principal.kind === 'integrator' && !principal.query) {
      const image = await this.deps.images.find(principal.organizationId, id);
      if (!image) throw new NotFound('Image');
      return image;
    }
    return this.deps.imageService.get(principal, id);
  }

  /** One step of a link's transformations as Cloudinary writes it: known keys only, values checked, components sorted by name. */
  private async step(principal: Principal, given: unknown, where: string): Promise<string | undefined> {
    if (given === undefined || given === null) return undefined;
    if (typeof given !== 'object' || Array.isArray(given)) throw new BadRequest(`${where}: an object is expected`);
    const step = given as Record<string, unknown>;
    const parts: string[] = [];
    const field = (name: string) => `${where}.${name}`;
    const size = (name: string, prefix: string) => {
      const value = step[name];
      if (value === undefined || value === null || value === '') return;
      const text = String(value);
      if (!/^(\d{1,5}|0?\.\d{1,4})$/.test(text) || Number(text) <= 0 || Number(text) > 10_000) throw new BadRequest(`${field(name)}: a number of pixels from 1 to 10000 (or a fraction below 1) is expected`);
      parts.push(`${prefix}_${text}`);
    };
    const integer = (name: string, prefix: string, min: number, max: number) => {
      const value = step[name];
      if (value === undefined || value === null || value === '') return;
      const text = String(value);
      if (!/^-?\d{1,5}$/.test(text) || Number(text) < min || Number(text) > max) throw new BadRequest(`${field(name)}: an integer from ${min} to ${max} is expected`);
      parts.push(`${prefix}_${Number(text)}`);
    };
    const named = (name: string, prefix: string, allowed: Set<string>) => {
      const value = step[name];
      if (value === undefined || value === null || value === '') return;
      if (typeof value !== 'string' || !allowed.has(value)) throw new BadRequest(`${field(name)}: one of ${[...allowed].join(', ')}`);
      parts.push(`${prefix}_${value}`);
    };

    size('width', 'w');
    size('height', 'h');
    named('crop', 'c', CROPS);
    named('gravity', 'g', GRAVITIES);
    integer('x', 'x', -10_000, 10_000);
    integer('y', 'y', -10_000, 10_000);
    integer('opacity', 'o', 0, 100);
    const angle = step.angle;
    if (typeof angle === 'string' && NAMED_ANGLES.has(angle)) parts.push(`a_${angle}`);
    else integer('angle', 'a', -360, 360);

    let overlay = false;
    const layer = step.overlay;
    if (layer !== undefined && layer !== null && layer !== '') {
      if (typeof layer !== 'string' || !UUID.test(layer)) throw new BadRequest(`${field('overlay')}: the id of an image is expected`);
      const image = await this.deps.images.find(principal.organizationId, layer.toLowerCase());
      if (!image) throw new BadRequest(`${field('overlay')}: no such image`);
      // A layer names its asset with `:` for the folders' `/`.
      parts.push(`l_${image.cloudinary_type}:${image.cloudinary_public_id.replaceAll('/', ':')}`);
      overlay = true;
    }
    const flags = step.flags;
    if (flags !== undefined && flags !== null && flags !== '') {
      const names = Array.isArray(flags) ? flags : typeof flags === 'string' ? flags.split('.') : [flags];
      const kept: string[] = [];
      for (const name of names) {
        if (typeof name !== 'string' || (!FLAGS.has(name) && !LAYER_FLAGS.has(name))) throw new BadRequest(`${field('flags')}: one of ${[...FLAGS, ...LAYER_FLAGS].join(', ')}`);
        if (LAYER_FLAGS.has(name) && !overlay) continue;
        kept.push(name);
      }
      if (kept.length) parts.push(`fl_${kept.join('.')}`);
    }
    return parts.length ? parts.sort().join(',') : undefined;
  }
}

function pick(source: Record<string, unknown>, names: string[]): Record<string, unknown> | undefined {
  const picked: Record<string, unknown> = {};
  let any = false;
  for (const name of names) {
    if (source[name] !== undefined) {
      picked[name] = source[name];
      any = true;
    }
  }
  return any ? picked : undefined;
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
