import { z } from 'zod';
import { formatTime } from '../../serializers/image.js';
import { serializeClipboard } from '../../services/clipboards.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { clipboardSchema, imageSchema } from '../schemas.js';
import { albumId, idList, notFound, token, type RouteDeps } from './common.js';

/** Copy and paste of images between albums. */
export function clipboardRoutes(deps: RouteDeps): AnyRoute[] {
  const { config, clipboards, imageSerializer } = deps;
  return [
    defineRoute({
      method: 'POST',
      path: '/clipboards',
      operationId: 'createClipboard',
      summary: 'Copy images to a clipboard (`image_copy` on their albums)',
      tag: 'Clipboards',
      auth: 'token',
      body: z.looseObject({
        id: z.string().max(64).describe('The clipboard id, a UUID chosen by the client'),
        image_ids: idList(config.limits.syncIds).describe('The images copied (`image_ids[]=…`)'),
      }),
      responses: { 200: { description: 'The clipboard', schema: clipboardSchema }, ...token },
      async run({ principal, body }) {
        return { status: 200, json: serializeClipboard(await clipboards.create(principal, body.id, body.image_ids), formatTime) };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/clipboards/:id/paste',
      operationId: 'pasteClipboard',
      summary: 'Paste a clipboard into an album (`paste` on it): copies sharing the Cloudinary assets',
      tag: 'Clipboards',
      auth: 'token',
      params: z.object({ id: z.string().min(1).max(64).describe('Clipboard id') }),
      body: z.looseObject({ album_id: albumId.describe('The album that receives the copies') }),
      responses: { 200: { description: 'The copies, in clipboard order (images trashed since the copy are left out)', schema: z.array(imageSchema) }, ...token, ...notFound },
      async run({ principal, params, body }) {
        const copies = await clipboards.paste(principal, params.id, body.album_id);
        return { status: 200, json: copies.map((image) => imageSerializer.serialize(image)) };
      },
    }),
  ];
}
