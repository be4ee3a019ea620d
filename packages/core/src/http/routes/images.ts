import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../route.js';
import { imageAccessHeaders } from '../../auth/abilities.js';
import { uploadResultSchema } from '../../domain/upload-result.js';
import { imageSchema, imageSyncSchema } from '../schemas.js';
import { albumParams, idList, imageParams, nextCursor, notFound, pageQuery, token, type RouteDeps } from './common.js';

/** Images: a client's upload, reading, listing, duplicating, syncing. */
export function imageRoutes(deps: RouteDeps): AnyRoute[] {
  const { config, images, imageJson, imageSerializer } = deps;
  const limits = config.limits;
  const paging = pageQuery(config);
  return [
    defineRoute({
      method: 'POST',
      path: '/albums/:id/images',
      operationId: 'createImage',
      summary: 'Record an image the client uploaded to Cloudinary with the album upload form',
      tag: 'Images',
      auth: 'token',
      params: albumParams,
      body: z.looseObject({
        cloudinary: uploadResultSchema.describe('The upload result Cloudinary answered the browser with'),
        metadatas: z.record(z.string(), z.unknown()).nullable().optional().describe('Free-form metadata of the image'),
      }),
      responses: { 200: { description: 'The image (one per upload, whichever of the client and the notification came first)', schema: imageSchema }, ...token },
      async run({ principal, params, input, body }) {
        // The service reads the upload result as posted (its own checks, and its signature is over those values).
        const image = await images.upload(principal, params.id, input.body.cloudinary, body.metadatas);
        return { status: 200, json: imageSerializer.serialize(image) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/albums/:id/images',
      operationId: 'listImages',
      summary: "A page of the album's images, oldest first",
      tag: 'Images',
      auth: 'token',
      params: albumParams,
      query: paging,
      responses: { 200: { description: 'Images', schema: z.array(imageSchema), headers: nextCursor }, ...token },
      async run({ principal, params, query }) {
        const page = await images.list(principal, params.id, query.limit ?? 50, query.cursor);
        return {
          status: 200,
          json: page.images.map((image) => imageSerializer.serialize(image)),
          headers: page.next ? { 'X-Next-Cursor': page.next } : undefined,
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/images/:id',
      operationId: 'getImage',
      summary: 'Retrieve an image',
      tag: 'Images',
      auth: 'token',
      params: imageParams,
      responses: {
        200: { description: 'The image; `X-access-crop/rotate/duplicate` tell what the token may do with it', schema: imageSchema, headers: { 'X-access-crop': '"true" or "false"' } },
        ...token,
        ...notFound,
      },
      async run({ principal, params }) {
        const { body, albumId } = await imageJson.get(principal, params.id);
        return { status: 200, body, headers: imageAccessHeaders(principal, albumId) };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/images/:id/duplicate',
      operationId: 'duplicateImage',
      summary: 'Duplicate an image in its album (same Cloudinary asset, `group_id` = the source)',
      tag: 'Images',
      auth: 'token',
      params: imageParams,
      responses: { 200: { description: 'The copy', schema: imageSchema }, ...token, ...notFound },
      async run({ principal, params }) {
        return { status: 200, json: imageSerializer.serialize(await images.duplicate(principal, params.id)) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/image_syncs',
      operationId: 'imageSyncs',
      summary: 'The sync payloads of images (image JSON with `tag_names` and `user_sfid`)',
      tag: 'Images',
      auth: 'token',
      query: z.looseObject({ ids: idList(limits.syncIds).optional().describe(`Image ids (\`ids[]=…\`), at most ${limits.syncIds}`) }),
      responses: { 200: { description: 'The payloads of the images the token may read, in the order asked', schema: z.array(imageSyncSchema) }, ...token },
      async run({ principal, query }) {
        return { status: 200, body: await imageJson.syncs(principal, query.ids ?? []) };
      },
    }),
  ];
}
