import { ascii, view } from './source.js';

/**
 * ProfileDescription of an ICC profile (its `desc` tag), the one ICC tag Cloudinary's
 * `image_metadata` carries ("sRGB IEC61966-2.1", "Display P3"). Version 2 profiles hold it as
 * `desc` (textDescriptionType, ASCII), version 4 as `mluc` (UTF-16BE records; the first one is
 * taken, as ExifTool does). Anything malformed gives undefined, never an error.
 */
export function iccDescription(profile: Uint8Array | null): string | undefined {
  if (!profile || profile.length < 132 || ascii(profile, 36, 40) !== 'acsp') return undefined;
  const dv = view(profile);
  const count = dv.getUint32(128);
  if (count > 1000 || 132 + count * 12 > profile.length) return undefined;
  for (let i = 0; i < count; i++) {
    const at = 132 + i * 12;
    if (ascii(profile, at, at + 4) !== 'desc') continue;
    const offset = dv.getUint32(at + 4);
    const size = dv.getUint32(at + 8);
    if (offset + size > profile.length || size < 12) return undefined;
    const type = ascii(profile, offset, offset + 4);
    if (type === 'desc') {
      const length = dv.getUint32(offset + 8);
      if (offset + 12 + length > profile.length) return undefined;
      return clean(Buffer.from(profile.subarray(offset + 12, offset + 12 + length)).toString('latin1'));
    }
    if (type === 'mluc') {
      const records = dv.getUint32(offset + 8);
      if (records < 1 || offset + 28 > profile.length) return undefined;
      const length = dv.getUint32(offset + 20);
      const start = offset + dv.getUint32(offset + 24);
      if (start + length > profile.length) return undefined;
      const bytes = Buffer.from(profile.subarray(start, start + length - (length % 2)));
      return clean(bytes.swap16().toString('utf16le'));
    }
    return undefined;
  }
  return undefined;
}

function clean(text: string): string | undefined {
  const trimmed = text.replace(/\0.*$/s, '').trim();
  return trimmed === '' ? undefined : trimmed;
}
