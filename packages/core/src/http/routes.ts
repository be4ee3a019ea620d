import { z } from 'zod';
import { albumAccessHeaders, imageAccessHeaders, type Principal } from '../auth/abilities.js';
import type { Tokens } from '../auth/tokens.js';
import type { AlbumkitConfig } from '../config.js';
import type { Album } from '../db/schema.js';
import { uploadResultSchema } from '../domain/upload-result.js';
import { BadRequest, PayloadTooLarge } from '../errors.js';
import { serializeAlbum } from '../serializers/album.js';
import type { ImageSerializer } from '../serializers/image.js';
import type { AlbumService } from '../services/albums.js';
import type { ImageJsonReader } from '../services/image-json.js';
import type { ImageService } from '../services/images.js';
import type { IntegratorService } from '../services/integrator.js';
import type { NotificationService } from '../services/notifications.js';
import { checkShape } from './body.js';
import { defineRoute, type AnyRoute } from './route.js';
import {
  albumSchema,
  annotationSchema,
  generatedTokenSchema,
  imageSchema,
  imageSyncSchema,
  organizationSchema,
  secretSchema,
  userSchema,
} from './schemas.js';

export interface RouteDeps {
  config: AlbumkitConfig;
  tokens: Tokens;
  albums: AlbumService;
  images: ImageService;
  imageJson: ImageJsonReader;
  notifications: NotificationService;
  integrator: IntegratorService;
  imageSerializer: ImageSerializer;
}

const albumId = z.string().min(1).max(255).describe('A UUID, or an external id such as a Salesforce record id');
const imageId = z.string().min(1).max(64).describe('Image id (UUID)');
const albumParams = z.object({ id: albumId });
const imageParams = z.object({ id: imageId });

/** A decimal count in a query string, within bounds. */
function count(min: number, max: number) {
  return z
    .string()
    .regex(/^\d{1,9}$/, `an integer from ${min} to ${max} is expected`)
    .transform(Number)
    .pipe(z.number().int().min(min, `an integer from ${min} to ${max} is expected`).max(max, `an integer from ${min} to ${max} is expected`));
}

/** `ids[]=a&ids[]=b` or `ids=a`, as a list. */
function idList(max: number) {
  return z
    .union([z.string(), z.array(z.string())])
    .transform((value) => (typeof value === 'string' ? [value] : value))
    .pipe(z.array(z.string().max(64, 'an image id is at most 64 characters')).max(max, `at most ${max} ids per request`));
}

const token = { 401: { description: 'No valid token, or a right the token lacks: empty body, `X-message: Access denied`', contentType: 'text/html' } };
const notFound = { 404: { description: 'No such image or album in the organization' } };

/** Every route of the API, each with the schemas it is validated and described with. */
export function apiRoutes(deps: RouteDeps): AnyRoute[] {
  const { config, albums, images, imageJson, notifications, integrator, imageSerializer } = deps;
  const limits = config.limits;
  const albumJson = async (principal: Principal, album: Album) => serializeAlbum(album, await albums.uploadForm(principal, album));
  const pageQuery = z.looseObject({
    limit: count(1, limits.pageSize).optional().describe(`Images per page (default 50, at most ${limits.pageSize})`),
    cursor: z.string().max(512).optional().describe('`X-Next-Cursor` of the previous page'),
  });
  const nextCursor = { 'X-Next-Cursor': 'The cursor of the next page; absent on the last page' };

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
      query: pageQuery,
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
    defineRoute({
      method: 'POST',
      path: '/cloudinary',
      operationId: 'cloudinaryNotification',
      summary: "Cloudinary's upload notification (the upload form's `notification_url`)",
      description: 'Signed by Cloudinary (`X-Cld-Timestamp`, `X-Cld-Signature` over the raw body); recorded before the answer, processed by a job.',
      tag: 'Cloudinary',
      auth: 'none',
      query: z.looseObject({ token: z.string().max(limits.tokenLength).optional().describe('The notification token of the upload form') }),
      body: z.looseObject({ public_id: z.string(), version: z.union([z.number(), z.string()]), notification_type: z.string().optional() }),
      bodyValidation: 'describe',
      bodyTypes: ['application/json'],
      responses: {
        201: { description: 'Recorded; `X-token` is the notification token renewed', contentType: 'text/html', headers: { 'X-token': 'The notification token, renewed' } },
        400: { description: 'A notification that cannot be read (bad signature time, bad upload result)' },
        401: { description: 'Bad token or signature: empty body', contentType: 'text/html' },
      },
      async run({ request, headers, query }) {
        if (request.rawBody === undefined) throw new BadRequest('notification: the raw request body is required to check its signature');
        const raw = typeof request.rawBody === 'string' ? Buffer.from(request.rawBody) : request.rawBody;
        if (raw.byteLength > limits.bodyBytes) throw new PayloadTooLarge('notification body too large');
        const renewed = await notifications.accept({
          token: query.token,
          rawBody: raw,
          timestamp: headers.get('x-cld-timestamp'),
          signature: headers.get('x-cld-signature'),
        });
        return { status: 201, headers: { 'Content-Type': 'text/html', ...(renewed ? { 'X-token': renewed } : {}) } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/organization',
      operationId: 'getOrganization',
      summary: "The token's organization",
      tag: 'Integrator',
      auth: 'token',
      responses: { 200: { description: 'The organization', schema: organizationSchema, headers: { 'X-access-stats': '"true" for an admin' } }, ...token },
      async run({ principal }) {
        return { status: 200, json: await integrator.organization(principal), headers: { 'X-access-stats': String(principal.admin) } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/user',
      operationId: 'getUser',
      summary: 'The user the token was issued to',
      tag: 'Integrator',
      auth: 'token',
      responses: { 200: { description: 'The user', schema: userSchema, headers: { 'X-access-admin': '"true" for an admin' } }, ...token, 404: { description: 'The token names no user' } },
      async run({ principal }) {
        return { status: 200, json: await integrator.user(principal), headers: { 'X-access-admin': String(principal.admin) } };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/secret',
      operationId: 'createSecret',
      summary: 'Create an integrator secret (admins only); its URL is shown once',
      tag: 'Integrator',
      auth: 'token',
      body: z.looseObject({ name: z.string().max(255).optional().describe('Name of the secret') }),
      responses: { 200: { description: 'The secret', schema: secretSchema }, ...token },
      async run({ principal, body }) {
        return { status: 200, json: await integrator.createSecret(principal, body.name) };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/token',
      operationId: 'generateToken',
      summary: 'Sign a token with the given claims for the caller, never with more rights than the caller has',
      tag: 'Integrator',
      auth: 'token',
      body: z.looseObject({
        permission: z
          .union([z.string().max(limits.tokenLength), z.looseObject({})])
          .describe('The claims, as a JSON object or its text: `abilities`, and claims such as `Id` or `q`'),
      }),
      responses: { 200: { description: 'The token and this API host', schema: generatedTokenSchema }, 400: { description: 'Malformed permission' }, ...token },
      async run({ auth, body }) {
        return { status: 200, json: await integrator.generateToken(auth, permissionObject(body.permission, config)) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/images/:id/annotation',
      operationId: 'getAnnotation',
      summary: 'The SVG annotation drawn over an image',
      tag: 'Annotations',
      auth: 'token',
      params: imageParams,
      responses: { 200: { description: 'The annotation (nulls when there is none)', schema: annotationSchema }, ...token, ...notFound },
      async run({ principal, params }) {
        return { status: 200, json: await integrator.annotation(principal, params.id) };
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/images/:id/annotation',
      operationId: 'putAnnotation',
      summary: "Replace an image's annotation (`image_annotate`)",
      tag: 'Annotations',
      auth: 'token',
      params: imageParams,
      body: z.looseObject({
        annotation: z.string().nullable().optional().describe('The SVG, as text; empty or absent clears it'),
        object: z.union([z.string(), z.looseObject({}), z.array(z.unknown())]).nullable().optional().describe("The editor's state (JSON or its text)"),
      }),
      responses: { 200: { description: 'The annotation as kept', schema: annotationSchema }, ...token, ...notFound },
      async run({ principal, params, body }) {
        const svg = body.annotation === undefined || body.annotation === null || body.annotation === '' ? null : body.annotation;
        return { status: 200, json: await integrator.annotate(principal, params.id, svg, jsonField(body.object, 'object', config)) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/stickers',
      operationId: 'listStickers',
      summary: "The organization's stickers (the images of its `_sharinpix_sticker` album)",
      tag: 'Annotations',
      auth: 'token',
      query: pageQuery,
      responses: { 200: { description: 'Sticker images', schema: z.array(imageSchema), headers: nextCursor }, ...token },
      async run({ principal, query }) {
        const page = await integrator.stickers(principal, query.limit ?? 50, query.cursor);
        return {
          status: 200,
          json: page.images.map((image) => imageSerializer.serialize(image)),
          headers: page.next ? { 'X-Next-Cursor': page.next } : undefined,
        };
      },
    }),
  ];
}

/** A JSON field that may come as an object (JSON body) or as JSON text (a form). */
function jsonField(value: unknown, name: string, config: AlbumkitConfig): unknown {
  if (typeof value !== 'string') return value ?? null;
  if (value === '') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new BadRequest(`${name}: invalid JSON`);
  }
  checkShape(parsed, config.limits, name);
  return parsed;
}

function permissionObject(value: unknown, config: AlbumkitConfig): Record<string, unknown> {
  const parsed = jsonField(value, 'permission', config);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BadRequest('permission: a JSON object of claims is expected');
  return parsed as Record<string, unknown>;
}
