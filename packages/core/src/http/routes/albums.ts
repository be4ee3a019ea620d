import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../route.js';
import { albumAccessHeaders } from '../../auth/abilities.js';
import { albumSchema } from '../schemas.js';
import { albumJson as albumJsonOf, albumParams, notFound, token, type RouteDeps } from './common.js';

/** Albums: create, open (created on first use), upload done. */
export function albumRoutes(deps: RouteDeps): AnyRoute[] {
  const { albums } = deps;
  const albumJson = albumJsonOf(albums);
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
        return { status: 200, json: await albumJson(principal, await albums.create(principal)) };
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
  ];
}
