import { readFile } from 'node:fs/promises';
import sharp, { type ResizeOptions, type Sharp } from 'sharp';
import { openImage, type ImageInput } from './analysis.js';
import type { ImageFormat, OutputFormat } from './formats.js';
import { decodeHeic, type DecodedImage } from './heic.js';
import type { Step, Transformation } from './transformations.js';

/**
 * Renders a derived image with sharp: EXIF orientation applied first (as Cloudinary does),
 * then each component's resize and rotation in order, then the output encoding. An HEIC is
 * decoded with libheif first (its pixels come oriented), then goes the same way.
 */
export async function renderImage(source: string, sourceFormat: ImageFormat, transformation: Transformation, format: OutputFormat): Promise<Buffer> {
  const input: ImageInput = sourceFormat === 'heic' ? await decodeHeicFile(source) : source;
  const displayed = await displayedSize(input);
  checkOutputSize(displayed, transformation.steps);
  let image = openImage(input).autoOrient();
  let size = displayed;
  for (const [index, step] of transformation.steps.entries()) {
    // sharp applies one resize per pipeline: later components start from the previous pixels.
    if (index > 0) ({ image, size } = await materialize(image));
    if (step.crop === 'crop') {
      image = image.extract(cropRegion(size, step));
    } else if (step.width !== undefined || step.height !== undefined) image = image.resize(resizeOptions(step));
    if (step.angle !== undefined && step.angle % 360 !== 0) {
      image = image.rotate(step.angle, { background: { r: 0, g: 0, b: 0, alpha: 0 } });
    }
  }
  return encode(image, format, transformation.quality);
}

/** Largest rendition (and intermediate image) in pixels: enlarging is cheap to ask for, not to do. */
export const MAX_OUTPUT_PIXELS = 50_000_000;

/** Renditions of one HEIC asked for together (a page showing its thumbnails) share one decode. */
const decoding = new Map<string, Promise<DecodedImage>>();

function decodeHeicFile(path: string): Promise<DecodedImage> {
  let job = decoding.get(path);
  if (!job) {
    job = readFile(path)
      .then((data) => decodeHeic(data))
      .finally(() => decoding.delete(path));
    decoding.set(path, job);
  }
  return job;
}

/** Width and height as displayed (after the EXIF orientation). */
async function displayedSize(input: ImageInput): Promise<{ width: number; height: number }> {
  if (typeof input !== 'string' && !Buffer.isBuffer(input)) return { width: input.width, height: input.height };
  const meta = await openImage(input).metadata();
  return { width: meta.autoOrient?.width ?? meta.width, height: meta.autoOrient?.height ?? meta.height };
}

/** Refuses, before any resizing, transformations whose result would exceed MAX_OUTPUT_PIXELS. */
function checkOutputSize(size: { width: number; height: number }, steps: readonly Step[]): void {
  let { width, height } = size;
  for (const step of steps) {
    [width, height] = resizedSize(width, height, step);
    if (step.angle !== undefined) {
      const radians = (step.angle * Math.PI) / 180;
      const [cos, sin] = [Math.abs(Math.cos(radians)), Math.abs(Math.sin(radians))];
      [width, height] = [Math.ceil(width * cos + height * sin), Math.ceil(width * sin + height * cos)];
    }
    if (width * height > MAX_OUTPUT_PIXELS) {
      throw new Error(`the result would be ${width}x${height}, more than ${MAX_OUTPUT_PIXELS} pixels`);
    }
  }
}

/**
 * The region of a `c_crop`: `w`x`h` at `x_`,`y_` (centred when they are not given), kept inside
 * the image, as Cloudinary keeps a crop that overflows.
 */
function cropRegion(size: { width: number; height: number }, step: Step): { left: number; top: number; width: number; height: number } {
  const width = Math.min(step.width ?? size.width, size.width);
  const height = Math.min(step.height ?? size.height, size.height);
  const left = Math.min(step.x ?? Math.floor((size.width - width) / 2), size.width - width);
  const top = Math.min(step.y ?? Math.floor((size.height - height) / 2), size.height - height);
  return { left, top, width, height };
}

function resizedSize(width: number, height: number, step: Step): [number, number] {
  if (step.crop === 'crop') {
    const region = cropRegion({ width, height }, step);
    return [region.width, region.height];
  }
  if (step.width === undefined && step.height === undefined) return [width, height];
  const scaleW = step.width !== undefined ? step.width / width : Infinity;
  const scaleH = step.height !== undefined ? step.height / height : Infinity;
  switch (step.crop ?? 'scale') {
    case 'fit':
    case 'limit': {
      const scale = Math.min(scaleW, scaleH, step.crop === 'limit' ? 1 : Infinity);
      return [Math.round(width * scale), Math.round(height * scale)];
    }
    default: {
      // scale, fill, thumb, pad: the asked size, the missing side following the aspect ratio.
      const scale = Math.min(scaleW, scaleH);
      return [step.width ?? Math.round(width * scale), step.height ?? Math.round(height * scale)];
    }
  }
}

async function materialize(image: Sharp): Promise<{ image: Sharp; size: { width: number; height: number } }> {
  const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
  return { image: sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } }), size: { width: info.width, height: info.height } };
}

function resizeOptions(step: Step): ResizeOptions {
  // Exact sizes over speed: JPEG shrink-on-load can be a pixel off (149 instead of 150).
  const size = { width: step.width, height: step.height, fastShrinkOnLoad: false };
  switch (step.crop ?? 'scale') {
    case 'scale':
      // Both sides given: stretch, as Cloudinary does; one side: keep the aspect ratio.
      return step.width !== undefined && step.height !== undefined ? { ...size, fit: 'fill' } : size;
    case 'fit':
      return { ...size, fit: 'inside' };
    case 'limit':
      return { ...size, fit: 'inside', withoutEnlargement: true };
    case 'fill':
    case 'thumb':
      return { ...size, fit: 'cover', position: position(step.gravity) };
    case 'lfill':
      return { ...size, fit: 'cover', position: position(step.gravity), withoutEnlargement: true };
    case 'pad':
      return { ...size, fit: 'contain', background: '#ffffff' };
    case 'crop':
      throw new Error('c_crop is an extract, not a resize');
  }
}

function position(gravity: string | undefined): string | number {
  switch (gravity) {
    case undefined:
    case 'center':
      return 'centre';
    case 'auto':
    case 'face':
    case 'faces':
      return sharp.strategy.attention;
    default:
      return gravity.replace('_', '');
  }
}

function encode(image: Sharp, format: OutputFormat, quality: number | 'auto' | undefined): Promise<Buffer> {
  const q = typeof quality === 'number' ? quality : undefined;
  switch (format) {
    case 'jpg':
      return image.flatten({ background: '#ffffff' }).jpeg({ quality: q ?? 80, mozjpeg: true }).toBuffer();
    case 'png':
      return image.png().toBuffer();
    case 'webp':
      return image.webp({ quality: q ?? 80 }).toBuffer();
    case 'avif':
      // Low effort: AVIF encoding is slow and these renditions are for development.
      return image.avif({ quality: q ?? 50, effort: 2 }).toBuffer();
    case 'gif':
      return image.gif().toBuffer();
    case 'tiff':
      return image.tiff({ quality: q ?? 80 }).toBuffer();
  }
}
