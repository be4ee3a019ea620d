import exifr from 'exifr';
import type { ExifValue } from './types.js';

/**
 * exifr reads the EXIF block (a TIFF structure the container reader found). Values stay raw:
 * `reviveValues: false` keeps dates as the file's strings (exifr would turn them into Dates in
 * the server's time zone) and `translateValues: false` keeps numbers (Orientation 6, not
 * "Rotate 90 CW"). IFD1 (the thumbnail), MakerNote, XMP, ICC and IPTC are not read.
 */
const EXIFR_OPTIONS = {
  tiff: true,
  ifd0: {},
  exif: true,
  gps: true,
  interop: true, // exifr reads the Interop IFD with the Exif IFD anyway; say so
  ifd1: false,
  makerNote: false,
  userComment: true,
  xmp: false,
  icc: false,
  iptc: false,
  jfif: false,
  ihdr: false,
  translateKeys: true,
  translateValues: false,
  reviveValues: false,
  sanitize: true,
  mergeOutput: true,
};

/** Raw tags, or an empty map when exifr finds nothing or the block is damaged. */
export async function parseExifBlock(block: Uint8Array | null): Promise<Record<string, unknown>> {
  if (!block) return {};
  try {
    // A copy: exifr builds views on the buffer and must not see the bytes around a subarray.
    const tags = (await exifr.parse(block.slice(), EXIFR_OPTIONS)) as Record<string, unknown> | undefined;
    return tags ?? {};
  } catch {
    // A damaged EXIF block in an otherwise readable image: the image keeps its size, without tags.
    return {};
  }
}

/** Any tag whose JSON form exceeds this is dropped (thumbnails, long binary notes, big arrays). */
const MAX_VALUE_CHARS = 1024;
/** exifr adds these computed keys; they are not tags (GPS is computed from the raw tags instead). */
const COMPUTED = new Set(['latitude', 'longitude']);
/** UNDEFINED-type tags that start with an 8-byte character-code prefix. */
const CHARSET_PREFIXED = new Set(['UserComment', 'GPSProcessingMethod', 'GPSAreaInformation']);

/** A JSON-safe flat tag map for the `exifs` JSON column. */
export function jsonSafeTags(tags: Record<string, unknown>): Record<string, ExifValue> {
  const out: Record<string, ExifValue> = {};
  for (const [name, raw] of Object.entries(tags)) {
    if (COMPUTED.has(name)) continue;
    // exifr puts UserComment (when asked for) under a lower-case key, outside the tag names.
    const key = name === 'userComment' ? 'UserComment' : name;
    const value = CHARSET_PREFIXED.has(key) && raw instanceof Uint8Array ? decodePrefixedText(raw) : jsonSafe(raw);
    if (value === undefined) continue;
    if (JSON.stringify(value).length > MAX_VALUE_CHARS) continue;
    out[key] = value;
  }
  return out;
}

/**
 * 0/0 rationals come out of exifr as NaN and n/0 as Infinity, which JSON cannot hold: they are
 * written as ExifTool writes them ("undef", "inf").
 */
function number(n: number): number | string {
  if (Number.isNaN(n)) return 'undef';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  return n;
}

function jsonSafe(value: unknown): ExifValue | undefined {
  if (typeof value === 'string') return value.replace(/[\0\s]+$/, '');
  if (typeof value === 'number') return number(value);
  if (typeof value === 'boolean') return value;
  if (value instanceof Uint8Array) return bytes(value);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    // Uint16Array/Uint32Array... (exifr's arrays of SHORT/LONG values).
    const list = Array.from(value as unknown as ArrayLike<number | bigint>, (n) => number(Number(n)));
    return list.length === 1 ? list[0]! : list;
  }
  if (Array.isArray(value)) {
    const list: Array<string | number> = [];
    for (const item of value) {
      if (typeof item === 'number') list.push(number(item));
      else if (typeof item === 'string') list.push(item);
      else return undefined; // nested structures are not flat tags
    }
    return list;
  }
  return undefined; // objects, dates, null: not produced with these options; not kept
}

/**
 * UNDEFINED-type bytes: printable ASCII (ExifVersion "0232") becomes a string, a single byte
 * (SceneType, GPSAltitudeRef) a number, anything else an array of numbers (GPSVersionID).
 */
function bytes(value: Uint8Array): ExifValue | undefined {
  if (value.length === 0) return null;
  if (value.length === 1) return value[0]!;
  let end = value.length;
  while (end > 0 && value[end - 1] === 0) end--;
  const text = value.subarray(0, end);
  if (text.length > 0 && text.every((b) => b >= 0x20 && b <= 0x7e)) return Buffer.from(text).toString('latin1');
  if (value.length > MAX_VALUE_CHARS) return undefined;
  return Array.from(value);
}

/** UserComment-style text: "ASCII\0\0\0", "UNICODE\0" (UTF-16) or 8 zero bytes (undefined) then the text. */
function decodePrefixedText(value: Uint8Array): ExifValue | undefined {
  if (value.length < 8) return bytes(value);
  const prefix = Buffer.from(value.subarray(0, 8)).toString('latin1').replace(/\0+$/, '');
  const body = Buffer.from(value.subarray(8));
  let text: string;
  if (prefix === 'UNICODE') {
    // Byte order is the TIFF file's, which is not known here: a BOM decides, else where the zero bytes are.
    const bigEndian = body[0] === 0xfe && body[1] === 0xff ? true : body[0] === 0xff && body[1] === 0xfe ? false : body[0] === 0 && body[1] !== 0;
    const even = Buffer.from(body.subarray(0, body.length - (body.length % 2))); // a copy: swap16 works in place
    text = (bigEndian ? even.swap16() : even).toString('utf16le');
  } else if (prefix === 'ASCII' || prefix === '') {
    text = body.toString('utf8');
  } else {
    return undefined; // JIS: not decoded
  }
  text = text.replace(/^\uFEFF/, '').replace(/[\0\s]+$/, '');
  return text === '' ? undefined : text; // cameras fill UserComment with zeros or spaces: no comment
}
