import { z } from 'zod';
import { InvalidDownloadLink, type DownloadService } from '../../services/downloads.js';
import { defineRoute, type AnyRoute, type RouteResult } from '../route.js';
import { downloadSchema } from '../schemas.js';
import { notFound, token, type RouteDeps } from './common.js';

/** Zip downloads: made in the API, streamed by a signed public link. */
export function downloadRoutes(deps: RouteDeps & { downloads: DownloadService }): AnyRoute[] {
  const { downloads } = deps;
  return [
    defineRoute({
      method: 'POST',
      path: '/downloads',
      operationId: 'createDownload',
      summary: 'A zip of images (claim `download: true`, and `image_list` on each): `image_ids[]`, added to the download `id` when given; without ids, the images of the token\'s query (`q`)',
      tag: 'Delivery',
      auth: 'token',
      body: z.looseObject({
        image_ids: z.union([z.array(z.string().max(64)), z.record(z.string(), z.string().max(64))]).optional().describe('Image ids (at most 1000 per request, 5000 per download)'),
        id: z.string().max(64).optional().describe('A download of the same user to add the images to'),
      }),
      responses: {
        200: { description: 'The download and its signed zip link (it expires, see `downloadUrlTtlSeconds`)', schema: downloadSchema },
        400: { description: 'No images, a malformed id, or too many' },
        ...token,
        ...notFound,
      },
      async run({ principal, body }) {
        return { status: 200, json: await downloads.create(principal, body as Record<string, unknown>) };
      },
    }),
    defineRoute({
      surface: 'public',
      method: 'GET',
      path: '/downloads/:id/zip',
      operationId: 'downloadZip',
      summary: 'The ZIP of a download, streamed: the originals (unique, safe names), and `MISSING.txt` listing images that are gone',
      tag: 'Delivery',
      auth: 'none',
      params: z.object({ id: z.string().min(1).max(64).describe('Download id') }),
      query: z.looseObject({ expires: z.string().max(16).optional().describe('Unix time the link stops working'), signature: z.string().max(128).optional() }),
      responses: {
        200: { description: 'The ZIP', contentType: 'application/zip' },
        403: { description: 'A wrong or expired signature', contentType: 'text/plain' },
        404: { description: 'No such download' },
      },
      async run({ params, query }): Promise<RouteResult> {
        const q = query as { expires?: string; signature?: string };
        let plan;
        try {
          plan = await downloads.plan(params.id, q.expires, q.signature);
        } catch (error) {
          if (error instanceof InvalidDownloadLink) return { status: 403, body: 'Invalid or expired link', headers: { 'Content-Type': 'text/plain; charset=utf-8' } };
          throw error;
        }
        return {
          status: 200,
          stream: downloads.stream(plan),
          headers: {
            'Content-Type': 'application/zip',
            'Content-Disposition': `attachment; filename="images-${params.id.slice(0, 8).replace(/[^0-9a-f]/gi, '')}.zip"`,
            'Cache-Control': 'private, no-store',
          },
        };
      },
    }),
  ];
}
