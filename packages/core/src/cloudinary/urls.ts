import { deliverySignature, proxySignature, safeEqual } from './signing.js';

/** What delivery URLs need to know about a stored Cloudinary asset. */
export interface AssetRef {
  publicId: string;
  version: string;
  /** Delivery type: `authenticated` for albumkit uploads. */
  type: string;
}

/**
 * Builds signed delivery URLs. Prefix strings are computed once; each URL costs one SHA-1 and
 * a few concatenations.
 */
export class DeliveryUrlSigner {
  private readonly base: string;
  private readonly videoBase: string;

  constructor(
    private readonly options: { cloudName: string; apiSecret: string; deliveryPrefix: string },
  ) {
    const cloud = `${options.deliveryPrefix.replace(/\/+$/, '')}/${options.cloudName}`;
    this.base = `${cloud}/image/`;
    this.videoBase = `${cloud}/video/`;
  }

  /** `<prefix>/<cloud>/<image|video>/<type>/s--SIG--/<transformation>/v<version>/<public_id>.<ext>` */
  url(asset: AssetRef, transformation: string, extension = 'jpg', resource: 'image' | 'video' = 'image'): string {
    const file = `${asset.publicId}.${extension}`;
    const signed = transformation ? `${transformation}/${file}` : file;
    const signature = deliverySignature(signed, this.options.apiSecret);
    const middle = transformation ? `${transformation}/` : '';
    return `${resource === 'image' ? this.base : this.videoBase}${asset.type}/s--${signature}--/${middle}v${asset.version}/${file}`;
  }
}

/** `Super Image` → `super-image`: the file name shown by the proxy. */
export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
  return slug || 'image';
}

/**
 * URLs of the image proxy (`external_urls.mini/large/full`): the proxy fetches `url` from the
 * host app and serves it under a friendly file name; `s` is a short HMAC over `url` so that the
 * proxy (or the host app behind it) can refuse URLs it did not issue.
 */
export class ProxyUrlSigner {
  private readonly base: string;

  constructor(
    proxyUrl: string,
    private readonly sourceHost: string,
    private readonly key: string,
  ) {
    this.base = proxyUrl.replace(/\/+$/, '');
  }

  /** The proxy's base URL, as its links start. */
  get baseUrl(): string {
    return this.base;
  }

  /** The last name slugified: an image's three proxy URLs share its file name. */
  private lastName: string | undefined;
  private lastSlug = '';

  url(fileName: string, format: string, path: string): string {
    const target = `${this.sourceHost}${path}`;
    if (fileName !== this.lastName) {
      this.lastSlug = slugify(fileName);
      this.lastName = fileName;
    }
    return `${this.base}/${this.lastSlug}.${format}?s=${proxySignature(target, this.key)}&url=${target}`;
  }

  /** True only for a proxy URL this signer issued, unaltered. */
  verify(proxyUrl: string): boolean {
    let parsed: URL;
    try {
      parsed = new URL(proxyUrl);
    } catch {
      return false;
    }
    // `url` is written unencoded; read it back the same way instead of URL-decoding it.
    const match = /[?&]s=([0-9a-f]{7})&url=(.+)$/.exec(parsed.search);
    if (!match || !proxyUrl.startsWith(this.base + '/')) return false;
    const [, signature, target] = match;
    return safeEqual(proxySignature(target!, this.key), signature!);
  }
}
