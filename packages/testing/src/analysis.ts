import sharp, { type Metadata, type Sharp } from 'sharp';
import { HttpError } from './http.js';
import type { ImageFormat } from './formats.js';
import { HeicDecodeError, MAX_HEIC_PIXELS, decodeHeic, looksLikeHeic, type DecodedImage } from './heic.js';

/** Refuse images whose decoding would need more memory than a laptop should spend. */
export const MAX_INPUT_PIXELS = 100_000_000;

/** An image to read: an encoded file (bytes or path), or pixels already decoded (an HEIC's). */
export type ImageInput = Buffer | string | DecodedImage;

/** Lenient decoding: a slightly damaged photo still yields what can be read, as on Cloudinary. */
export function openImage(input: ImageInput): Sharp {
  if (typeof input === 'string' || Buffer.isBuffer(input)) return sharp(input, { failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS });
  const { width, height, channels, pixels } = input;
  return sharp(pixels, { raw: { width, height, channels }, limitInputPixels: MAX_INPUT_PIXELS });
}

export interface ImageFacts {
  format: ImageFormat;
  /** Displayed size, after the EXIF orientation (an HEIC's rotation and mirroring) is applied. */
  width: number;
  height: number;
  /** False when the file can be stored and served but not transformed (damaged, or too large). */
  decodable: boolean;
  /** An HEIC's decoded pixels, for the analyses of the upload. */
  decoded?: DecodedImage;
}

const INVALID = () => new HttpError(400, 'Invalid image file');

/** Format and size of an uploaded file; 400 "Invalid image file" when it is no image. */
export async function inspectImage(data: Buffer): Promise<ImageFacts> {
  if (data.length === 0) throw INVALID();
  let meta: Metadata;
  try {
    meta = await openImage(data).metadata();
  } catch {
    // sharp may not even read an HEIC's header: libheif decides.
    if (looksLikeHeic(data)) return inspectHeic(data);
    throw INVALID();
  }
  const format = cloudinaryFormat(meta);
  if (!format) throw INVALID();
  if (format === 'heic') return inspectHeic(data);
  const width = meta.autoOrient?.width ?? meta.width;
  const height = meta.autoOrient?.height ?? meta.height;
  if (!width || !height) throw INVALID();
  return { format, width, height, decodable: await canDecode(data) };
}

function cloudinaryFormat(meta: Metadata): ImageFormat | undefined {
  switch (meta.format) {
    case 'jpeg':
      return 'jpg';
    case 'png':
    case 'webp':
    case 'gif':
    case 'tiff':
      return meta.format;
    case 'heif':
      return meta.compression === 'av1' ? 'avif' : 'heic';
    default:
      // SVG, PDF and the like are not photos; refusing them keeps delivery to raster images.
      return undefined;
  }
}

async function canDecode(data: Buffer): Promise<boolean> {
  try {
    await openImage(data).resize(8, 8, { fit: 'fill' }).raw().toBuffer();
    return true;
  } catch {
    return false;
  }
}

/**
 * An HEIC, decoded with libheif: its displayed size (after its rotation and mirroring, as a
 * JPEG's after its EXIF orientation) and its pixels. One too large to decode is still stored
 * and served as is (`decodable: false`, as sharp's pixel limit does for other formats), one
 * libheif cannot read at all is no image.
 */
async function inspectHeic(data: Buffer): Promise<ImageFacts> {
  try {
    const decoded = await decodeHeic(data, MAX_HEIC_PIXELS);
    return { format: 'heic', width: decoded.width, height: decoded.height, decodable: true, decoded };
  } catch (error) {
    if (!(error instanceof HeicDecodeError) || error.reason === 'invalid' || !error.size) throw INVALID();
    return { format: 'heic', width: error.size.width, height: error.size.height, decodable: false };
  }
}

/**
 * `colors` (the most frequent colours, `[hex, percent]`) and `predominant.google` (the same
 * pixels named with Google's palette), computed on a small thumbnail: rough, like the real thing.
 */
export async function computeColors(data: ImageInput): Promise<{ colors: [string, number][]; predominant: { google: [string, number][] } }> {
  const { data: pixels, info } = await openImage(data)
    .resize(64, 64, { fit: 'inside' })
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const bins = new Map<number, { count: number; r: number; g: number; b: number }>();
  const total = info.width * info.height;
  for (let i = 0; i < pixels.length; i += info.channels) {
    const r = pixels[i]!;
    const g = pixels[i + 1] ?? r;
    const b = pixels[i + 2] ?? r;
    const key = ((r >> 5) << 6) | ((g >> 5) << 3) | (b >> 5);
    const bin = bins.get(key) ?? { count: 0, r: 0, g: 0, b: 0 };
    bin.count++;
    bin.r += r;
    bin.g += g;
    bin.b += b;
    bins.set(key, bin);
  }
  const ranked = [...bins.values()].sort((a, b) => b.count - a.count);
  const percent = (count: number) => Math.round((count / total) * 1000) / 10;
  const hex = (v: number) => Math.round(v).toString(16).padStart(2, '0').toUpperCase();
  const colors = ranked
    .slice(0, 12)
    .filter((bin) => percent(bin.count) > 0)
    .map((bin): [string, number] => [`#${hex(bin.r / bin.count)}${hex(bin.g / bin.count)}${hex(bin.b / bin.count)}`, percent(bin.count)]);

  const named = new Map<string, number>();
  for (const bin of ranked) {
    const name = nearestGoogleColor(bin.r / bin.count, bin.g / bin.count, bin.b / bin.count);
    named.set(name, (named.get(name) ?? 0) + bin.count);
  }
  const google = [...named.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([name, count]): [string, number] => [name, percent(count)])
    .filter(([, pct]) => pct > 0);
  return { colors, predominant: { google } };
}

const GOOGLE_PALETTE: [string, number, number, number][] = [
  ['black', 0, 0, 0],
  ['white', 255, 255, 255],
  ['gray', 136, 136, 136],
  ['red', 204, 34, 34],
  ['orange', 238, 136, 17],
  ['yellow', 238, 221, 34],
  ['green', 51, 153, 51],
  ['teal', 17, 136, 136],
  ['blue', 34, 85, 204],
  ['purple', 119, 51, 170],
  ['pink', 238, 136, 187],
  ['brown', 119, 68, 34],
];

function nearestGoogleColor(r: number, g: number, b: number): string {
  let best = GOOGLE_PALETTE[0]![0];
  let bestDistance = Infinity;
  for (const [name, pr, pg, pb] of GOOGLE_PALETTE) {
    const distance = (r - pr) ** 2 + (g - pg) ** 2 + (b - pb) ** 2;
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * A 64-bit perceptual hash (dHash: is each pixel of a 9x8 grayscale thumbnail brighter than
 * its right neighbour?) as 16 hex digits, the shape of Cloudinary's `phash`.
 */
export async function computePhash(data: ImageInput): Promise<string> {
  const { data: pixels, info } = await openImage(data)
    .autoOrient()
    .flatten({ background: '#ffffff' })
    .grayscale()
    .resize(9, 8, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  let hash = 0n;
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      const left = pixels[(y * 9 + x) * info.channels]!;
      const right = pixels[(y * 9 + x + 1) * info.channels]!;
      hash = (hash << 1n) | (left > right ? 1n : 0n);
    }
  }
  return hash.toString(16).padStart(16, '0');
}
