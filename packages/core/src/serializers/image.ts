import type { DeliveryUrlSigner, ProxyUrlSigner, AssetRef } from '../cloudinary/urls.js';
import type { Image } from '../db/schema.js';

/** Transformations of the renditions, exactly as the API has always emitted them. */
const AUTO = 'fl_attachment/dpr_auto,q_auto,f_auto';
const FIT_1920 = 'c_fit,h_1920,w_1920';
/** What the thumbnails do after their 1920 fit (and after the rotation of an edited image). */
const THUMBNAIL_STEPS = { full: AUTO, large: `c_fill,h_200,w_200/${AUTO}`, mini: `c_fill,h_100,w_100/${AUTO}` } as const;
export const RENDITIONS = {
  original: AUTO,
  full: `${FIT_1920}/${THUMBNAIL_STEPS.full}`,
  large: `${FIT_1920}/${THUMBNAIL_STEPS.large}`,
  mini: `${FIT_1920}/${THUMBNAIL_STEPS.mini}`,
  download: 'fl_attachment',
  fit300: 'c_fit,w_300',
  fit2000: 'c_fit,h_2000,w_2000',
} as const;

export interface Thumbnails {
  original: string;
  full_no_sharinpix: string;
  full: string;
  large: string;
  mini: string;
}

/** The image JSON, keys in the order clients have always received them. */
export interface ImageJson {
  id: string;
  public_id: string;
  infos: unknown;
  exifs: unknown;
  gps: unknown;
  gps_ip: unknown;
  gps_exifs: unknown;
  gps_html: unknown;
  created_at: string;
  updated_at: string;
  taken_at: string | null;
  width: number;
  height: number;
  rotation: number;
  crop_x: number;
  crop_y: number;
  crop_w: number;
  crop_h: number;
  metadatas: unknown;
  original_url: string;
  original_width: number;
  original_height: number;
  external_urls: { fill100: string; fit2000: string; mini: string; large: string; full: string };
  filename: string | null;
  format: string | null;
  title: string | null;
  description: string | null;
  page: number;
  group_id: string | null;
  color: string;
  size: unknown;
  processed: boolean;
  processing_error: string | null;
  album_id: string;
  tag_names?: string[];
  user_sfid?: string | null;
  thumbnails: Thumbnails;
}

/** `2018-01-01T08:00:00.000+00:00`: milliseconds and an explicit offset, as the API always wrote times. */
export function formatTime(date: Date): string {
  return date.toISOString().replace('Z', '+00:00');
}

/**
 * The user's edits in rendition transformations, where the API has always put them: the crop
 * (in the original's pixels) first, the rotation after the 1920 fit of the thumbnails and before
 * the fit of the external renditions. `original` and `full_no_sharinpix` (and `original_url`)
 * stay unedited: the original remains available.
 */
interface Edits {
  crop: string;
  rotation: string;
}

/** The transformation of a thumbnail of an edited (or unedited) image. */
function thumbnailTransformation(edits: Edits, kind: keyof typeof THUMBNAIL_STEPS): string {
  return `${edits.crop}${FIT_1920}/${edits.rotation}${THUMBNAIL_STEPS[kind]}`;
}

function editsOf(image: Image): Edits {
  return {
    crop: image.crop_w > 0 && image.crop_h > 0 ? `c_crop,h_${image.crop_h},w_${image.crop_w},x_${image.crop_x},y_${image.crop_y}/` : '',
    rotation: image.rotation ? `a_${image.rotation}/` : '',
  };
}

const THUMBNAILS_KEY = ',"thumbnails":';

export class ImageSerializer {
  constructor(
    private readonly delivery: DeliveryUrlSigner,
    private readonly proxy: ProxyUrlSigner,
    private readonly placeholder: string,
  ) {}

  serialize(image: Image): ImageJson {
    return this.build(image, undefined);
  }

  /** The image-sync payload: the image JSON plus `tag_names` and `user_sfid`. */
  serializeSync(image: Image, tagNames: string[], userSfid: string | null): ImageJson {
    return this.build(image, { tag_names: tagNames, user_sfid: userSfid });
  }

  /**
   * The image-sync payload as JSON text, from the image's JSON text (a cached one): the same
   * text `JSON.stringify(serializeSync(...))` gives. `thumbnails` is the last key of an image
   * JSON and the sync fields go just before it; JSON escapes every quote inside strings, so the
   * last `,"thumbnails":` is that key.
   */
  syncJson(imageJson: string, tagNames: string[], userSfid: string | null): string {
    const at = imageJson.lastIndexOf(THUMBNAILS_KEY);
    if (at < 0) throw new Error('not an image JSON');
    return `${imageJson.slice(0, at)},"tag_names":${JSON.stringify(tagNames)},"user_sfid":${JSON.stringify(userSfid)}${imageJson.slice(at)}`;
  }

  /** A trashed image as `GET /trashed_images` lists it: id, deletion time and its `large` thumbnail. */
  serializeTrashed(image: Image): { id: string; deleted_at: string | null; thumbnail_url: string } {
    const asset: AssetRef = { publicId: image.cloudinary_public_id, version: image.cloudinary_version, type: image.cloudinary_type };
    const pending = image.processed ? '' : this.placeholder;
    return {
      id: image.id,
      deleted_at: image.deleted_at ? formatTime(image.deleted_at) : null,
      thumbnail_url: pending + this.delivery.url(asset, thumbnailTransformation(editsOf(image), 'large')),
    };
  }

  /**
   * A thumbnail as the image's links name it (`/images/:id/thumbnails/<kind>-<name>.jpg`): its
   * signed URL (behind the placeholder while the image is not processed) and the short name of
   * the rendition, which changes whenever the rendition does.
   */
  thumbnail(image: Image, kind: keyof typeof THUMBNAIL_STEPS): { url: string; name: string } {
    const asset: AssetRef = { publicId: image.cloudinary_public_id, version: image.cloudinary_version, type: image.cloudinary_type };
    const signed = this.delivery.url(asset, thumbnailTransformation(editsOf(image), kind));
    return { url: (image.processed ? '' : this.placeholder) + signed, name: renditionName(signed) };
  }

  /**
   * The `full` thumbnail (the image as edited, fit in 1920) followed by more transformation
   * steps (a public link's own: `c_fit,h_202,w_201`), signed; behind the placeholder while the
   * image is not processed.
   */
  transformed(image: Image, steps: readonly string[], extension = 'jpg', resource: 'image' | 'video' = 'image'): string {
    const asset: AssetRef = { publicId: image.cloudinary_public_id, version: image.cloudinary_version, type: image.cloudinary_type };
    const transformation = [thumbnailTransformation(editsOf(image), 'full'), ...steps].join('/');
    return (image.processed ? '' : this.placeholder) + this.delivery.url(asset, transformation, extension, resource);
  }

  private build(image: Image, sync: { tag_names: string[]; user_sfid: string | null } | undefined): ImageJson {
    const asset: AssetRef = { publicId: image.cloudinary_public_id, version: image.cloudinary_version, type: image.cloudinary_type };
    const edits = editsOf(image);
    const { crop, rotation } = edits;
    const pending = image.processed ? '' : this.placeholder;
    const sign = (transformation: string) => this.delivery.url(asset, transformation);

    const full = sign(thumbnailTransformation(edits, 'full'));
    const unedited = crop || rotation ? sign(RENDITIONS.full) : full;
    const large = sign(thumbnailTransformation(edits, 'large'));
    const mini = sign(thumbnailTransformation(edits, 'mini'));
    const infos = image.infos as Record<string, unknown> | null;
    const proxyName = image.filename ?? 'image';
    const proxyFormat = image.format ?? 'jpg';
    const proxied = (kind: string, signedUrl: string) =>
      this.proxy.url(proxyName, proxyFormat, `/images/${image.id}/thumbnails/${kind}-${renditionName(signedUrl)}.jpg`);

    const thumbnails: Thumbnails = {
      original: pending + sign(RENDITIONS.original),
      full_no_sharinpix: pending + unedited,
      full: pending + full,
      large: pending + large,
      mini: pending + mini,
    };
    const json: Omit<ImageJson, 'thumbnails'> = {
      id: image.id,
      public_id: image.id,
      infos: image.infos,
      exifs: image.exifs,
      gps: image.gps,
      gps_ip: image.gps_ip,
      gps_exifs: image.gps_exifs,
      gps_html: image.gps_html,
      created_at: formatTime(image.created_at),
      updated_at: formatTime(image.updated_at),
      taken_at: image.taken_at ? formatTime(image.taken_at) : null,
      width: image.width,
      height: image.height,
      rotation: image.rotation,
      crop_x: image.crop_x,
      crop_y: image.crop_y,
      crop_w: image.crop_w,
      crop_h: image.crop_h,
      metadatas: image.metadatas,
      original_url: sign(RENDITIONS.download),
      original_width: image.original_width,
      original_height: image.original_height,
      external_urls: {
        fill100: pending + sign(crop + rotation + RENDITIONS.fit300),
        fit2000: pending + sign(crop + rotation + RENDITIONS.fit2000),
        mini: proxied('mini', mini),
        large: proxied('thumbnail', large),
        full: proxied('full', full),
      },
      filename: image.filename,
      format: image.format,
      title: image.title,
      description: image.description,
      page: image.page,
      group_id: image.group_id,
      color: image.color,
      size: infos && typeof infos === 'object' && 'bytes' in infos ? infos.bytes : null,
      processed: image.processed,
      processing_error: image.processing_error,
      album_id: image.album_id,
    };
    // `thumbnails` stays the last key, after the sync fields.
    return sync ? { ...json, ...sync, thumbnails } : { ...json, thumbnails };
  }
}

/**
 * A short, stable name for a rendition, changing whenever its delivery signature does (another
 * asset, format or edit: cache busting): the 48 bits of that `s--XXXXXXXX--` as 11 hex digits.
 */
function renditionName(signedUrl: string): string {
  const start = signedUrl.indexOf('/s--') + 4;
  return Buffer.from(signedUrl.slice(start, start + 8), 'base64url').toString('hex').slice(0, 11);
}
