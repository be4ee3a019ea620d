import { MetadataError } from './errors.js';
import { readHeif } from './heif.js';
import { readJpeg } from './jpeg.js';
import { readPng } from './png.js';
import { ascii, type ByteSource } from './source.js';
import { readTiffFile } from './tiff.js';

/** What a container reader finds: the stored pixel size and the EXIF block (a TIFF structure). */
export interface ContainerFacts {
  format: 'jpeg' | 'png' | 'tiff' | 'heif';
  width: number | null;
  height: number | null;
  /** Self-contained TIFF structure ("II*\0" / "MM\0*") for exifr, or null without EXIF. */
  exif: Uint8Array | null;
  /** JPEG APP0 JFIF: version, density unit (0 none, 1 inches, 2 cm) and densities. */
  jfif?: { major: number; minor: number; unit: number; x: number; y: number } | null;
  /** The embedded ICC profile (JPEG APP2, PNG iCCP, HEIF colr, TIFF tag 0x8773), when read. */
  icc?: Uint8Array | null;
  /** JPEG: colour components of the frame (1 gray, 3 YCbCr/RGB, 4 CMYK). */
  components?: number | null;
  /**
   * HEIF: the primary item's `irot`, in quarter turns anticlockwise. HEIF viewers (libheif,
   * hence Cloudinary) apply it and not the EXIF Orientation, so it decides the displayed size.
   */
  quarterTurns?: number;
}

const HEIF_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs', 'mif1', 'msf1', 'avif', 'avis', 'mif2']);

/** Recognises the format by its magic bytes (never by name or MIME type) and reads it. */
export async function readContainer(source: ByteSource): Promise<ContainerFacts> {
  try {
    return await dispatch(source);
  } catch (error) {
    // A length field pointing outside the bytes read: the container is broken.
    if (error instanceof RangeError) throw new MetadataError(`broken image container: ${error.message}`, { cause: error });
    throw error;
  }
}

async function dispatch(source: ByteSource): Promise<ContainerFacts> {
  const head = await source.read(0, 32);
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return readJpeg(source);
  if (head.length >= 8 && ascii(head, 0, 8) === '\x89PNG\r\n\x1a\n') return readPng(source);
  const tiffMagic = ascii(head, 0, 4);
  if (tiffMagic === 'II*\0' || tiffMagic === 'MM\0*') return readTiffFile(source);
  if (head.length >= 12 && ascii(head, 4, 8) === 'ftyp') {
    const brands = [ascii(head, 8, 12)];
    for (let i = 16; i + 4 <= head.length; i += 4) brands.push(ascii(head, i, i + 4));
    if (brands.some((b) => HEIF_BRANDS.has(b))) return readHeif(source);
  }
  throw new MetadataError('unsupported or unrecognised image format');
}
