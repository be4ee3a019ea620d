import { sql, type Expression, type ExpressionBuilder, type RawBuilder, type SqlBool } from 'kysely';
import type { Database } from '../db/schema.js';
import { interval } from './dates.js';
import type { Bound, Condition, DateBound, OptionalField, Text, Words } from './fields.js';
import type { Tree } from './tree.js';

/**
 * Conditions as SQL over `images`, every value a bound parameter. The expressions are written
 * as the indexes of migration 0013 are, so that PostgreSQL can use them (the GIN indexes of the
 * file name's trigrams, the words of title and description and the metadatas; the btree ones
 * of created_at, taken_at, the GPS coordinates and the tag names). A negation is `IS NOT TRUE`,
 * so that a null (an image without a file name, say) counts as "does not match" on both sides.
 */

export type SearchFilter = (eb: ExpressionBuilder<Database, 'images'>) => Expression<SqlBool>;

export interface CompileOptions {
  /**
   * The organization searched. Given, a tag is looked up among its tags once per query (the
   * tags (organization_id, lower(name)) index, then its links), which keeps a bare term
   * indexable as a whole; absent, per image (correct, slower on large organizations).
   */
  organizationId?: string;
  /** The time `now` stands for (default: the time of compiling). */
  now?: Date;
  /**
   * The ids of the organization's tags each tag text of the query names (`tagKey(text)` →
   * ids), looked up beforehand (`tagTexts` lists them): the ids are then parameters, which lets
   * PostgreSQL plan by the tag's own frequency (a popular tag walks the newest images, a rare one
   * starts from its links) instead of an average tag's.
   */
  tagIds?: ReadonlyMap<string, readonly string[]>;
}

/** The key of a tag text in `CompileOptions.tagIds`. */
export function tagKey(text: Text): string {
  return text.like === null ? `=${text.exact.toLowerCase()}` : `~${text.like.toLowerCase()}`;
}

type Eb = ExpressionBuilder<Database, 'images'>;
type Bool = Expression<SqlBool>;

export function compileTree(tree: Tree<Condition>, options: CompileOptions = {}): SearchFilter {
  const now = (options.now ?? new Date()).getTime();
  return (eb) => new Compiler(eb, now, options.organizationId, options.tagIds).tree(tree);
}

const TRUE = sql<SqlBool>`true`;
const FALSE = sql<SqlBool>`false`;

const images = {
  id: sql.ref('images.id'),
  organizationId: sql.ref('images.organization_id'),
  albumId: sql.ref('images.album_id'),
  filename: sql.ref('images.filename'),
  format: sql.ref('images.format'),
  metadatas: sql.ref('images.metadatas'),
  gps: sql.ref('images.gps'),
};
/** Indexed expressions, written as in migration 0013. */
const indexed = {
  words: (column: 'title' | 'description') => sql`to_tsvector('simple', coalesce(${sql.ref(`images.${column}`)}, ''))`,
  metadatas: sql`albumkit_jsonb_or_null(${images.metadatas})`,
  latitude: sql`albumkit_gps_coordinate(${images.gps}, 1)`,
  longitude: sql`albumkit_gps_coordinate(${images.gps}, 2)`,
};
/** A letter or a digit: what the 'simple' parser makes a word of; a query without any has no words. */
const HAS_WORD = /[\p{L}\p{N}]/u;

class Compiler {
  constructor(
    private readonly eb: Eb,
    private readonly now: number,
    private readonly organizationId: string | undefined,
    private readonly tagIds?: ReadonlyMap<string, readonly string[]>,
  ) {}

  tree(tree: Tree<Condition>): Bool {
    switch (tree.kind) {
      case 'all':
        return TRUE;
      case 'none':
        return FALSE;
      case 'and':
        return this.eb.and(tree.items.map((item) => this.tree(item)));
      case 'or':
        return this.eb.or(tree.items.map((item) => this.tree(item)));
      case 'not':
        return sql<SqlBool>`(${this.tree(tree.item)}) is not true`;
      case 'leaf':
        return this.condition(tree.leaf);
    }
  }

  private condition(c: Condition): Bool {
    switch (c.kind) {
      case 'anything': {
        const arms = [this.album(c.text), this.tag(c.text), this.filename(c.text)];
        if (c.words) arms.push(this.words('title', c.words), this.words('description', c.words));
        return this.eb.or(arms);
      }
      case 'album':
        return this.album(c.text);
      case 'tag':
        return this.tag(c.text);
      case 'filename':
        return this.filename(c.text);
      case 'format':
        return c.text.like === null
          ? sql<SqlBool>`lower(${images.format}) = lower(${c.text.exact})`
          : sql<SqlBool>`lower(${images.format}) like lower(${c.text.like})`;
      case 'words':
        return this.words(c.column, c.words);
      case 'exists':
        return this.exists(c.field);
      case 'integer':
        return this.range(sql.ref(`images.${c.column}`), c, (value) => sql`${value}`);
      case 'boolean':
        return sql<SqlBool>`${sql.ref(`images.${c.column}`)} = ${c.value}`;
      case 'date':
        return this.date(c.column, c.lower, c.upper);
      case 'coordinate':
        return this.range(indexed[c.axis], c, numeric);
      case 'box': {
        const [lowerOp, upperOp] = [c.inclusive.lower ? sql`>=` : sql`>`, c.inclusive.upper ? sql`<=` : sql`<`];
        const latitude = sql<SqlBool>`${indexed.latitude} ${lowerOp} ${numeric(c.south)} and ${indexed.latitude} ${upperOp} ${numeric(c.north)}`;
        const west = sql<SqlBool>`${indexed.longitude} ${lowerOp} ${numeric(c.west)}`;
        const east = sql<SqlBool>`${indexed.longitude} ${upperOp} ${numeric(c.east)}`;
        return this.eb.and([latitude, c.wraps ? this.eb.or([west, east]) : this.eb.and([west, east])]);
      }
      case 'metadata-equals':
        // Containment, which the GIN index of the metadatas serves; one document per spelling.
        return this.eb.or(c.candidates.map((json) => sql<SqlBool>`${indexed.metadatas} @> ${json}::jsonb`));
      case 'metadata-like':
        return this.eb.and([this.hasKey(c.path), sql<SqlBool>`${metadataText(c.path)} like ${c.pattern}`]);
      case 'metadata-range': {
        // A stored value that is not a number (or a number spelled in a string) is none of a numeric range.
        const value = c.numeric ? sql`albumkit_jsonb_numeric(${metadataValue(c.path)})` : metadataText(c.path);
        return this.eb.and([this.hasKey(c.path), this.range(value, c, c.numeric ? numeric : (text) => sql`${text}::text`)]);
      }
      case 'metadata-exists':
        return this.eb.and([this.hasKey(c.path), sql<SqlBool>`jsonb_typeof(${metadataValue(c.path)}) <> 'null'`]);
    }
  }

  private album(text: Text): Bool {
    return text.like === null ? sql<SqlBool>`${images.albumId} = ${text.exact}` : sql<SqlBool>`${images.albumId} like ${text.like}`;
  }

  /** A tag of the image's organization named so, whatever the case. */
  private tag(text: Text): Bool {
    const name = (eb: ExpressionBuilder<Database, 'tags'>) =>
      text.like === null
        ? eb(sql`lower(${sql.ref('tags.name')})`, '=', sql`lower(${text.exact})`)
        : eb(sql`lower(${sql.ref('tags.name')})`, 'like', sql`lower(${text.like})`);
    const resolved = this.tagIds?.get(tagKey(text));
    if (resolved) {
      if (resolved.length === 0) return FALSE;
      return this.eb.exists(
        this.eb
          .selectFrom('tag_images')
          .select(sql.lit(1).as('found'))
          .whereRef('tag_images.image_id', '=', 'images.id')
          .where('tag_images.tag_id', '=', sql<string>`any(${[...resolved]}::uuid[])`),
      );
    }
    const links = this.eb.selectFrom('tag_images').innerJoin('tags', 'tags.id', 'tag_images.tag_id');
    if (this.organizationId !== undefined) {
      const ids = links.select('tag_images.image_id').where('tags.organization_id', '=', this.organizationId).where(name);
      return sql<SqlBool>`${images.id} = any(array(${ids}))`;
    }
    return this.eb.exists(
      links
        .select(sql.lit(1).as('found'))
        .whereRef('tag_images.image_id', '=', 'images.id')
        .whereRef('tags.organization_id', '=', 'images.organization_id')
        .where(name),
    );
  }

  /** A part of the file name (the trigram index serves ILIKE); an empty value is no part of anything. */
  private filename(text: Text): Bool {
    if (text.like === null && text.exact === '') return FALSE;
    const part = text.like ?? text.exact.replace(/[\\%_]/g, '\\$&');
    return sql<SqlBool>`${images.filename} ilike ${`%${part}%`}`;
  }

  private words(column: 'title' | 'description', words: Words): Bool {
    if (!HAS_WORD.test(words.text)) return FALSE;
    const query =
      words.kind === 'prefix'
        ? // A quoted lexeme with the prefix mark: to_tsquery reads anything quoted, nothing can break out of it.
          sql`to_tsquery('simple', ${`'${words.text.replace(/\\/g, '\\\\').replace(/'/g, "''")}':*`})`
        : words.kind === 'phrase'
          ? sql`phraseto_tsquery('simple', ${words.text})`
          : sql`plainto_tsquery('simple', ${words.text})`;
    return sql<SqlBool>`${indexed.words(column)} @@ ${query}`;
  }

  private exists(field: OptionalField): Bool {
    switch (field) {
      case 'title':
      case 'description':
      case 'filename':
      case 'format':
        return sql<SqlBool>`${sql.ref(`images.${field}`)} <> ''`;
      case 'taken_at':
        return sql<SqlBool>`${sql.ref('images.taken_at')} is not null`;
      case 'gps':
        return sql<SqlBool>`${indexed.latitude} is not null and ${indexed.longitude} is not null`;
      case 'tags':
        return this.eb.exists(this.eb.selectFrom('tag_images').select(sql.lit(1).as('found')).whereRef('tag_images.image_id', '=', 'images.id'));
    }
  }

  /** Dates as intervals: a lower bound is `>=` the start or the end of its date, an upper bound `<` it. */
  private date(column: 'created_at' | 'taken_at', lower: DateBound | undefined, upper: DateBound | undefined): Bool {
    const ref = sql.ref(`images.${column}`);
    const instant = (bound: DateBound) => new Date(interval(bound.value, this.now)[bound.edge]).toISOString();
    const parts: Bool[] = [];
    if (lower) parts.push(sql<SqlBool>`${ref} >= ${instant(lower)}`);
    if (upper) parts.push(sql<SqlBool>`${ref} < ${instant(upper)}`);
    return this.eb.and(parts);
  }

  private range<T>(value: RawBuilder<unknown> | ReturnType<typeof sql.ref>, bounds: { lower?: Bound<T>; upper?: Bound<T> }, param: (value: T) => RawBuilder<unknown>): Bool {
    const parts: Bool[] = [];
    const { lower, upper } = bounds;
    if (lower && upper && lower.inclusive && upper.inclusive && lower.value === upper.value) return sql<SqlBool>`${value} = ${param(lower.value)}`;
    if (lower) parts.push(lower.inclusive ? sql<SqlBool>`${value} >= ${param(lower.value)}` : sql<SqlBool>`${value} > ${param(lower.value)}`);
    if (upper) parts.push(upper.inclusive ? sql<SqlBool>`${value} <= ${param(upper.value)}` : sql<SqlBool>`${value} < ${param(upper.value)}`);
    return this.eb.and(parts);
  }

  /** Top-level key present (the GIN index of the metadatas answers `?`): narrows what the exact test reads. */
  private hasKey(path: readonly string[]): Bool {
    return sql<SqlBool>`${indexed.metadatas} ? ${path[0]!}`;
  }
}

const numeric = (value: string) => sql`${value}::numeric`;

/**
 * The value at a path of the metadatas, read from their jsonb form like everything else that
 * reads them: json's own operators fail on a value that holds a \u0000 escape.
 */
function metadataValue(path: readonly string[]): RawBuilder<unknown> {
  return sql`jsonb_extract_path(${indexed.metadatas}, ${sql.join(path.map((key) => sql`${key}`))})`;
}

function metadataText(path: readonly string[]): RawBuilder<unknown> {
  return sql`jsonb_extract_path_text(${indexed.metadatas}, ${sql.join(path.map((key) => sql`${key}`))})`;
}
