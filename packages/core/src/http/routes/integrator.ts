import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../route.js';
import { BadRequest } from '../../errors.js';
import { annotationSchema, generatedTokenSchema, imageSchema, organizationSchema, secretSchema, userSchema } from '../schemas.js';
import { imageParams, jsonField, nextCursor, notFound, pageQuery, pageResult, token, type RouteDeps } from './common.js';
import type { AlbumkitConfig } from '../../config.js';

/** Integrator endpoints: organization, user, secrets, tokens; annotations and stickers. */
export function integratorRoutes(deps: RouteDeps): AnyRoute[] {
  const { config, integrator, imageSerializer } = deps;
  const limits = config.limits;
  const paging = pageQuery(config);
  return [
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
      query: paging,
      responses: { 200: { description: 'Sticker images', schema: z.array(imageSchema), headers: nextCursor }, ...token },
      async run({ principal, query }) {
        const page = await integrator.stickers(principal, query.limit ?? 50, query.cursor);
        return pageResult(page.images, (image) => imageSerializer.serialize(image), page.next);
      },
    }),
  ];
}

function permissionObject(value: unknown, config: AlbumkitConfig): Record<string, unknown> {
  const parsed = jsonField(value, 'permission', config);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BadRequest('permission: a JSON object of claims is expected');
  return parsed as Record<string, unknown>;
}

