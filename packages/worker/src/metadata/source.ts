/**
 * Random access to a file's bytes. The container readers ask only for the bytes they need
 * (headers, then the EXIF block), so the same readers serve an in-memory buffer and a remote
 * file fetched by ranges, and both give identical results.
 */
export interface ByteSource {
  /** Up to `length` bytes at `offset`; fewer only at the end of the file. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

export function memorySource(bytes: Uint8Array): ByteSource {
  return {
    read: async (offset, length) => bytes.subarray(Math.min(offset, bytes.length), Math.min(offset + length, bytes.length)),
  };
}

/** Reads exactly `length` bytes or returns null when the file ends first (a truncated file). */
export async function readExactly(source: ByteSource, offset: number, length: number): Promise<Uint8Array | null> {
  const bytes = await source.read(offset, length);
  return bytes.length === length ? bytes : null;
}

export function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function ascii(bytes: Uint8Array, start: number, end: number): string {
  let out = '';
  for (let i = start; i < end && i < bytes.length; i++) out += String.fromCharCode(bytes[i]!);
  return out;
}
