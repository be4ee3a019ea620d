/**
 * The one contract between albumkit's core and any HTTP framework: adapters turn their
 * framework's request into a `CoreRequest`, call the handler, and write the `CoreResponse`.
 */

export type HeaderValue = string | string[] | undefined;

export interface CoreRequest {
  method: string;
  /** Path of the request, with or without the mount prefix (`/api/v1/albums` or `/albums`); may carry `?query`. */
  path: string;
  /**
   * The query string (without `?`), or a query the host already parsed. When absent, the query
   * part of `path` is used.
   */
  query?: string | Record<string, unknown>;
  /** Header names in any case. */
  headers: Record<string, HeaderValue>;
  /**
   * The request body exactly as received. Needed for Cloudinary notifications (their signature
   * is computed over these bytes); preferred over `body` whenever an adapter has it.
   */
  rawBody?: Uint8Array | string;
  /** A body the host app already parsed (used only when `rawBody` is not available). */
  body?: unknown;
}

export interface CoreResponse {
  status: number;
  headers: Record<string, string>;
  /** The serialized body (JSON text), or an empty string. */
  body: string;
  /**
   * A body written as it is produced (then `body` is empty and there is no Content-Length):
   * adapters pipe it with backpressure and stop it (`return()`) when the client goes away.
   */
  stream?: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /** The route pattern that answered (`/albums/:id`), for metrics and logs; absent when no route matched. */
  route?: string;
}

export type CoreHandler = (request: CoreRequest) => Promise<CoreResponse>;

/**
 * The routes that live at the host's root, outside the API mount (links shared or put in
 * `<img>` tags): `matches` says whether a request is one of them before anything of it is read,
 * so that an adapter mounted at the root passes every other request on to the host.
 */
export interface PublicHandler extends CoreHandler {
  matches(method: string, path: string): boolean;
  /** Method and path pattern (`/images/:id`) of each public route, for frameworks that register routes one by one. */
  patterns: readonly { method: string; path: string }[];
}
