import { compileTree, tagKey, type CompileOptions, type SearchFilter } from './compile.js';
import { resolveClause, type Condition } from './fields.js';
import { DEFAULT_LIMITS, parseSyntax, type SearchLimits } from './syntax.js';
import { mapLeaves, type Tree } from './tree.js';

/**
 * The search query language (`q` of GET /search and of search tokens): a subset of
 * Elasticsearch's `query_string`, parsed here and compiled to a condition on `images`. See
 * docs/ARCHITECTURE.md, "Search query language", for the fields and operators.
 *
 *     const parsed = parseSearch(q);          // throws SearchQueryError (400) with the position
 *     if (!matchAll(parsed)) query = query.where(compileSearch(parsed, { organizationId }));
 */

export { SearchQueryError } from './error.js';
export type { SearchLimits } from './syntax.js';
export type { CompileOptions, SearchFilter } from './compile.js';
export { tagKey } from './compile.js';
export { FIELD_NAMES } from './fields.js';

/** A parsed query: opaque; compile it with compileSearch. */
export interface ParsedSearch {
  readonly q: string;
  /** @internal */
  readonly tree: Tree<Condition>;
}

/** Parsed queries by limits and text: a search token repeats its q on every request. */
const cache = new Map<string, ParsedSearch>();
const CACHE_SIZE = 256;

export function parseSearch(q: string, limits: Partial<SearchLimits> = {}): ParsedSearch {
  const effective: SearchLimits = { ...DEFAULT_LIMITS, ...limits };
  const key = `${effective.maxLength}/${effective.maxTerms}/${effective.maxDepth}/${q}`;
  const cached = cache.get(key);
  if (cached) {
    // Most recently used last: the first key is the one to evict.
    cache.delete(key);
    cache.set(key, cached);
    return cached;
  }
  const parsed: ParsedSearch = Object.freeze({ q, tree: mapLeaves(parseSyntax(q, effective), resolveClause) });
  cache.set(key, parsed);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return parsed;
}

/**
 * The condition the query puts on images, only that: the caller scopes it (organization, live
 * rows), orders and pages. Pass the organization to look tags up once per query instead of
 * once per image.
 */
export function compileSearch(parsed: ParsedSearch, options?: CompileOptions): SearchFilter {
  return compileTree(parsed.tree, options);
}

/** Whether the query matches every image (`*`, an empty q, `x OR *`): the caller may skip the filter. */
export function matchAll(parsed: ParsedSearch): boolean {
  return parsed.tree.kind === 'all';
}

/** The tag texts of a query (tag fields and bare terms), to look their ids up before compiling. */
export function tagTexts(parsed: ParsedSearch): Array<{ key: string; exact: string; like: string | null }> {
  const found = new Map<string, { key: string; exact: string; like: string | null }>();
  const walk = (tree: Tree<Condition>): void => {
    if (tree.kind === 'leaf') {
      const c = tree.leaf;
      if (c.kind === 'tag' || c.kind === 'anything') {
        const key = tagKey(c.text);
        found.set(key, { key, exact: c.text.exact, like: c.text.like });
      }
    } else if (tree.kind === 'and' || tree.kind === 'or') tree.items.forEach(walk);
    else if (tree.kind === 'not') walk(tree.item);
  };
  walk(parsed.tree);
  return [...found.values()];
}
