import type { ContainerFacts } from './container.js';
import { MetadataError } from './errors.js';
import { ascii, readExactly, view, type ByteSource } from './source.js';

/**
 * HEIC and AVIF are ISO-BMFF (HEIF) files: the `meta` box lists the items (`iinf`), where their
 * bytes are (`iloc`) and their properties (`iprp`: `ipco` + `ipma`). The size is the primary
 * item's `ispe`; the EXIF is the item of type "Exif", read at the offsets `iloc` gives — for a
 * remote file that is one range request, wherever the item sits in the file.
 */

const MAX_META_BYTES = 16 * 1024 * 1024;

interface Box {
  type: string;
  /** Offset of the payload (after the header) and end of the box, within the buffer walked. */
  body: number;
  end: number;
}

function boxes(bytes: Uint8Array, start: number, end: number): Box[] {
  const out: Box[] = [];
  const dv = view(bytes);
  let pos = start;
  while (pos + 8 <= end) {
    let size = dv.getUint32(pos);
    let header = 8;
    if (size === 1) {
      if (pos + 16 > end) break;
      size = Number(dv.getBigUint64(pos + 8));
      header = 16;
    } else if (size === 0) size = end - pos; // "to the end of the enclosing box"
    if (size < header || pos + size > end) throw new MetadataError('HEIF: box overruns its parent');
    out.push({ type: ascii(bytes, pos + 4, pos + 8), body: pos + header, end: pos + size });
    pos += size;
  }
  return out;
}

/** Reads an unsigned integer of 0, 4 or 8 bytes (iloc's variable-width fields). */
function uint(dv: DataView, pos: number, size: number): number {
  if (size === 0) return 0;
  if (size === 2) return dv.getUint16(pos);
  if (size === 4) return dv.getUint32(pos);
  if (size === 8) return Number(dv.getBigUint64(pos));
  throw new MetadataError(`HEIF: unsupported field width ${size}`);
}

interface Extent {
  offset: number;
  length: number;
}
interface Location {
  method: number;
  extents: Extent[];
}

function parseIloc(meta: Uint8Array, box: Box): Map<number, Location> {
  const dv = view(meta);
  const version = meta[box.body]!;
  let p = box.body + 4;
  const offsetSize = meta[p]! >> 4;
  const lengthSize = meta[p]! & 15;
  const baseOffsetSize = meta[p + 1]! >> 4;
  const indexSize = version === 1 || version === 2 ? meta[p + 1]! & 15 : 0;
  p += 2;
  const count = version < 2 ? dv.getUint16(p) : dv.getUint32(p);
  p += version < 2 ? 2 : 4;
  const out = new Map<number, Location>();
  for (let i = 0; i < count; i++) {
    const id = version < 2 ? dv.getUint16(p) : dv.getUint32(p);
    p += version < 2 ? 2 : 4;
    let method = 0;
    if (version === 1 || version === 2) {
      method = dv.getUint16(p) & 15;
      p += 2;
    }
    p += 2; // data_reference_index: 0 = this file
    const base = uint(dv, p, baseOffsetSize);
    p += baseOffsetSize;
    const extentCount = dv.getUint16(p);
    p += 2;
    const extents: Extent[] = [];
    for (let e = 0; e < extentCount; e++) {
      p += indexSize;
      const offset = uint(dv, p, offsetSize);
      p += offsetSize;
      const length = uint(dv, p, lengthSize);
      p += lengthSize;
      extents.push({ offset: base + offset, length });
    }
    out.set(id, { method, extents });
  }
  return out;
}

/** Item ids whose type is "Exif" (infe version 2 and 3; older versions carry no type). */
function exifItems(meta: Uint8Array, iinf: Box): number[] {
  const dv = view(meta);
  const version = meta[iinf.body]!;
  const first = iinf.body + 4 + (version === 0 ? 2 : 4);
  const ids: number[] = [];
  for (const infe of boxes(meta, first, iinf.end)) {
    if (infe.type !== 'infe') continue;
    const v = meta[infe.body]!;
    if (v < 2) continue;
    const id = v === 2 ? dv.getUint16(infe.body + 4) : dv.getUint32(infe.body + 4);
    const typeAt = infe.body + 4 + (v === 2 ? 2 : 4) + 2;
    if (ascii(meta, typeAt, typeAt + 4) === 'Exif') ids.push(id);
  }
  return ids;
}

/** The properties (`ipco` boxes) associated with the primary item in `ipma`, and all of `ipco`. */
function primaryProperties(meta: Uint8Array, primary: number | null, iprp: Box): { primary: Box[]; all: Box[] } {
  const dv = view(meta);
  const children = boxes(meta, iprp.body, iprp.end);
  const ipco = children.find((b) => b.type === 'ipco');
  if (!ipco) return { primary: [], all: [] };
  const properties = boxes(meta, ipco.body, ipco.end);
  const associated: Box[] = [];
  for (const ipma of children.filter((b) => b.type === 'ipma')) {
    const version = meta[ipma.body]!;
    const wideIndex = (meta[ipma.body + 3]! & 1) === 1;
    let p = ipma.body + 4;
    const count = dv.getUint32(p);
    p += 4;
    for (let i = 0; i < count; i++) {
      const id = version < 1 ? dv.getUint16(p) : dv.getUint32(p);
      p += version < 1 ? 2 : 4;
      const associations = meta[p]!;
      p += 1;
      for (let a = 0; a < associations; a++) {
        const index = wideIndex ? dv.getUint16(p) & 0x7fff : meta[p]! & 0x7f;
        p += wideIndex ? 2 : 1;
        const property = properties[index - 1]; // 1-based; 0 means "no property"
        if (id === primary && property) associated.push(property);
      }
    }
  }
  return { primary: associated, all: properties };
}

/** `ispe` (image spatial extents): the stored size, before `irot`. */
function spatialExtents(meta: Uint8Array, property: Box | undefined): [number, number] | null {
  if (!property || property.body + 12 > property.end) return null;
  const dv = view(meta);
  return [dv.getUint32(property.body + 4), dv.getUint32(property.body + 8)];
}

/** `colr` of type "prof" or "rICC": an ICC profile follows the 4-byte colour type. */
function iccOf(meta: Uint8Array, property: Box | undefined): Uint8Array | null {
  if (!property || property.body + 4 > property.end) return null;
  const type = ascii(meta, property.body, property.body + 4);
  return type === 'prof' || type === 'rICC' ? meta.subarray(property.body + 4, property.end) : null;
}

async function findMeta(source: ByteSource): Promise<Uint8Array> {
  let pos = 0;
  for (let count = 0; count < 1000; count++) {
    const header = await readExactly(source, pos, 16);
    if (!header) break;
    const dv = view(header);
    const type = ascii(header, 4, 8);
    let size = dv.getUint32(0);
    if (size === 1) size = Number(dv.getBigUint64(8));
    if (type === 'meta') {
      if (size < 12 || size > MAX_META_BYTES) throw new MetadataError('HEIF: implausible meta box size');
      const meta = await readExactly(source, pos, size);
      if (!meta) throw new MetadataError('HEIF: truncated meta box');
      return meta;
    }
    if (size < 8) break; // size 0 ("to the end of the file") or broken: no meta after it
    pos += size;
  }
  throw new MetadataError('HEIF: no meta box');
}

export async function readHeif(source: ByteSource): Promise<ContainerFacts> {
  const meta = await findMeta(source);
  const dv = view(meta);
  const children = boxes(meta, 12, meta.length); // 8-byte header + 4-byte FullBox version/flags
  const pitm = children.find((b) => b.type === 'pitm');
  const primary = pitm ? (meta[pitm.body] === 0 ? dv.getUint16(pitm.body + 4) : dv.getUint32(pitm.body + 4)) : null;
  const iprp = children.find((b) => b.type === 'iprp');
  const properties = iprp ? primaryProperties(meta, primary, iprp) : { primary: [], all: [] };
  const size = spatialExtents(meta, properties.primary.find((b) => b.type === 'ispe'));
  const irot = properties.primary.find((b) => b.type === 'irot');
  const quarterTurns = irot && irot.body < irot.end ? meta[irot.body]! & 3 : 0;
  // The primary's colour profile; a grid's tiles may carry it instead of the grid item.
  const isIcc = (b: Box) => b.type === 'colr' && iccOf(meta, b) !== null;
  const icc = iccOf(meta, properties.primary.find(isIcc) ?? properties.all.find(isIcc));

  const iinf = children.find((b) => b.type === 'iinf');
  const iloc = children.find((b) => b.type === 'iloc');
  const idat = children.find((b) => b.type === 'idat');
  let exif: Uint8Array | null = null;
  const exifId = iinf ? exifItems(meta, iinf)[0] : undefined;
  const location = exifId !== undefined && iloc ? parseIloc(meta, iloc).get(exifId) : undefined;
  if (location && (location.method === 0 || (location.method === 1 && idat))) {
    const parts: Uint8Array[] = [];
    for (const { offset, length } of location.extents) {
      if (length > MAX_META_BYTES) throw new MetadataError('HEIF: implausible Exif item size');
      // Method 0: offsets in the file; method 1: offsets in the meta box's idat.
      const part = location.method === 0 ? await readExactly(source, offset, length) : meta.subarray(idat!.body + offset, idat!.body + offset + length);
      if (!part || part.length !== length) throw new MetadataError('HEIF: Exif item beyond the end of the file');
      parts.push(part);
    }
    const item = parts.length === 1 ? parts[0]! : concat(parts);
    exif = exifPayload(item);
  }
  return { format: 'heif', width: size?.[0] || null, height: size?.[1] || null, exif, icc, quarterTurns };
}

/** The Exif item starts with a 4-byte offset to the TIFF header (usually after "Exif\0\0"). */
function exifPayload(item: Uint8Array): Uint8Array | null {
  if (item.length < 12) return null;
  const skip = view(item).getUint32(0);
  const start = 4 + skip;
  const isTiff = (at: number) => ['II*\0', 'MM\0*'].includes(ascii(item, at, at + 4));
  if (start + 8 <= item.length && isTiff(start)) return item.subarray(start);
  // Some writers get the offset wrong: look for the TIFF header near the start.
  for (let at = 4; at < Math.min(item.length - 8, 64); at++) if (isTiff(at)) return item.subarray(at);
  return null;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
