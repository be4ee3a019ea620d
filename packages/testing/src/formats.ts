/** Image formats the server stores, named as Cloudinary names them. */
export const IMAGE_FORMATS = ['jpg', 'png', 'webp', 'gif', 'tiff', 'heic', 'avif'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/** Formats sharp's prebuilt libvips can write (HEIC needs an HEVC encoder it lacks; HEIC is read with libheif, heic.ts). */
export const OUTPUT_FORMATS = ['jpg', 'png', 'webp', 'gif', 'tiff', 'avif'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

const CONTENT_TYPES: Record<ImageFormat, string> = {
  jpg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  tiff: 'image/tiff',
  heic: 'image/heic',
  avif: 'image/avif',
};

export function contentType(format: ImageFormat): string {
  return CONTENT_TYPES[format];
}

/** A URL extension (`.jpeg`, `.tif`, ...) as an ImageFormat, or undefined when it is not one. */
export function formatFromExtension(extension: string): ImageFormat | undefined {
  const ext = extension.toLowerCase();
  if (ext === 'jpeg' || ext === 'jpe') return 'jpg';
  if (ext === 'tif') return 'tiff';
  if (ext === 'heif') return 'heic';
  return (IMAGE_FORMATS as readonly string[]).includes(ext) ? (ext as ImageFormat) : undefined;
}

export function isOutputFormat(format: ImageFormat): format is OutputFormat {
  return (OUTPUT_FORMATS as readonly string[]).includes(format);
}
