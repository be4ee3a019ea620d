import exifr from 'exifr';

/**
 * exifr reads the EXIF block (a TIFF structure the container reader found). Values stay raw:
 * `reviveValues: false` keeps dates as the file's strings (exifr would turn them into Dates in
 * the server's time zone) and `translateValues: false` keeps numbers (Orientation 6), which
 * `exiftool-print.ts` then prints as ExifTool does ("Rotate 90 CW"): exifr's own translations
 * are not ExifTool's ("Normal program" for "Program AE"). IFD1 (the thumbnail), MakerNote, XMP,
 * ICC and IPTC are not read here.
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
