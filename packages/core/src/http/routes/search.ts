import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../route.js';
import { imageSchema } from '../schemas.js';
import { nextCursor, pageQuery, pageResult, token, type RouteDeps } from './common.js';

const SORTS = { created_at: 'asc', 'created_at:asc': 'asc', '-created_at': 'desc', 'created_at:desc': 'desc' } as const;

/** Search over an organization's live images with the query language of `search/`. */
export function searchRoutes(deps: RouteDeps): AnyRoute[] {
  const { config, images, imageSerializer } = deps;
  return [
    defineRoute({
      method: 'GET',
      path: '/search',
      operationId: 'searchImages',
      summary: 'Search the organization’s images (Elasticsearch query_string subset), newest first',
      description:
        'Terms, `field:value`, quoted phrases, AND/OR/NOT, parentheses, `*`/`?` wildcards, ranges `[a TO b]`/`{a TO b}`, `>=`, `_exists_:field`. ' +
        'Fields: album_id, tags, filename, title, description, metadatas.<key>, created_at, taken_at, format, width, height, processed, latitude, longitude, gps. ' +
        'A token whose claims carry `q` searches inside that query; other tokens that are not members search the albums they may list. A bad query is a 400 naming its position.',
      tag: 'Search',
      auth: 'token',
      query: pageQuery(config).extend({
        q: z.string().max(4096).default('*').describe('The query; `*` (the default) matches every image'),
        sort: z.enum(Object.keys(SORTS) as [keyof typeof SORTS], 'created_at:desc (the default) or created_at:asc is expected').optional().describe('`created_at:desc` (default) or `created_at:asc`'),
      }),
      responses: { 200: { description: 'A page of matching images', schema: z.array(imageSchema), headers: nextCursor }, 400: { description: 'A bad query: the message names its position' }, ...token },
      async run({ principal, query }) {
        const page = await images.search(principal, query.q, query.limit ?? 50, query.sort ? SORTS[query.sort] : 'desc', query.cursor);
        return pageResult(page.images, (image) => imageSerializer.serialize(image), page.next);
      },
    }),
  ];
}
