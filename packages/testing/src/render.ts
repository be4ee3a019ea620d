import sharp, { type ResizeOptions, type Sharp } from 'sharp';
import { openImage } from './analysis.js';
import type { OutputFormat } from './formats.js';
import { MAX_DIMENSION, type Step, type Transformation } from './transformations.js';

/**
 * Renders a derived image with sharp: EXIF orientation applied first (as Cloudinary does),
 * then each component's resize and rotation in order, then the output encoding.
 */
export async function renderImage(source: string, transformation: Transformation, format: OutputFormat): Promise<Buffer> {
  let image = openImage(source).autoOrient();
  for (const [index, step] of transformation.steps.entries()) {
    // sharp applies one resize per pipeline: later components start from the previous pixels.
    if (index > 0) image = await materialize(image);
    if (step.width !== undefined || step.height !== undefined) image = image.resize(resizeOptions(step));
    if (step.angle !== undefined && step.angle % 360 !== 0) {
      image = image.rotate(step.angle, { background: { r: 0, g: 0, b: 0, alpha: 0 } });
    }
  }
  return encode(image, format, transformation.quality);
}

async function materialize(image: Sharp): Promise<Sharp> {
  const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
  if (info.width > MAX_DIMENSION * 2 || info.height > MAX_DIMENSION * 2) throw new Error('intermediate image too large');
  return sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } });
}

function resizeOptions(step: Step): ResizeOptions {
  const size = { width: step.width, height: step.height };
  switch (step.crop ?? 'scale') {
    case 'scale':
      return { ...size, fit: 'fill' };
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
