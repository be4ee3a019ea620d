import { BadRequest } from '../errors.js';

/**
 * Keyset page cursors: the position of the last row of a page (a time and an id), opaque to
 * clients. The image list, the trash and the album list page with them.
 */
export interface Keyset {
  at: Date;
  id: string;
}

export function encodeKeyset(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`).toString('base64url');
}

/** The position a cursor this API returned names; anything else is a 400 on `cursor`. */
export function decodeKeyset(text: string, idPattern: RegExp): Keyset {
  const raw = Buffer.from(text, 'base64url').toString();
  const bar = raw.indexOf('|');
  const at = new Date(raw.slice(0, bar));
  const id = raw.slice(bar + 1);
  if (bar < 0 || Number.isNaN(at.getTime()) || !idPattern.test(id)) throw new BadRequest('cursor: not a cursor this API returned');
  return { at, id };
}
