import exifr from 'exifr';
import { openImage } from './analysis.js';

/**
 * Cloudinary's `image_metadata`, as the upload API returns it with `image_metadata: 1`: a flat
 * map of ExifTool's printed values, every one a string (Cloudinary runs ExifTool). What real
 * uploads show (the API's recorded image JSON, and Cloudinary's own documented samples):
 * - JFIF (JFIFVersion "1.01", ResolutionUnit "None"/"inches"/"cm", XResolution, YResolution);
 * - EXIF IFD0, ExifIFD, GPS and Interop tags with ExifTool's print conversions
 *   ("Orientation": "Horizontal (normal)", "ExposureTime": "1/1366", "FocalLength": "4.2 mm",
 *   "Flash": "Off, Did not fire", "LensInfo": "1.549999952-4.2mm f/1.6-2.4",
 *   "GPSLatitude": "50 deg 17' 58.57\"", "GPSLatitudeRef": "North"); an EXIF tag replaces the
 *   JFIF one of the same name; no composite tags, no File group, no MakerNotes, no thumbnail;
 * - the ICC profile's ProfileDescription ("Display P3");
 * - on JPEG, Cloudinary's own "Colorspace" ("RGB", "GRAY", "CMYK") and "DPI" ("72"; "0" when
 *   the resolution unit is None).
 * Not reproduced: IPTC and XMP, which Cloudinary documents but no sample shows. Empty values and
 * values over 1 KB are left out. Unreadable metadata yields `{}`, never an error.
 *
 * Reading is exifr's own, on the whole file (JPEG, PNG, TIFF, HEIC/AVIF), and sharp's for the
 * JPEG colour space, independently of the worker's container readers; the printing rules are
 * ExifTool 12.57's, kept in step with packages/worker/src/metadata/exiftool-print.ts
 * (test/e2e/metadata-paths.test.ts checks that both give the same map for every fixture).
 */
export async function readImageMetadata(data: Buffer): Promise<Record<string, string>> {
  let tags: Record<string, Record<string, unknown> | undefined> | undefined;
  try {
    tags = (await exifr.parse(data, {
      tiff: true,
      ifd0: {},
      exif: true,
      gps: true,
      interop: true,
      ifd1: false,
      makerNote: false,
      userComment: true,
      xmp: false,
      icc: true,
      iptc: false,
      jfif: true,
      ihdr: false,
      mergeOutput: false,
      translateKeys: true,
      // Raw values: ExifTool's print conversions below, not exifr's ("Normal program" is not "Program AE").
      translateValues: false,
      // Keep dates as EXIF writes them ("2018:07:25 16:34:23") instead of Date objects.
      reviveValues: false,
    })) as Record<string, Record<string, unknown> | undefined> | undefined;
  } catch {
    tags = undefined;
  }
  const out = new Map<string, string>();
  const put = (key: string, value: string) => {
    out.delete(key); // the later segment wins and takes its place, as in ExifTool's output
    out.set(key, value);
  };
  const jfif = tags?.jfif;
  if (jfif && typeof jfif.JFIFVersion === 'number') {
    put('JFIFVersion', `${jfif.JFIFVersion >> 8}.${String(jfif.JFIFVersion & 0xff).padStart(2, '0')}`);
    put('ResolutionUnit', JFIF_UNITS[Number(jfif.ResolutionUnit)] ?? `Unknown (${String(jfif.ResolutionUnit)})`);
    put('XResolution', String(jfif.XResolution));
    put('YResolution', String(jfif.YResolution));
  }
  for (const block of ['ifd0', 'exif', 'gps', 'interop'] as const) {
    for (const [key, value] of Object.entries(printTags(tags?.[block] ?? {}))) put(key, value);
  }
  const description = tags?.icc?.ProfileDescription;
  if (typeof description === 'string' && description.trim() !== '') put('ProfileDescription', description.trim());
  if (isJpeg(data)) {
    const meta = await openImage(data).metadata().catch(() => undefined);
    if (meta) put('Colorspace', meta.space === 'b-w' ? 'GRAY' : meta.space === 'cmyk' ? 'CMYK' : 'RGB');
    const x = Number(out.get('XResolution'));
    const unit = out.get('ResolutionUnit');
    if (out.has('XResolution') && Number.isFinite(x)) put('DPI', unit === 'inches' ? String(Math.round(x)) : unit === 'cm' ? String(Math.round(x * 2.54)) : '0');
  }
  return Object.fromEntries(out);
}

const JFIF_UNITS: Record<number, string> = { 0: 'None', 1: 'inches', 2: 'cm' };

function isJpeg(data: Buffer): boolean {
  return data.length > 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff;
}

// ExifTool's print conversions (lib/Image/ExifTool/Exif.pm and GPS.pm, version 12.57).

type Table = Record<string, string>;

const RESOLUTION_UNIT: Table = { 1: 'None', 2: 'inches', 3: 'cm' };
const NORMAL_LOW_HIGH: Table = { 0: 'Normal', 1: 'Low', 2: 'High' };
const NORTH: Table = { M: 'Magnetic North', T: 'True North' };

/** ExifTool's PrintConv hashes (Exif::Main and GPS::Main), by tag name. */
const TABLES: Record<string, Table> = {
  Orientation: {
    1: 'Horizontal (normal)',
    2: 'Mirror horizontal',
    3: 'Rotate 180',
    4: 'Mirror vertical',
    5: 'Mirror horizontal and rotate 270 CW',
    6: 'Rotate 90 CW',
    7: 'Mirror horizontal and rotate 90 CW',
    8: 'Rotate 270 CW',
  },
  ResolutionUnit: RESOLUTION_UNIT,
  FocalPlaneResolutionUnit: { 1: 'None', 2: 'inches', 3: 'cm', 4: 'mm', 5: 'um' },
  YCbCrPositioning: { 1: 'Centered', 2: 'Co-sited' },
  YCbCrSubSampling: {
    '1 1': 'YCbCr4:4:4 (1 1)',
    '1 2': 'YCbCr4:4:0 (1 2)',
    '1 4': 'YCbCr4:4:1 (1 4)',
    '2 1': 'YCbCr4:2:2 (2 1)',
    '2 2': 'YCbCr4:2:0 (2 2)',
    '2 4': 'YCbCr4:2:1 (2 4)',
    '4 1': 'YCbCr4:1:1 (4 1)',
    '4 2': 'YCbCr4:1:0 (4 2)',
  },
  Compression: {
    1: 'Uncompressed', 2: 'CCITT 1D', 3: 'T4/Group 3 Fax', 4: 'T6/Group 4 Fax', 5: 'LZW', 6: 'JPEG (old-style)', 7: 'JPEG',
    8: 'Adobe Deflate', 9: 'JBIG B&W', 10: 'JBIG Color', 99: 'JPEG', 32773: 'PackBits', 32946: 'Deflate', 34712: 'JPEG 2000',
    34892: 'Lossy JPEG', 34925: 'LZMA2', 34926: 'Zstd', 34927: 'WebP', 34933: 'PNG', 34934: 'JPEG XR',
  },
  PhotometricInterpretation: {
    0: 'WhiteIsZero', 1: 'BlackIsZero', 2: 'RGB', 3: 'RGB Palette', 4: 'Transparency Mask', 5: 'CMYK', 6: 'YCbCr', 8: 'CIELab',
    9: 'ICCLab', 10: 'ITULab', 32803: 'Color Filter Array', 34892: 'Linear Raw',
  },
  PlanarConfiguration: { 1: 'Chunky', 2: 'Planar' },
  SampleFormat: { 1: 'Unsigned', 2: 'Signed', 3: 'Float', 4: 'Undefined', 5: 'Complex int', 6: 'Complex float' },
  ExtraSamples: { 0: 'Unspecified', 1: 'Associated Alpha', 2: 'Unassociated Alpha' },
  Predictor: { 1: 'None', 2: 'Horizontal differencing', 3: 'Floating point' },
  FillOrder: { 1: 'Normal', 2: 'Reversed' },
  Thresholding: { 1: 'No dithering or halftoning', 2: 'Ordered dither or halftone', 3: 'Randomized dither' },
  ExposureProgram: {
    0: 'Not Defined', 1: 'Manual', 2: 'Program AE', 3: 'Aperture-priority AE', 4: 'Shutter speed priority AE',
    5: 'Creative (Slow speed)', 6: 'Action (High speed)', 7: 'Portrait', 8: 'Landscape', 9: 'Bulb',
  },
  SensitivityType: {
    0: 'Unknown', 1: 'Standard Output Sensitivity', 2: 'Recommended Exposure Index', 3: 'ISO Speed',
    4: 'Standard Output Sensitivity and Recommended Exposure Index', 5: 'Standard Output Sensitivity and ISO Speed',
    6: 'Recommended Exposure Index and ISO Speed', 7: 'Standard Output Sensitivity, Recommended Exposure Index and ISO Speed',
  },
  MeteringMode: { 0: 'Unknown', 1: 'Average', 2: 'Center-weighted average', 3: 'Spot', 4: 'Multi-spot', 5: 'Multi-segment', 6: 'Partial', 255: 'Other' },
  LightSource: {
    0: 'Unknown', 1: 'Daylight', 2: 'Fluorescent', 3: 'Tungsten (Incandescent)', 4: 'Flash', 9: 'Fine Weather', 10: 'Cloudy',
    11: 'Shade', 12: 'Daylight Fluorescent', 13: 'Day White Fluorescent', 14: 'Cool White Fluorescent', 15: 'White Fluorescent',
    16: 'Warm White Fluorescent', 17: 'Standard Light A', 18: 'Standard Light B', 19: 'Standard Light C', 20: 'D55', 21: 'D65',
    22: 'D75', 23: 'D50', 24: 'ISO Studio Tungsten', 255: 'Other',
  },
  Flash: {
    0: 'No Flash', 1: 'Fired', 5: 'Fired, Return not detected', 7: 'Fired, Return detected', 8: 'On, Did not fire', 9: 'On, Fired',
    13: 'On, Return not detected', 15: 'On, Return detected', 16: 'Off, Did not fire', 20: 'Off, Did not fire, Return not detected',
    24: 'Auto, Did not fire', 25: 'Auto, Fired', 29: 'Auto, Fired, Return not detected', 31: 'Auto, Fired, Return detected',
    32: 'No flash function', 48: 'Off, No flash function', 65: 'Fired, Red-eye reduction',
    69: 'Fired, Red-eye reduction, Return not detected', 71: 'Fired, Red-eye reduction, Return detected',
    73: 'On, Red-eye reduction', 77: 'On, Red-eye reduction, Return not detected', 79: 'On, Red-eye reduction, Return detected',
    80: 'Off, Red-eye reduction', 88: 'Auto, Did not fire, Red-eye reduction', 89: 'Auto, Fired, Red-eye reduction',
    93: 'Auto, Fired, Red-eye reduction, Return not detected', 95: 'Auto, Fired, Red-eye reduction, Return detected',
  },
  ColorSpace: { 1: 'sRGB', 2: 'Adobe RGB', 65533: 'Wide Gamut RGB', 65534: 'ICC Profile', 65535: 'Uncalibrated' },
  SensingMethod: {
    1: 'Monochrome area', 2: 'One-chip color area', 3: 'Two-chip color area', 4: 'Three-chip color area',
    5: 'Color sequential area', 6: 'Monochrome linear', 7: 'Trilinear', 8: 'Color sequential linear',
  },
  FileSource: { 1: 'Film Scanner', 2: 'Reflection Print Scanner', 3: 'Digital Camera' },
  SceneType: { 1: 'Directly photographed' },
  CustomRendered: {
    0: 'Normal', 1: 'Custom', 2: 'HDR (no original saved)', 3: 'HDR (original saved)', 4: 'Original (for HDR)', 6: 'Panorama',
    7: 'Portrait HDR', 8: 'Portrait',
  },
  ExposureMode: { 0: 'Auto', 1: 'Manual', 2: 'Auto bracket' },
  WhiteBalance: { 0: 'Auto', 1: 'Manual' },
  SceneCaptureType: { 0: 'Standard', 1: 'Landscape', 2: 'Portrait', 3: 'Night', 4: 'Other' },
  GainControl: { 0: 'None', 1: 'Low gain up', 2: 'High gain up', 3: 'Low gain down', 4: 'High gain down' },
  Contrast: NORMAL_LOW_HIGH,
  Saturation: NORMAL_LOW_HIGH,
  Sharpness: { 0: 'Normal', 1: 'Soft', 2: 'Hard' },
  SubjectDistanceRange: { 0: 'Unknown', 1: 'Macro', 2: 'Close', 3: 'Distant' },
  CompositeImage: { 0: 'Unknown', 1: 'Not a Composite Image', 2: 'General Composite Image', 3: 'Composite Image Captured While Shooting' },
  InteropIndex: { R03: 'R03 - DCF option file (Adobe RGB)', R98: 'R98 - DCF basic file (sRGB)', THM: 'THM - DCF thumbnail file' },
  GPSLatitudeRef: { N: 'North', S: 'South' },
  GPSLongitudeRef: { E: 'East', W: 'West' },
  GPSDestLatitudeRef: { N: 'North', S: 'South' },
  GPSDestLongitudeRef: { E: 'East', W: 'West' },
  GPSAltitudeRef: { 0: 'Above Sea Level', 1: 'Below Sea Level' },
  GPSStatus: { A: 'Measurement Active', V: 'Measurement Void' },
  GPSMeasureMode: { 2: '2-Dimensional Measurement', 3: '3-Dimensional Measurement' },
  GPSSpeedRef: { K: 'km/h', M: 'mph', N: 'knots' },
  GPSTrackRef: NORTH,
  GPSImgDirectionRef: NORTH,
  GPSDestBearingRef: NORTH,
  GPSDestDistanceRef: { K: 'Kilometers', M: 'Miles', N: 'Nautical Miles' },
  GPSDifferential: { 0: 'No Correction', 1: 'Differential Corrected' },
};

const COMPONENTS = ['-', 'Y', 'Cb', 'Cr', 'R', 'G', 'B'];
/** Tags that are text after an 8-byte character-code prefix ("ASCII\0\0\0", "UNICODE\0"). */
const CHARSET_PREFIXED = new Set(['UserComment', 'GPSProcessingMethod', 'GPSAreaInformation']);
/** Windows Explorer's UCS-2 tags. */
const WINDOWS_XP = new Set(['XPTitle', 'XPComment', 'XPAuthor', 'XPKeywords', 'XPSubject']);
/** exifr's computed keys, not tags. */
const COMPUTED = new Set(['latitude', 'longitude']);
/** A printed value longer than this is dropped (strip tables, long binary notes): Cloudinary-sized values only. */
const MAX_PRINTED_LENGTH = 1024;

/** Perl's `sprintf("%.10g")`, which ExifTool uses for rationals (RoundFloat(n/d, 10)). */
function g10(n: number): string {
  if (Number.isNaN(n)) return 'undef';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (n === 0) return '0';
  const exponent = Math.floor(Math.log10(Math.abs(n)));
  if (exponent < -4 || exponent >= 10) {
    const [mantissa, exp] = n.toExponential(9).split('e') as [string, string];
    const trimmed = mantissa.replace(/\.?0+$/, '');
    const e = Number(exp);
    return `${trimmed}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return String(Number(n.toPrecision(10)));
}

function numbers(value: unknown): number[] | null {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView))) {
    const list = Array.from(value as ArrayLike<unknown>, (v) => (typeof v === 'bigint' ? Number(v) : v));
    return list.every((v) => typeof v === 'number') ? (list as number[]) : null;
  }
  return null;
}

/** ExifTool's PrintExposureTime. */
function exposureTime(secs: number): string {
  if (!Number.isFinite(secs)) return g10(secs);
  if (secs < 0.25001 && secs > 0) return `1/${Math.trunc(0.5 + 1 / secs)}`;
  return secs.toFixed(1).replace(/\.0$/, '');
}

/** ExifTool's PrintFNumber. */
function fNumber(value: number): string {
  if (!Number.isFinite(value) || value <= 0) return g10(value);
  return value < 1 ? value.toFixed(2) : value.toFixed(1);
}

/** ExifTool's PrintFraction (exposure compensation). */
function fraction(input: number): string {
  if (!Number.isFinite(input)) return g10(input);
  const val = input * 1.00001;
  const sign = (n: number) => (n >= 0 ? `+${n}` : String(n));
  if (!val) return '0';
  if (Math.trunc(val) / val > 0.999) return sign(Math.trunc(val));
  if (Math.trunc(val * 2) / (val * 2) > 0.999) return `${sign(Math.trunc(val * 2))}/2`;
  if (Math.trunc(val * 3) / (val * 3) > 0.999) return `${sign(Math.trunc(val * 3))}/3`;
  const g = Number(val.toPrecision(3));
  return g >= 0 ? `+${g}` : String(g);
}

/** ExifTool's PrintLensInfo: "18-55mm f/3.5-5.6", "3.99mm f/1.8", unknown apertures as "?". */
function lensInfo(values: number[]): string {
  const parts = values.map(g10);
  if (parts.length !== 4) return parts.join(' ');
  const shown = parts.map((p) => (p === 'inf' || p === 'undef' ? '?' : p));
  const [minFocal, maxFocal, minF, maxF] = shown as [string, string, string, string];
  let out = minFocal;
  if (maxFocal !== '0' && maxFocal !== minFocal) out += `-${maxFocal}`;
  out += `mm f/${minF}`;
  if (maxF !== '0' && maxF !== minF) out += `-${maxF}`;
  return out;
}

/** ExifTool's ToDMS with its default CoordFormat, `%d deg %d' %.2f"` (the GPS group's own tag: no N/S). */
function dms(parts: number[]): string {
  const [d0 = 0, m0 = 0, s0 = 0] = parts;
  const value = Math.abs(d0 + (m0 + s0 / 60) / 60);
  let degrees = Math.trunc(value);
  let minutes = Math.trunc((value - degrees) * 60);
  let seconds = ((value - degrees - minutes / 60) * 3600).toFixed(2);
  if (Number(seconds) >= 60) {
    seconds = (Number(seconds) - 60).toFixed(2);
    minutes += 1;
    if (minutes >= 60) {
      minutes -= 60;
      degrees += 1;
    }
  }
  return `${degrees} deg ${minutes}' ${seconds}"`;
}

/** ExifTool's ConvertTimeStamp + PrintTimeStamp: "14:34:23", "05:53:57.5". */
function timeStamp(parts: number[]): string {
  const [h0 = 0, m0 = 0, s0 = 0] = parts;
  let f = (h0 * 60 + m0) * 60 + s0;
  let h = Math.trunc(f / 3600);
  f -= h * 3600;
  let m = Math.trunc(f / 60);
  f -= m * 60;
  let ss = f.toFixed(9).padStart(12, '0');
  if (Number(ss) >= 60) {
    ss = '00';
    if (++m >= 60) {
      m -= 60;
      h++;
    }
  } else ss = ss.replace(/\.?0+$/, '');
  if (ss.includes('.')) {
    // PrintTimeStamp: rounded to the microsecond
    const s = Math.trunc(Number(ss) * 1_000_000 + 0.5) / 1_000_000;
    ss = s < 10 ? `0${s}` : String(s);
  }
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${ss}`;
}

function text(bytes: Uint8Array): string | undefined {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  const body = bytes.subarray(0, end);
  if (body.length > 0 && body.every((b) => b >= 0x20 && b <= 0x7e)) return Buffer.from(body).toString('latin1');
  return undefined;
}

/** UserComment-style text: "ASCII\0\0\0", "UNICODE\0" (UTF-16) or 8 zero bytes, then the text. */
function prefixedText(value: Uint8Array): string | undefined {
  if (value.length < 8) return text(value);
  const prefix = Buffer.from(value.subarray(0, 8)).toString('latin1').replace(/\0+$/, '');
  const body = Buffer.from(value.subarray(8));
  if (prefix === 'UNICODE') {
    // The TIFF byte order is not known here: a BOM decides, else where the zero bytes are.
    const bigEndian = body[0] === 0xfe && body[1] === 0xff ? true : body[0] === 0xff && body[1] === 0xfe ? false : body[0] === 0 && body[1] !== 0;
    const even = Buffer.from(body.subarray(0, body.length - (body.length % 2))); // a copy: swap16 works in place
    return (bigEndian ? even.swap16() : even).toString('utf16le').replace(/^\uFEFF/, '');
  }
  if (prefix === 'ASCII' || prefix === '') return body.toString('utf8');
  return undefined; // JIS: not decoded
}

function lookup(table: Table, key: string): string {
  return table[key] ?? `Unknown (${key})`;
}

/** One tag printed as ExifTool prints it; undefined when it has no printable value. */
function printTag(name: string, value: unknown): string | undefined {
  if (CHARSET_PREFIXED.has(name) && value instanceof Uint8Array) return prefixedText(value);
  if (WINDOWS_XP.has(name) && value instanceof Uint8Array) return Buffer.from(value.subarray(0, value.length - (value.length % 2))).toString('utf16le');
  if (name === 'GPSVersionID' && value instanceof Uint8Array) return Array.from(value).join('.');
  if (name === 'ComponentsConfiguration' && value instanceof Uint8Array) return Array.from(value, (b) => COMPONENTS[b] ?? `Unknown (${b})`).join(', ');
  if (typeof value === 'string') {
    const trimmed = value.replace(/[\0\s]+$/, '');
    const table = TABLES[name];
    if (table) return lookup(table, trimmed.trim());
    if (name === 'GPSDateStamp') return trimmed.replace(/(\d{4})[^\d]*(\d{2})[^\d]*(\d{2})$/, '$1:$2:$3');
    return trimmed;
  }
  if (value instanceof Uint8Array) {
    const asText = text(value);
    if (value.length === 1) return printTag(name, value[0]);
    if (asText !== undefined) return asText;
    return value.length <= 64 ? Array.from(value).join(' ') : undefined;
  }
  const list = numbers(value);
  if (!list || list.length === 0) return undefined;
  const first = list[0]!;
  switch (name) {
    case 'ExposureTime':
      return exposureTime(first);
    case 'ShutterSpeedValue':
      return exposureTime(Number.isFinite(first) && Math.abs(first) < 100 ? 2 ** -first : 0);
    case 'ApertureValue':
    case 'MaxApertureValue':
      return Number.isFinite(first) ? (2 ** (first / 2)).toFixed(1) : g10(first);
    case 'FNumber':
      return fNumber(first);
    case 'FocalLength':
      return Number.isFinite(first) ? `${first.toFixed(1)} mm` : g10(first);
    case 'FocalLengthIn35mmFormat':
      return `${g10(first)} mm`;
    case 'SubjectDistance':
    case 'GPSAltitude': {
      const v = g10(first);
      return v === 'inf' || v === 'undef' ? v : `${v} m`;
    }
    case 'GPSHPositioningError':
      return `${g10(first)} m`;
    case 'ExposureCompensation':
      return fraction(first);
    case 'LensInfo':
      return lensInfo(list);
    case 'ISO':
      return list.map(g10).join(', ');
    case 'GPSLatitude':
    case 'GPSLongitude':
    case 'GPSDestLatitude':
    case 'GPSDestLongitude':
      return dms(list);
    case 'GPSTimeStamp':
      return timeStamp(list);
  }
  const table = TABLES[name];
  if (table) {
    const joined = list.map(g10).join(' ');
    if (table[joined] !== undefined) return table[joined];
    return list.map((n) => lookup(table, g10(n))).join(' ');
  }
  return list.map(g10).join(' ');
}

/**
 * Every tag of exifr's merged output, printed; keys that are not tag names (exifr's computed
 * latitude/longitude, numeric ids of unknown tags), empty values and values over 1 KB are left out.
 */
function printTags(tags: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [raw, value] of Object.entries(tags)) {
    if (COMPUTED.has(raw)) continue;
    // exifr puts UserComment (when asked for) under a lower-case key, outside the tag names.
    const name = raw === 'userComment' ? 'UserComment' : raw;
    if (!/^[A-Z][A-Za-z0-9]*$/.test(name)) continue;
    const printed = printTag(name, value)?.replace(/[\0\s]+$/, '');
    if (printed === undefined || printed === '' || printed.length > MAX_PRINTED_LENGTH) continue;
    out[name] = printed;
  }
  return out;
}
