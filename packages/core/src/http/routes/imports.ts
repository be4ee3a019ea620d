import { z } from 'zod';
import type { ImportService } from '../../services/imports.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { importSchema } from '../schemas.js';
import { notFound, token, type RouteDeps } from './common.js';

/** Imports from a URL: recorded here, carried out by the worker's `import` job. */
export function importRoutes(deps: RouteDeps & { imports: ImportService }): AnyRoute[] {
  const { imports } = deps;
  return [
    defineRoute({
      method: 'POST',
      path: '/imports',
      operationId: 'createImport',
      summary: 'Import an image from a URL into an album (`image_upload` on it); the worker fetches it, stores it on Cloudinary and makes the image',
      tag: 'Images',
      auth: 'token',
      body: z.looseObject({
        album_id: z.string().max(255).describe('Album id'),
        url: z.string().max(2048).describe('http(s) URL of the file'),
        filename: z.string().max(255).optional().describe('File name of the image'),
        metadatas: z.record(z.string(), z.unknown()).optional().describe('Metadatas of the image (`metadata` is read too)'),
        metadata: z.record(z.string(), z.unknown()).optional(),
        headers: z.record(z.string(), z.string()).optional().describe('Headers sent with the fetch (to the URL\'s own origin only, not after a redirect elsewhere)'),
        tags: z.union([z.array(z.string()), z.record(z.string(), z.string())]).optional().describe('Tag names put on the image (as `POST /tags/:name/tag_images` would)'),
        import_type: z.literal('url').optional(),
      }),
      responses: {
        200: { description: 'The import; an identical earlier submission answers its import', schema: importSchema },
        400: { description: 'A missing or invalid field (named)' },
        503: { description: 'No worker runs imports here' },
        ...token,
      },
      async run({ principal, body }) {
        return { status: 200, json: await imports.create(principal, body as Record<string, unknown>) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/imports/:id',
      operationId: 'getImport',
      summary: 'An import: `image_id` once done, `error` when it failed',
      tag: 'Images',
      auth: 'token',
      params: z.object({ id: z.string().min(1).max(64).describe('Import id') }),
      responses: { 200: { description: 'The import', schema: importSchema }, ...token, ...notFound },
      async run({ principal, params }) {
        return { status: 200, json: await imports.get(principal, params.id) };
      },
    }),
  ];
}
