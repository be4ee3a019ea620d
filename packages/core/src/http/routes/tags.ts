import { z } from 'zod';
import { decodeKeyset, encodeKeyset } from '../../domain/cursor.js';
import { BadRequest } from '../../errors.js';
import type { TagFilter, TagImageRow } from '../../repositories/tags.js';
import { serializePublicTagImage, serializeTag, serializeTagImage, serializeTagSuggestion } from '../../serializers/tag.js';
import { TAG_NAME_MAX } from '../../services/tags.js';
import { defineRoute, type AnyRoute } from '../route.js';
import { publicTagImageSchema, tagImageSchema, tagSchema, tagSuggestionSchema } from '../schemas.js';
import { albumId, flag, idList, imageId, nextCursor, pageQuery, pageResult, token, type RouteDeps } from './common.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const tagName = z.string().min(1).max(TAG_NAME_MAX);
const label = z.union([z.string().max(2048), z.looseObject({})]).describe('`{"en": …, "fr": …}` (an object, or its JSON text), or one label for both');
const color = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'a colour such as #FF9800 is expected');
const tagFlags = {
  listed: flag.optional().describe('Listed (autocompletion, lists)'),
  public: flag.optional().describe('Its page is open to anyone (`Access.share` needed)'),
  visible: flag.optional(),
  allow_download: flag.optional().describe('Its public page offers downloads (`Access.share` needed)'),
};
const notFound = { 404: { description: 'No such tag (or link) in the organization, or none the token may see' } };
const SUGGESTIONS = 20;

/** The filters of autocompletion: a JSON object of tag flags. */
const filters = z
  .string()
  .max(512)
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'a JSON object such as {"listed": true} is expected' });
      return z.NEVER;
    }
  })
  .pipe(
    z.strictObject(
      { listed: z.boolean().optional(), public: z.boolean().optional(), visible: z.boolean().optional(), allow_download: z.boolean().optional() },
      'only listed, public, visible and allow_download, each true or false, are expected',
    ),
  );

const linkCursor = (rows: Array<{ link: { created_at: Date; id: string } }>, limit: number) => {
  const last = rows.at(-1);
  return rows.length === limit && last ? encodeKeyset(last.link.created_at, last.link.id) : null;
};

/** Tags of the organization, tag links, the tags a token names, and public tag pages. */
export function tagRoutes(deps: RouteDeps): AnyRoute[] {
  const { config, tags, imageSerializer } = deps;
  const page = pageQuery(config);
  const limitOf = (limit: number | undefined) => limit ?? 50;
  const tagImageJson = (row: TagImageRow) => serializeTagImage(row.link, row.tag, imageSerializer.serialize(row.image));
  return [
    defineRoute({
      method: 'POST',
      path: '/tags',
      operationId: 'createTag',
      summary: 'Create a tag (members, admins, or `abilities.tags.create`); the existing tag of that name is answered as it is',
      tag: 'Tags',
      auth: 'token',
      body: z.looseObject({ name: tagName.describe('Unique in the organization'), label: label.optional(), color: color.optional(), ...tagFlags }),
      responses: { 200: { description: 'The tag', schema: tagSchema }, ...token },
      async run({ principal, body }) {
        return { status: 200, json: serializeTag(await tags.create(principal, body)) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/tags',
      operationId: 'listTags',
      summary: 'The tags of the organization the token may see, oldest first',
      tag: 'Tags',
      auth: 'token',
      query: page.extend({ visible: flag.optional().describe('Only visible (`true`) or hidden (`false`) tags') }),
      responses: { 200: { description: 'A page of tags', schema: z.array(tagSchema), headers: nextCursor }, ...token },
      async run({ principal, query }) {
        const limit = limitOf(query.limit);
        const after = query.cursor ? decodeKeyset(query.cursor, UUID) : undefined;
        const list = await tags.list(principal, { visible: query.visible }, limit, after);
        const last = list.at(-1);
        return pageResult(list, serializeTag, list.length === limit && last ? encodeKeyset(last.created_at, last.id) : null);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/tags/autocomplete',
      operationId: 'autocompleteTags',
      summary: `Listed tags (unless \`filters\` says otherwise) whose name or label holds \`q\` (any case), at most ${SUGGESTIONS}`,
      tag: 'Tags',
      auth: 'token',
      query: z.looseObject({
        q: z.string().max(255).default('').describe('Part of a name or label'),
        filters: filters.optional().describe('JSON object of flags, e.g. `{"listed": true}`'),
      }),
      responses: { 200: { description: 'The tags found', schema: z.array(tagSuggestionSchema) }, ...token },
      async run({ principal, query }) {
        // Listed tags only, unless the filters ask otherwise: `listed` is what autocompletion shows.
        const found = await tags.suggest(principal, query.q, { listed: true, ...query.filters } as TagFilter, SUGGESTIONS);
        return { status: 200, json: found.map(serializeTagSuggestion) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/tags_token',
      operationId: 'tagsOfToken',
      summary: "The tags the token's albums name (`abilities.<album>.Tags`), created with the token's labels where missing",
      tag: 'Tags',
      auth: 'token',
      responses: { 200: { description: 'The tags, in token order', schema: z.array(tagSchema) }, ...token },
      async run({ principal }) {
        return { status: 200, json: (await tags.fromToken(principal)).map(serializeTag) };
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/tags/:id',
      operationId: 'updateTag',
      summary: 'Change a tag: name, label, colour, flags (`public` and `allow_download` need `Access.share`)',
      tag: 'Tags',
      auth: 'token',
      params: z.object({ id: z.string().min(1).max(64).describe('Tag id') }),
      body: z.looseObject({ name: tagName.optional(), label: label.optional(), color: color.optional(), ...tagFlags }),
      responses: { 200: { description: 'The tag', schema: tagSchema }, 400: { description: 'A field is invalid, or the new name is taken' }, ...token, ...notFound },
      async run({ principal, params, body }) {
        return { status: 200, json: serializeTag(await tags.update(principal, params.id, body)) };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/tags/:tag_id/tag_images',
      operationId: 'tagImages',
      summary: 'Put a tag on images (`Access.image_tag` and the tag in the album’s `Tags`), all or nothing',
      description: 'The tag is named by its id or by its name (URL-encoded); a name the token’s `Tags` maps give is created on first use.',
      tag: 'Tags',
      auth: 'token',
      params: z.object({ tag_id: tagName.describe('Tag id, or name') }),
      body: z.looseObject({ image_ids: idList(config.limits.syncIds).describe('The images (`image_ids[]=…`)') }),
      responses: { 200: { description: 'The links, in the order asked', schema: z.array(tagImageSchema) }, ...token, ...notFound },
      async run({ principal, params, body }) {
        const rows = await tags.tagImages(principal, params.tag_id, body.image_ids);
        return { status: 200, json: rows.map(tagImageJson) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/tag_images',
      operationId: 'listTagImages',
      summary: 'Links of tags to live images, oldest first: by tag name, album, image',
      tag: 'Tags',
      auth: 'token',
      query: page.extend({
        tag_name: tagName.optional(),
        album_id: albumId.optional(),
        image_id: imageId.optional(),
        image_ids: idList(config.limits.syncIds).optional().describe('`image_ids[]=…`'),
      }),
      responses: { 200: { description: 'A page of links', schema: z.array(tagImageSchema), headers: nextCursor }, ...token },
      async run({ principal, query }) {
        const limit = limitOf(query.limit);
        const after = query.cursor ? decodeKeyset(query.cursor, UUID) : undefined;
        const ids = [...(query.image_ids ?? []), ...(query.image_id ? [query.image_id] : [])].map((id) => id.toLowerCase());
        if (!ids.every((id) => UUID.test(id))) throw new BadRequest('image_ids: image ids (UUIDs) are expected');
        const rows = await tags.links(principal, { tagName: query.tag_name, albumId: query.album_id, imageIds: ids.length > 0 ? ids : undefined }, limit, after);
        return pageResult(rows, tagImageJson, linkCursor(rows, limit));
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/tag_images/:id',
      operationId: 'untagImage',
      summary: 'Take a tag off an image (the rights that put it there)',
      tag: 'Tags',
      auth: 'token',
      params: z.object({ id: z.string().min(1).max(64).describe('Link id') }),
      responses: { 204: { description: 'Done' }, ...token, ...notFound },
      async run({ principal, params }) {
        await tags.untag(principal, params.id);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/tags/:tag_id/public_tags',
      operationId: 'publicTagImages',
      summary: 'The public page of a tag: its live images, without a token (only a public tag)',
      tag: 'Tags',
      auth: 'none',
      params: z.object({ tag_id: z.string().min(1).max(64).describe('Tag id') }),
      query: page,
      responses: { 200: { description: 'A page of the tag’s images', schema: z.array(publicTagImageSchema), headers: nextCursor }, ...notFound },
      async run({ params, query }) {
        const limit = limitOf(query.limit);
        const after = query.cursor ? decodeKeyset(query.cursor, UUID) : undefined;
        const { tag, rows } = await tags.publicLinks(params.tag_id, limit, after);
        return pageResult(rows, (row) => serializePublicTagImage(row.link, tag, row.image), linkCursor(rows, limit));
      },
    }),
  ];
}
