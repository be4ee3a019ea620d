import type { ContainerFacts } from './container.js';
import { isByteLimit, MetadataError } from './errors.js';
import { ascii, readExactly, view, type ByteSource } from './source.js';

// Start-of-frame markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not.
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);
// Markers without a length field.
const STANDALONE = new Set([0x01, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8]);

/**
 * Walks the JPEG marker segments up to the frame header (SOF): the EXIF APP1 comes before it
 * by the EXIF standard, so nothing after SOF is read — for a remote file only the head is fetched.
 */
export async function readJpeg(source: ByteSource): Promise<ContainerFacts> {
  let exif: Uint8Array | null = null;
  let jfif: ContainerFacts['jfif'] = null;
  const iccChunks = new Map<number, Uint8Array>();
  const facts = (width: number | null, height: number | null, components: number | null): ContainerFacts => ({
    format: 'jpeg',
    width,
    height,
    exif,
    jfif,
    icc: joinIcc(iccChunks),
    components,
  });
  let pos = 2;
  for (let segments = 0; segments < 10_000; segments++) {
    let header: Uint8Array | null;
    try {
      header = await readExactly(source, pos, 4);
    } catch (error) {
      // Over the remote budget with the EXIF in hand: keep it, the size stays unknown.
      if (isByteLimit(error) && exif) return facts(null, null, null);
      throw error;
    }
    if (!header) throw new MetadataError('JPEG: file ends before the frame header (truncated)');
    if (header[0] !== 0xff) throw new MetadataError(`JPEG: no marker at offset ${pos} before the frame header`);
    const marker = header[1]!;
    if (marker === 0xff) {
      pos += 1; // fill byte before a marker
      continue;
    }
    if (STANDALONE.has(marker)) {
      pos += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) throw new MetadataError('JPEG: no frame header (SOF) before the image data');
    const length = view(header).getUint16(2);
    if (length < 2) throw new MetadataError(`JPEG: bad segment length at offset ${pos}`);

    if (SOF.has(marker)) {
      const frame = await readExactly(source, pos + 4, 6);
      if (!frame) throw new MetadataError('JPEG: truncated frame header');
      const height = view(frame).getUint16(1);
      const width = view(frame).getUint16(3);
      // Height 0 means "defined later by a DNL marker": rare, left unknown.
      return facts(width || null, height || null, frame[5] || null);
    }
    if (marker === 0xe0 && !jfif && length >= 16) {
      // "JFIF\0", version (2 bytes), density unit, X and Y density.
      const body = await readExactly(source, pos + 4, 12);
      if (body && ascii(body, 0, 5) === 'JFIF\0') {
        jfif = { major: body[5]!, minor: body[6]!, unit: body[7]!, x: view(body).getUint16(8), y: view(body).getUint16(10) };
      }
    }
    if (marker === 0xe2 && length > 16) {
      // "ICC_PROFILE\0", chunk number (1-based), chunk count, then that part of the profile.
      const body = await source.read(pos + 4, length - 2);
      if (body.length === length - 2 && ascii(body, 0, 12) === 'ICC_PROFILE\0') iccChunks.set(body[12]!, body.subarray(14));
    }
    if (marker === 0xe1 && !exif) {
      const body = await source.read(pos + 4, length - 2);
      // "Exif\0" then a pad byte (normally \0) then the TIFF structure; XMP also lives in APP1.
      if (body.length === length - 2 && ascii(body, 0, 5) === 'Exif\0' && body.length > 14) exif = body.subarray(6);
    }
    pos += 2 + length;
  }
  throw new MetadataError('JPEG: too many segments');
}

/** The ICC profile from its APP2 chunks, in chunk order; null without one. */
function joinIcc(chunks: Map<number, Uint8Array>): Uint8Array | null {
  if (chunks.size === 0) return null;
  const parts = [...chunks.entries()].sort((a, b) => a[0] - b[0]).map(([, part]) => part);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
