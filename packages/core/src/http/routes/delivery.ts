import { z } from 'zod';
import { tokenFromAuthorization } from '../../auth/tokens.js';
import { AccessDenied } from '../../errors.js';
import { InvalidLink, type DeliveryService } from '../../services/delivery.js';
import { BLANK_JPEG } from '../assets.js';
import { defineRoute, type AnyRoute, type RouteResult } from '../route.js';
import type { RouteDeps } from './common.js';

/** `302` to a delivery URL, with the small HTML body the API has always sent along. */
export function redirect(location: string, headers: Record<string, string> = {}): RouteResult {
  const href = location.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return {
    status: 302,
    body: `<html><body>You are being <a href="${href}">redirected</a>.</body></html>`,
    headers: { 'Content-Type': 'text/html; charset=utf-8', Location: location, ...headers },
  };
}

/** `400 Invalid url` in plain text, as the API answered a link it did not sign. */
function invalidLink(): RouteResult {
  return { status: 400, body: 'Invalid url', headers: { 'Content-Type': 'text/plain; charset=utf-8' } };
}

const linkParams = z.object({ id: z.string().min(1).max(255).describe('Image id (UUID), or a file name when the token names the image') });
const thumbnailParams = z.object({
  id: z.string().min(1).max(64).describe('Image id (UUID)'),
  file: z.string().min(1).max(64).describe('`<kind>-<name>.jpg` as the image JSON wrote it (`mini`, `thumbnail`, `full`)'),
});
const transformationQuery = z.looseObject({
  token: z.string().max(16_384).optional().describe('A token signed by albumkit or an organization secret: its `transformations` (and `image_id`) shape the image'),
  width: z.string().max(16).optional().describe('Width of the image (pixels)'),
  height: z.string().max(16).optional().describe('Height of the image (pixels)'),
  crop: z.string().max(16).optional().describe('Crop mode (fill, fit, scale, pad…)'),
});
const proxyParams = z.object({ file: z.string().min(1).max(200).describe('`<name>.<ext>`, the file name shown') });
const proxyQuery = z.looseObject({ s: z.string().max(16).describe('Short signature of `url`'), url: z.string().max(2048).describe('The proxied link, `<host>/images/…`') });

const redirectResponse = { description: 'Redirect to the image (a signed delivery URL)', contentType: 'text/html', headers: { Location: 'The image' } };

/** Path of the placeholder image, when `placeholderPrefix` is on this host (`/assets/blank.jpg#`). */
function placeholderPath(prefix: string, origin: string): string | undefined {
  const bare = prefix.split('#')[0]!;
  if (bare.startsWith('/') && !bare.startsWith('//')) return bare;
  try {
    const url = new URL(bare);
    return url.origin === origin ? url.pathname : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The public routes of delivery: what the links of the image JSON lead to. They live at the
 * host's root (`surface: 'public'`), and each checks its own credentials: the rendition's name in
 * a thumbnail link, the proxy's signature, a token for an image link.
 */
export function deliveryRoutes(deps: RouteDeps & { delivery: DeliveryService }): AnyRoute[] {
  const { delivery, tokens } = deps;
  const origin = new URL(deps.config.publicUrl).origin;
  const routes: AnyRoute[] = [
    defineRoute({
      surface: 'public',
      method: 'GET',
      path: '/images/:id/thumbnails/:file',
      operationId: 'thumbnail',
      summary: 'A thumbnail of the image JSON (`external_urls` lead here through the proxy): redirect to the rendition',
      tag: 'Delivery',
      auth: 'none',
      params: thumbnailParams,
      responses: { 302: redirectResponse, 400: { description: '`Invalid url`: not a link albumkit made, or the image has changed since', contentType: 'text/plain' }, 404: { description: 'The image is gone' } },
      async run({ params }) {
        try {
          return redirect(await delivery.thumbnail(params.id, params.file));
        } catch (error) {
          if (error instanceof InvalidLink) return invalidLink();
          throw error;
        }
      },
    }),
    defineRoute({
      surface: 'public',
      method: 'GET',
      path: '/images/:id',
      operationId: 'imageLink',
      summary: 'An image through a signed token (`?token=`, or the Authorization header): redirect to it as the token and `width/height/crop` shape it',
      tag: 'Delivery',
      auth: 'none',
      params: linkParams,
      query: transformationQuery,
      responses: { 302: redirectResponse, 400: { description: 'Transformations albumkit refuses (the field is named)' }, 401: { description: 'No valid token, or not one that may see the image' }, 404: { description: 'No such image' } },
      async run({ params, query, headers }) {
        // Shared by anyone (an <img> of another site): readable from any origin, as the API answered.
        const cors = { 'Access-Control-Allow-Origin': '*' };
        try {
          const token = query.token ?? (headers.has('authorization') ? tokenFromAuthorization(headers.get('authorization')) : undefined);
          if (!token) throw new AccessDenied('a token is required');
          const auth = tokens.seenBefore(token) ?? (await tokens.authenticate(token));
          const location = await delivery.linked(auth.principal, auth.claims as Record<string, unknown>, params.id, query);
          // A token's link is meant to be embedded (as recorded: no X-Frame-Options).
          return { ...redirect(location, cors), omitHeaders: ['X-Frame-Options'] };
        } catch (error) {
          if (error instanceof AccessDenied) return { status: 401, body: '', headers: { ...cors, 'Content-Type': 'text/html', 'X-message': 'Access denied' } };
          throw error;
        }
      },
    }),
    defineRoute({
      surface: 'public',
      method: 'GET',
      path: '/proxy/:file',
      operationId: 'proxy',
      summary: "albumkit's own image proxy (the default `proxy.url`): checks the short signature and redirects to the link it proxies",
      tag: 'Delivery',
      auth: 'none',
      params: proxyParams,
      query: proxyQuery,
      responses: { 302: redirectResponse, 400: { description: '`Invalid url`', contentType: 'text/plain' } },
      async run({ params, request }) {
        const raw = typeof request.query === 'string' ? request.query : request.path.includes('?') ? request.path.slice(request.path.indexOf('?') + 1) : '';
        try {
          return redirect(delivery.proxied(params.file, raw));
        } catch (error) {
          if (error instanceof InvalidLink) return invalidLink();
          throw error;
        }
      },
    }),
  ];
  const blank = placeholderPath(deps.config.placeholderPrefix, origin);
  if (blank) {
    routes.push(
      defineRoute({
        surface: 'public',
        method: 'GET',
        path: blank,
        operationId: 'placeholder',
        summary: 'The placeholder image shown until an image is processed (its thumbnails are `<placeholder>#<rendition>`)',
        tag: 'Delivery',
        auth: 'none',
        responses: { 200: { description: 'A white pixel', contentType: 'image/jpeg' } },
        async run() {
          return {
            status: 200,
            stream: [BLANK_JPEG],
            headers: { 'Content-Type': 'image/jpeg', 'Content-Length': String(BLANK_JPEG.byteLength), 'Cache-Control': 'public, max-age=86400', 'Access-Control-Allow-Origin': '*' },
          };
        },
      }),
    );
  }
  return routes;
}
