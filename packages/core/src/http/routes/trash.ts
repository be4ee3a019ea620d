import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../route.js';
import { imageSchema, trashedImageSchema } from '../schemas.js';
import { albumId, idList, imageParams, nextCursor, notFound, pageQuery, pageResult, token, type RouteDeps } from './common.js';

/** Deleting images (to the trash), listing the trash, restoring. */
export function trashRoutes(deps: RouteDeps): AnyRoute[] {
  const { config, images, imageSerializer } = deps;
  const limits = config.limits;
  return [
    defineRoute({
      method: 'DELETE',
      path: '/images/:id',
      operationId: 'deleteImage',
      summary: 'Move an image to the trash (`image_delete`)',
      tag: 'Trash',
      auth: 'token',
      params: imageParams,
      responses: { 204: { description: 'In the trash: gone from listings, counts and reads until restored' }, ...token, ...notFound },
      async run({ principal, params }) {
        await images.trashOne(principal, params.id);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/images',
      operationId: 'deleteImages',
      summary: 'Move several images to the trash, all or nothing',
      description: 'Every image must be one the token may delete (`image_delete` on its album); otherwise nothing is deleted and the answer is 401.',
      tag: 'Trash',
      auth: 'token',
      body: z.looseObject({ image_ids: idList(limits.syncIds).describe(`Image ids (\`image_ids[]=…\`), at most ${limits.syncIds}`) }),
      responses: { 200: { description: 'The ids of the trashed images, newest first', schema: z.array(z.string()) }, ...token },
      async run({ principal, body }) {
        const trashed = await images.trash(principal, body.image_ids);
        return { status: 200, json: trashed.map((image) => image.id) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/trashed_images',
      operationId: 'listTrash',
      summary: 'The trash, latest deletion first (a member token, or `trash` on the album)',
      tag: 'Trash',
      auth: 'token',
      query: pageQuery(config).extend({ album_id: albumId.optional().describe('Only this album') }),
      responses: { 200: { description: 'Trashed images', schema: z.array(trashedImageSchema), headers: nextCursor }, ...token },
      async run({ principal, query }) {
        const page = await images.listTrash(principal, query.album_id, query.limit ?? 50, query.cursor);
        return pageResult(page.images, (image) => imageSerializer.serializeTrashed(image), page.next);
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/trashed_images/:id',
      operationId: 'restoreImage',
      summary: 'Restore an image from the trash (a member token, or `trash` on its album)',
      tag: 'Trash',
      auth: 'token',
      params: imageParams,
      responses: { 200: { description: 'The restored image', schema: imageSchema }, ...token, ...notFound },
      async run({ principal, params }) {
        return { status: 200, json: imageSerializer.serialize(await images.restore(principal, params.id)) };
      },
    }),
  ];
}
