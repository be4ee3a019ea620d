import { inflateSync } from 'node:zlib';
import type { ContainerFacts } from './container.js';
import { isByteLimit, MetadataError } from './errors.js';
import { ascii, readExactly, view, type ByteSource } from './source.js';

/**
 * IHDR gives the size; the EXIF is the eXIf chunk, which writers put before or after the image
 * data (the fixture has it after IDAT), so the chunk headers are walked to IEND. Remotely the
 * walk may stop at the byte budget: the size is kept, the EXIF is then unknown.
 */
export async function readPng(source: ByteSource): Promise<ContainerFacts> {
  const ihdr = await readExactly(source, 8, 8 + 13);
  if (!ihdr || ascii(ihdr, 4, 8) !== 'IHDR') throw new MetadataError('PNG: missing IHDR');
  const facts: ContainerFacts = { format: 'png', width: view(ihdr).getUint32(8) || null, height: view(ihdr).getUint32(12) || null, exif: null };

  let pos = 8 + 8 + 13 + 4;
  try {
    for (let chunks = 0; chunks < 1_000_000; chunks++) {
      const header = await readExactly(source, pos, 8);
      if (!header) break; // truncated after IHDR: the size is still right
      const length = view(header).getUint32(0);
      const type = ascii(header, 4, 8);
      if (type === 'IEND') break;
      if (type === 'iCCP' && length <= MAX_ICCP_BYTES) {
        const data = await readExactly(source, pos + 8, length);
        if (data) facts.icc = inflateProfile(data);
      }
      if (type === 'eXIf') {
        const data = await readExactly(source, pos + 8, length);
        if (data) facts.exif = ascii(data, 0, 6) === 'Exif\0\0' ? data.subarray(6) : data; // some writers keep the JPEG prefix
        break;
      }
      pos += 12 + length;
    }
  } catch (error) {
    if (!isByteLimit(error)) throw error;
  }
  return facts;
}

const MAX_ICCP_BYTES = 4 * 1024 * 1024;

/** iCCP: profile name, NUL, compression method 0, then the zlib-compressed profile. */
function inflateProfile(data: Uint8Array): Uint8Array | null {
  const nul = data.indexOf(0);
  if (nul < 1 || nul > 79 || data[nul + 1] !== 0) return null;
  try {
    return new Uint8Array(inflateSync(data.subarray(nul + 2), { maxOutputLength: 16 * 1024 * 1024 }));
  } catch {
    return null; // a damaged profile: no description, the rest stands
  }
}
