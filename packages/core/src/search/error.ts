import { BadRequest } from '../errors.js';

/**
 * A search query (`q`) that cannot be run: a 400 naming the reason and the 0-based character
 * position (UTF-16 index) of the part at fault, so that a client can point at it.
 */
export class SearchQueryError extends BadRequest {
  constructor(
    readonly reason: string,
    readonly position: number,
  ) {
    super(`q: ${reason} at position ${position}`, { field: 'q', position, reason });
  }
}
