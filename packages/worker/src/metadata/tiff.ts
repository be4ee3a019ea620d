import type { ContainerFacts } from './container.js';
import { MetadataError } from './errors.js';
import { readExactly, view, type ByteSource } from './source.js';

// Bytes per value of each TIFF field type (1 BYTE .. 13 IFD); unknown types count as 1.
const TYPE_SIZE = [0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4];
const EXIF_IFD = 0x8769;
const GPS_IFD = 0x8825;
const INTEROP_IFD = 0xa005;
const ICC_PROFILE = 0x8773;
/** Out-of-line values larger than this (strip tables, ICC, XMP) are not fetched: no tag we keep is that big. */
const MAX_VALUE_BYTES = 64 * 1024;
/** A TIFF whose metadata sits further than this into the file is read without EXIF. */
const MAX_TIFF_SPAN = 256 * 1024 * 1024;

/**
 * A TIFF file is itself the EXIF structure, but its offsets may point anywhere (the pixel strips
 * sit in between). The IFDs exifr reads (IFD0, Exif, GPS, Interop) and their values are located
 * here and copied at their own offsets into a buffer whose other bytes stay zero, so a remote
 * TIFF costs only its metadata, and the in-memory path builds the very same buffer.
 */
export async function readTiffFile(source: ByteSource): Promise<ContainerFacts> {
  const header = await readExactly(source, 0, 8);
  if (!header) throw new MetadataError('TIFF: truncated header');
  const little = header[0] === 0x49;
  const magic = view(header).getUint16(2, little);
  if (magic !== 42) throw new MetadataError('TIFF: unsupported variant (BigTIFF?)');

  const pieces: Array<[number, Uint8Array]> = [[0, header]];
  let width: number | null = null;
  let height: number | null = null;
  let icc: Uint8Array | null = null;
  const seen = new Set<number>();

  const readIfd = async (offset: number, kind: 'ifd0' | 'exif' | 'other'): Promise<void> => {
    if (offset < 8 || seen.has(offset) || offset > MAX_TIFF_SPAN) return;
    seen.add(offset);
    const countBytes = await readExactly(source, offset, 2);
    if (!countBytes) throw new MetadataError('TIFF: IFD beyond the end of the file');
    const count = view(countBytes).getUint16(0, little);
    if (count > 4096) throw new MetadataError('TIFF: implausible IFD entry count');
    const read = await readExactly(source, offset, 2 + count * 12 + 4);
    if (!read) throw new MetadataError('TIFF: truncated IFD');
    const table = read.slice(); // a copy: entries whose value is not fetched are patched below
    pieces.push([offset, table]);
    const dv = view(table);
    const children: Array<[number, 'exif' | 'other']> = [];
    for (let i = 0; i < count; i++) {
      const at = 2 + i * 12;
      const tag = dv.getUint16(at, little);
      const type = dv.getUint16(at + 2, little);
      const n = dv.getUint32(at + 4, little);
      const size = (TYPE_SIZE[type] ?? 1) * n;
      const inline = type === 3 ? dv.getUint16(at + 8, little) : dv.getUint32(at + 8, little);
      if (kind === 'ifd0' && tag === 0x100) width = inline;
      if (kind === 'ifd0' && tag === 0x101) height = inline;
      if (kind === 'ifd0' && (tag === EXIF_IFD || tag === GPS_IFD)) children.push([dv.getUint32(at + 8, little), tag === EXIF_IFD ? 'exif' : 'other']);
      if (kind === 'exif' && tag === INTEROP_IFD) children.push([dv.getUint32(at + 8, little), 'other']);
      if (size > 4) {
        const valueOffset = dv.getUint32(at + 8, little);
        const value = size <= MAX_VALUE_BYTES && valueOffset + size <= MAX_TIFF_SPAN ? await source.read(valueOffset, size) : null;
        if (value && value.length === size) {
          pieces.push([valueOffset, value]);
          if (kind === 'ifd0' && tag === ICC_PROFILE) icc = value;
        }
        // A value not fetched (too big, or past the end of the file) becomes an empty one, so
        // exifr never reads the zero gap or beyond the buffer; such tags are dropped anyway.
        else dv.setUint32(at + 4, 0, little);
      }
    }
    for (const [child, childKind] of children) await readIfd(child, childKind);
  };
  await readIfd(view(header).getUint32(4, little), 'ifd0');

  const end = Math.max(...pieces.map(([at, bytes]) => at + bytes.length));
  const exif = new Uint8Array(end);
  for (const [at, bytes] of pieces) exif.set(bytes, at);
  return { format: 'tiff', width: width || null, height: height || null, exif, icc };
}
