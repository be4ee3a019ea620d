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
