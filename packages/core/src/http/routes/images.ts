import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../route.js';
import { imageAccessHeaders } from '../../auth/abilities.js';
import { uploadResultSchema } from '../../domain/upload-result.js';
import { errorSchema, imageSchema, imageSyncSchema } from '../schemas.js';
import { albumId, albumParams, idList, imageParams, nextCursor, notFound, pageQuery, pageResult, token, type RouteDeps } from './common.js';

/** A number in a form (text) or JSON (a number). */
function numeric(pattern: RegExp, message: string) {
  return z.union([z.number(), z.string().regex(pattern, message)]).transform(Number).pipe(z.number().refine(Number.isFinite, message));
}
const cropField = (name: string) =>
  numeric(/^\d{1,7}(\.\d{1,6})?$/, 'a number of pixels from 0 is expected').pipe(z.number().min(0, 'a number of pixels from 0 is expected').max(1_000_000)).optional().describe(name);
const caption = (name: string) => z.string().max(10_000, 'at most 10000 characters').nullable().optional().describe(name);

const editBody = z
  .looseObject({
    rotation: numeric(/^-?\d{1,6}$/, 'a multiple of 90 is expected')
      .pipe(z.number().int().refine((v) => v % 90 === 0, 'a multiple of 90 is expected'))
      .optional()
      .describe('Degrees clockwise, a multiple of 90 (kept modulo 360)'),
    crop_x: cropField('Left of the crop, in pixels of the original'),
    crop_y: cropField('Top of the crop'),
    crop_w: cropField('Width of the crop (0 with the others at 0 removes the crop)'),
    crop_h: cropField('Height of the crop'),
    title: caption('Title'),
    description: caption('Description'),
  })
  .superRefine((body, ctx) => {
    const given = (['crop_x', 'crop_y', 'crop_w', 'crop_h'] as const).filter((k) => body[k] !== undefined);
    if (given.length > 0 && given.length < 4) {
      for (const k of ['crop_x', 'crop_y', 'crop_w', 'crop_h'] as const) {
        if (body[k] === undefined) ctx.addIssue({ code: 'custom', path: [k], message: 'a crop needs crop_x, crop_y, crop_w and crop_h' });
      }
    }
  });

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
      responses: {
        200: { description: 'The image (one per upload, whichever of the client and the notification came first)', schema: imageSchema },
        409: { description: "The upload's image is in the trash (a late retry): it stays there; `message` says how to restore it", schema: errorSchema },
        ...token,
      },
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
        return pageResult(page.images, (image) => imageSerializer.serialize(image), page.next);
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
      path: '/images/move',
      operationId: 'moveImages',
      summary: 'Move images to other albums of the organization, all or nothing',
      description: 'A member, or `image_delete` on the source album and `image_upload` on the destination, for every image. Destinations are created on demand.',
      tag: 'Images',
      auth: 'token',
      body: z.looseObject({
        move_operations: z
          .record(z.string().max(64), albumId)
          .refine((ops) => Object.keys(ops).length >= 1, 'at least one image is expected')
          .refine((ops) => Object.keys(ops).length <= limits.syncIds, `at most ${limits.syncIds} images per request`)
          .describe('`move_operations[<image id>]=<album id>`'),
      }),
      responses: { 200: { description: 'The ids of the moved images, newest first', schema: z.array(z.string()) }, ...token },
      async run({ principal, body }) {
        const moved = await images.move(principal, Object.entries(body.move_operations).map(([id, to]) => ({ id, to })));
        return { status: 200, json: moved.map((image) => image.id) };
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/images/:id',
      operationId: 'editImage',
      summary: 'Rotate, crop or caption an image',
      description:
        '`rotation` needs `image_rotate`; `crop_x/crop_y/crop_w/crop_h` (with `rotation`) need `image_crop`; `title`/`description` need `image_caption`. Several fields need all of their abilities.',
      tag: 'Images',
      auth: 'token',
      params: imageParams,
      body: editBody,
      responses: { 200: { description: 'The edited image; every edited rendition carries the crop and the rotation', schema: imageSchema }, ...token, ...notFound },
      async run({ principal, params, body }) {
        const { rotation, crop_x: x, crop_y: y, crop_w: w, crop_h: h, title, description } = body;
        const crop = x === undefined ? undefined : { x, y: y!, w: w!, h: h! };
        const image = await images.edit(principal, params.id, { rotation, crop, title, description });
        return { status: 200, json: imageSerializer.serialize(image) };
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
