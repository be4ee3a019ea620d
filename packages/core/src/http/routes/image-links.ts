import { z } from 'zod';
import { DELETED_JPEG } from '../assets.js';
import type { ImageLinkService } from '../../services/image-links.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { embedSchema, imageExternalUrlSchema, imageUrlSchema, uploaderSchema } from '../schemas.js';
import { imageParams, notFound, token, type RouteDeps } from './common.js';
import { redirect } from './delivery.js';

/** Where a trashed or purged image's external URL leads, on the host's root. */
export const DELETED_PATH = '/assets/deleted.jpg';

const transformations = z.unknown().describe('One step `{width, height, crop, gravity, angle, overlay, flags…}` or a list of steps, as in a token link');
const externalUrlInput = z.looseObject({ image_id: z.string().max(64).describe('Image id (UUID)'), transformations: transformations.optional() });
const sizeQuery = z.looseObject({
  width: z.string().max(16).optional().describe('Width (pixels)'),
  height: z.string().max(16).optional().describe('Height (pixels)'),
  crop: z.string().max(16).optional().describe('Crop mode (fill, fit, scale, pad…)'),
});

/**
 * Links to one image: lasting external URLs (created in the API, served at the host's root),
 * the image's signed URL, its embed code and its uploader.
 */
export function imageLinkRoutes(deps: RouteDeps & { imageLinks: ImageLinkService }): AnyRoute[] {
  const { imageLinks } = deps;
  return [
    defineRoute({
      method: 'POST',
      path: '/image_external_urls',
      operationId: 'createImageExternalUrls',
      summary: 'Lasting public links to images with transformations (`abilities.image_urls`): one (`image_external_url`) or several (`image_external_url[]` / `image_external_urls[]`)',
      tag: 'Delivery',
      auth: 'token',
      body: z.looseObject({
        // One link, or (as a form sends it) a list or an object keyed by index; each item is
        // checked by the service, which names the field it is in.
        image_external_url: z.union([externalUrlInput, z.array(z.unknown()), z.record(z.string(), z.unknown())]).optional(),
        image_external_urls: z.union([z.array(z.unknown()), z.record(z.string(), z.unknown())]).optional(),
      }),
      responses: {
        200: { description: 'The external URL, or the list of them for a list', schema: z.union([imageExternalUrlSchema, z.array(imageExternalUrlSchema)]) },
        400: { description: 'A missing or invalid image id or transformation (the field is named), or more than 100' },
        ...token,
        ...notFound,
      },
      async run({ principal, body }) {
        const input = body as Record<string, unknown>;
        const one = input.image_external_url;
        const listed = Array.isArray(one) || (one !== null && typeof one === 'object' && !('image_id' in one) && Object.keys(one).length > 0 && Object.keys(one).every((key) => /^\d+$/.test(key)));
        const many = input.image_external_urls ?? (listed ? one : undefined);
        if (many !== undefined) {
          const where = input.image_external_urls !== undefined ? 'image_external_urls' : 'image_external_url';
          const items = Array.isArray(many) ? many : Object.values(many as object);
          return { status: 200, json: await imageLinks.createExternalUrls(principal, items, `${where}[]`) };
        }
        const [link] = await imageLinks.createExternalUrls(principal, [one ?? null], 'image_external_url');
        return { status: 200, json: link };
      },
    }),
    defineRoute({
      surface: 'public',
      method: 'GET',
      path: '/image_external_urls/:id',
      operationId: 'imageExternalUrl',
      summary: 'An external URL: redirect to the image as asked, or to the deleted-image placeholder once it is trashed or purged',
      tag: 'Delivery',
      auth: 'none',
      params: z.object({ id: z.string().min(1).max(64).describe('External URL id') }),
      responses: { 302: { description: 'Redirect to the image', contentType: 'text/html', headers: { Location: 'The image' } }, 404: { description: 'No such external URL' } },
      async run({ params }) {
        return redirect(await imageLinks.externalTarget(params.id), { 'Access-Control-Allow-Origin': '*' });
      },
    }),
    defineRoute({
      surface: 'public',
      method: 'GET',
      path: DELETED_PATH,
      operationId: 'deletedPlaceholder',
      summary: 'The image an external URL shows once its image is gone',
      tag: 'Delivery',
      auth: 'none',
      responses: { 200: { description: 'A grey square with a cross', contentType: 'image/jpeg' } },
      async run() {
        return {
          status: 200,
          stream: [DELETED_JPEG],
          headers: { 'Content-Type': 'image/jpeg', 'Content-Length': String(DELETED_JPEG.byteLength), 'Cache-Control': 'public, max-age=86400', 'Access-Control-Allow-Origin': '*' },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/images/:id/image_url',
      operationId: 'imageUrl',
      summary: "The image's signed URL (`image_transform` on its album), fit in 1920 or as `width/height/crop` ask",
      tag: 'Delivery',
      auth: 'token',
      params: imageParams,
      query: sizeQuery,
      responses: { 200: { description: 'The URL', schema: imageUrlSchema }, 400: { description: 'An invalid size or crop (the field is named)' }, ...token, ...notFound },
      async run({ principal, params, query }) {
        return { status: 200, json: await imageLinks.imageUrl(principal, params.id, query) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/images/:id/embed',
      operationId: 'imageEmbed',
      summary: 'HTML that shows the image: an `<img>`, or a `<video>` with its sources',
      tag: 'Delivery',
      auth: 'token',
      params: imageParams,
      responses: { 200: { description: 'The embed code', schema: embedSchema }, ...token, ...notFound },
      async run({ principal, params }) {
        return { status: 200, json: await imageLinks.embed(principal, params.id) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/images/:id/user',
      operationId: 'imageUploader',
      summary: 'Who uploaded the image (`{}` when nobody is known)',
      tag: 'Images',
      auth: 'token',
      params: imageParams,
      responses: { 200: { description: 'The uploader', schema: uploaderSchema }, ...token, ...notFound },
      async run({ principal, params }) {
        return { status: 200, json: await imageLinks.uploader(principal, params.id) };
      },
    }),
  ];
}
