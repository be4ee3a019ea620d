import exifr from 'exifr';

const MAX_TAGS = 300;
const MAX_VALUE_LENGTH = 1024;

/**
 * Cloudinary's `image_metadata`: EXIF tags flattened to strings, written the way ExifTool
 * (which Cloudinary uses) prints them, e.g. `"GPSLatitude": "50 deg 17' 58.57\" N"`.
 * Unreadable metadata yields `{}`, never an error.
 */
export async function readImageMetadata(data: Buffer): Promise<Record<string, string>> {
  let tags: Record<string, unknown> | undefined;
  try {
    tags = (await exifr.parse(data, {
      tiff: true,
      ifd0: {},
      exif: true,
      gps: true,
      ifd1: false,
      interop: false,
      makerNote: false,
      userComment: false,
      xmp: false,
      icc: false,
      iptc: false,
      jfif: false,
      ihdr: false,
      mergeOutput: true,
      translateKeys: true,
      translateValues: true,
      // Keep dates as EXIF writes them ("2018:07:25 16:34:23") instead of Date objects.
      reviveValues: false,
    })) as Record<string, unknown> | undefined;
  } catch {
    return {};
  }
  const out: Record<string, string> = {};
  let count = 0;
  for (const [key, value] of Object.entries(tags ?? {})) {
    if (count >= MAX_TAGS) break;
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(key)) continue;
    const text = renderTag(key, value, tags ?? {});
    if (text === undefined || text === '' || text.length > MAX_VALUE_LENGTH) continue;
    out[key] = text;
    count++;
  }
  return out;
}

const REFS: Record<string, Record<string, string>> = {
  GPSLatitudeRef: { N: 'North', S: 'South' },
  GPSLongitudeRef: { E: 'East', W: 'West' },
};

function renderTag(key: string, value: unknown, all: Record<string, unknown>): string | undefined {
  if ((key === 'GPSLatitude' || key === 'GPSLongitude') && isNumberArray(value) && value.length === 3) {
    const ref = all[`${key}Ref`];
    return `${dms(value)}${typeof ref === 'string' ? ` ${ref.trim().charAt(0).toUpperCase()}` : ''}`;
  }
  if (key === 'GPSTimeStamp' && isNumberArray(value)) {
    return value.map((part, i) => (i === 2 ? trimNumber(part, 3) : String(Math.trunc(part))).padStart(2, '0')).join(':');
  }
  if (key === 'GPSAltitudeRef' && value instanceof Uint8Array) {
    return value[0] === 1 ? 'Below Sea Level' : 'Above Sea Level';
  }
  if (typeof value === 'string') {
    const trimmed = value.replace(/\0+$/, '').trim();
    return REFS[key]?.[trimmed] ?? trimmed;
  }
  if (typeof value === 'number') return Number.isFinite(value) ? trimNumber(value, 10) : undefined;
  if (isNumberArray(value)) return value.map((v) => trimNumber(v, 10)).join(' ');
  if (value instanceof Uint8Array) return renderBytes(value);
  return undefined;
}

/** `[50, 17, 58.57]` → `50 deg 17' 58.57"` */
function dms([deg, min, sec]: number[]): string {
  return `${trimNumber(deg!, 10)} deg ${trimNumber(min!, 10)}' ${trimNumber(sec!, 2)}"`;
}

function trimNumber(value: number, decimals: number): string {
  return String(Number(value.toFixed(decimals)));
}

function isNumberArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'number' && Number.isFinite(v));
}

/** Byte tags: text when printable (after an 8-byte charset header like `ASCII\0\0\0`), else short versions like `2.2.0.0`. */
function renderBytes(bytes: Uint8Array): string | undefined {
  const header = Buffer.from(bytes.subarray(0, 8)).toString('latin1');
  const body = /^(ASCII\0\0\0|UNICODE\0|\0{8})/.test(header) ? bytes.subarray(8) : bytes;
  const text = Buffer.from(body).toString('latin1').replace(/\0+$/, '');
  if (text.length > 0 && /^[\x20-\x7e]+$/.test(text)) return text;
  if (bytes.length <= 8) return Array.from(bytes).join('.');
  return undefined;
}
