import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../route.js';
import { albumAccessHeaders } from '../../auth/abilities.js';
import { serializeAlbumListing } from '../../serializers/album.js';
import { albumListingSchema, albumSchema } from '../schemas.js';
import { albumId, albumJson as albumJsonOf, albumParams, nextCursor, notFound, pageQuery, pageResult, token, type RouteDeps } from './common.js';

/** Albums: create, open (created on first use), upload done. */
export function albumRoutes(deps: RouteDeps): AnyRoute[] {
  const { albums, config, imageSerializer } = deps;
  const albumJson = albumJsonOf(albums, imageSerializer);
  const paging = pageQuery(config);
  return [
    defineRoute({
      method: 'POST',
      path: '/albums',
      operationId: 'createAlbum',
      summary: 'Create an album',
      tag: 'Albums',
      auth: 'token',
      responses: { 200: { description: 'The new album, with its upload form', schema: albumSchema }, ...token },
      async run({ principal }) {
        return { status: 200, json: await albumJson(principal, await albums.create(principal), { fresh: true }) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/albums/:id',
      operationId: 'getAlbum',
      summary: 'Retrieve an album (created on first use by a token that names it)',
      tag: 'Albums',
      auth: 'token',
      params: albumParams,
      responses: {
        200: { description: 'The album; `X-access-*` headers tell what the token may do in it', schema: albumSchema, headers: { 'X-access-image_upload': '"true" or "false", and one such header per ability' } },
        ...token,
        ...notFound,
      },
      async run({ principal, params }) {
        const album = await albums.open(principal, params.id);
        return { status: 200, json: await albumJson(principal, album), headers: albumAccessHeaders(principal, album.id) };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/albums/:id/upload_done',
      operationId: 'uploadDone',
      summary: 'Tell that a batch of uploads is done (the `upload_done` event)',
      tag: 'Albums',
      auth: 'token',
      params: albumParams,
      body: z.looseObject({ platform: z.string().max(64).optional().describe('Client platform, default `web`') }),
      responses: { 200: { description: 'The album', schema: albumSchema }, ...token, ...notFound },
      async run({ principal, params, body }) {
        const album = await albums.uploadDone(principal, params.id, body.platform ?? 'web');
        return { status: 200, json: await albumJson(principal, album) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/albums',
      operationId: 'listAlbums',
      summary: "The organization's albums, newest first (a member: all; another token: those it names)",
      tag: 'Albums',
      auth: 'token',
      query: paging,
      responses: { 200: { description: 'Albums with their latest images', schema: z.array(albumListingSchema), headers: nextCursor }, ...token },
      async run({ principal, query }) {
        const page = await albums.list(principal, query.limit ?? 50, query.cursor);
        const thumbnails = await albums.thumbnails(principal.organizationId, page.albums.map((album) => album.id));
        return pageResult(page.albums, (album) => serializeAlbumListing(album, (thumbnails.get(album.id) ?? []).map((image) => imageSerializer.serialize(image))), page.next);
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/albums/:id',
      operationId: 'renameAlbum',
      summary: 'Rename an album (`rename`), or merge it into an existing one (`merge=true`)',
      description: 'A missing source answers 200 with an empty body, as the API always did; an existing destination without `merge=true` is a 400.',
      tag: 'Albums',
      auth: 'token',
      params: albumParams,
      body: z.looseObject({
        album: z.looseObject({ public_id: albumId.describe('The new id (or the album to merge into)') }),
        merge: z.enum(['true', 'false']).optional().describe('`true`: move the images into the existing destination and remove this album'),
      }),
      responses: { 200: { description: 'The album under its new id (empty when the source does not exist)', schema: albumSchema }, ...token },
      async run({ principal, params, body }) {
        const album = await albums.rename(principal, params.id, body.album.public_id, body.merge === 'true');
        // The upload form follows the rights the token had on the album it renamed (as recorded).
        return album ? { status: 200, json: await albumJson(principal, album, { rightsOf: params.id }) } : { status: 200, body: '' };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/albums/:id/duplicate',
      operationId: 'duplicateAlbum',
      summary: "Copy every live image of an album into another (created when missing), sharing their assets",
      tag: 'Albums',
      auth: 'token',
      params: albumParams,
      body: z.looseObject({
        destination_id: albumId.describe('The album that receives the copies'),
        tags: z.enum(['true', 'false']).optional().describe('`true`: copy the tags too'),
      }),
      responses: { 200: { description: 'The destination album', schema: albumSchema }, ...token, ...notFound },
      async run({ principal, params, body }) {
        const album = await albums.duplicate(principal, params.id, body.destination_id, body.tags === 'true');
        return { status: 200, json: await albumJson(principal, album) };
      },
    }),
  ];
}
