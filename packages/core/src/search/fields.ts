import { parseDate, type DateValue } from './dates.js';
import { SearchQueryError } from './error.js';
import { STAR, type Clause, type FieldName, type Spec, type Word } from './syntax.js';
import { ALL, leaf, type Tree } from './tree.js';

/**
 * What each field of a query means: a clause as written becomes a condition on images, checked
 * here (unknown field, a range where none applies, a value of the wrong kind: each a
 * SearchQueryError at the part at fault), so that compiling never fails.
 */

/** A text value: exact, or with wildcards as a LIKE pattern (literal parts escaped). */
export interface Text {
  readonly exact: string;
  /** LIKE pattern when the value has wildcards (`*` → `%`, `?` → `_`); null otherwise. */
  readonly like: string | null;
}

/** Words searched in title or description (full text, 'simple' configuration). */
export type Words =
  | { readonly kind: 'plain' | 'phrase'; readonly text: string }
  /** A word prefix (`holi*`). */
  | { readonly kind: 'prefix'; readonly text: string };

export interface Bound<T> {
  readonly value: T;
  readonly inclusive: boolean;
}

/** A date bound: from the start or the end of the date's interval (see dates.ts). */
export interface DateBound {
  readonly value: DateValue;
  readonly edge: 'start' | 'end';
}

export type OptionalField = 'title' | 'description' | 'taken_at' | 'gps' | 'tags' | 'filename' | 'format';

export type Condition =
  /** A bare term: album id, tag name, a part of the file name, a word of title or description. */
  | { readonly kind: 'anything'; readonly text: Text; readonly words: Words | null }
  | { readonly kind: 'album'; readonly text: Text }
  | { readonly kind: 'tag'; readonly text: Text }
  | { readonly kind: 'filename'; readonly text: Text }
  | { readonly kind: 'format'; readonly text: Text }
  | { readonly kind: 'words'; readonly column: 'title' | 'description'; readonly words: Words }
  | { readonly kind: 'exists'; readonly field: OptionalField }
  | { readonly kind: 'integer'; readonly column: 'width' | 'height'; readonly lower?: Bound<number>; readonly upper?: Bound<number> }
  | { readonly kind: 'boolean'; readonly column: 'processed'; readonly value: boolean }
  /** Lower bounds are `>=` the bound's instant, upper bounds `<` it. */
  | { readonly kind: 'date'; readonly column: 'created_at' | 'taken_at'; readonly lower?: DateBound; readonly upper?: DateBound }
  /** Numbers as written (bound as numeric, never through a float). */
  | { readonly kind: 'coordinate'; readonly axis: 'latitude' | 'longitude'; readonly lower?: Bound<string>; readonly upper?: Bound<string> }
  | {
      readonly kind: 'box';
      readonly south: string;
      readonly west: string;
      readonly north: string;
      readonly east: string;
      /** West above east: the box crosses the antimeridian. */
      readonly wraps: boolean;
      readonly inclusive: { readonly lower: boolean; readonly upper: boolean };
    }
  /** The value at `path` is one of these JSON values (`@>`). */
  | { readonly kind: 'metadata-equals'; readonly path: readonly string[]; readonly candidates: readonly string[] }
  | { readonly kind: 'metadata-like'; readonly path: readonly string[]; readonly pattern: string }
  | {
      readonly kind: 'metadata-range';
      readonly path: readonly string[];
      /** Numeric comparison (both bounds numbers); text otherwise. */
      readonly numeric: boolean;
      readonly lower?: Bound<string>;
      readonly upper?: Bound<string>;
    }
  | { readonly kind: 'metadata-exists'; readonly path: readonly string[] };

/** The field names, aliases included, as a client may write them. */
export const FIELD_NAMES = [
  'album_id',
  'album',
  'tags',
  'tag',
  'filename',
  'name',
  'title',
  'description',
  'created_at',
  'taken_at',
  'format',
  'width',
  'height',
  'processed',
  'latitude',
  'longitude',
  'gps',
  '_exists_',
  'metadatas.<key>',
] as const;

const ALIASES: Record<string, string> = { album: 'album_id', tag: 'tags', name: 'filename' };

export function resolveClause({ field, spec }: Clause): Tree<Condition> {
  if (!field) return anything(spec);
  if (field.path[0] === 'metadatas' && field.path.length > 1) return metadata(field, spec);
  const name = ALIASES[field.name] ?? field.name;
  switch (name) {
    case 'album_id':
      return text(field, spec, 'album', null);
    case 'tags':
      return text(field, spec, 'tag', 'tags');
    case 'filename':
      return text(field, spec, 'filename', 'filename');
    case 'format':
      return text(field, spec, 'format', 'format');
    case 'title':
    case 'description':
      return words(field, spec, name);
    case 'created_at':
    case 'taken_at':
      return date(field, spec, name);
    case 'width':
    case 'height':
      return integer(field, spec, name);
    case 'processed':
      return boolean(field, spec);
    case 'latitude':
    case 'longitude':
      return coordinate(field, spec, name);
    case 'gps':
      return box(field, spec);
    case '_exists_':
      return exists(spec);
    case 'metadatas':
      throw new SearchQueryError('metadatas needs a key, as in metadatas.color', field.start);
    default:
      throw new SearchQueryError(`unknown field ${field.name}`, field.start);
  }
}

function anything(spec: Spec): Tree<Condition> {
  if (spec.kind === 'any') return ALL;
  if (spec.kind !== 'value') throw new SearchQueryError(`a ${spec.kind} needs a field`, spec.start);
  const { word } = spec;
  const prefix = prefixOf(word);
  return leaf({ kind: 'anything', text: textOf(word), words: word.parts ? (prefix === null ? null : { kind: 'prefix', text: prefix }) : plainWords(word) });
}

function text(field: FieldName, spec: Spec, kind: 'album' | 'tag' | 'filename' | 'format', optional: OptionalField | null): Tree<Condition> {
  if (spec.kind === 'any') return optional ? leaf({ kind: 'exists', field: optional }) : ALL;
  if (spec.kind !== 'value') throw notRange(field, spec);
  return leaf({ kind, text: textOf(spec.word) });
}

function words(field: FieldName, spec: Spec, column: 'title' | 'description'): Tree<Condition> {
  if (spec.kind === 'any') return leaf({ kind: 'exists', field: column });
  if (spec.kind !== 'value') throw notRange(field, spec);
  const { word } = spec;
  if (word.parts) {
    const prefix = prefixOf(word);
    if (prefix === null) throw new SearchQueryError(`${field.name} takes only a trailing * (a word prefix, as in holi*)`, word.start);
    return leaf({ kind: 'words', column, words: { kind: 'prefix', text: prefix } });
  }
  return leaf({ kind: 'words', column, words: plainWords(word) });
}

function date(field: FieldName, spec: Spec, column: 'created_at' | 'taken_at'): Tree<Condition> {
  const expected = `${field.name}: a date is expected, as in 2024-05-01, 2024-05-01T10:00:00Z or now-7d`;
  const valueOf = (word: Word): DateValue => {
    const value = word.parts ? null : parseDate(word.text);
    if (!value) throw new SearchQueryError(expected, word.start);
    return value;
  };
  const bounds = boundsOf(spec, valueOf);
  if (!bounds) return column === 'taken_at' ? leaf({ kind: 'exists', field: 'taken_at' }) : ALL;
  const { lower, upper } = bounds;
  return leaf({
    kind: 'date',
    column,
    ...(lower && { lower: { value: lower.value, edge: lower.inclusive ? 'start' : 'end' } }),
    ...(upper && { upper: { value: upper.value, edge: upper.inclusive ? 'end' : 'start' } }),
  });
}

const INTEGER = /^[-+]?\d{1,10}$/;

function integer(field: FieldName, spec: Spec, column: 'width' | 'height'): Tree<Condition> {
  const valueOf = (word: Word): number => {
    const value = Number(word.text);
    if (word.parts || !INTEGER.test(word.text) || Math.abs(value) > 2_147_483_647) {
      throw new SearchQueryError(`${field.name}: an integer is expected`, word.start);
    }
    return value;
  };
  const bounds = boundsOf(spec, valueOf);
  return bounds ? leaf({ kind: 'integer', column, ...bounds }) : ALL;
}

function boolean(field: FieldName, spec: Spec): Tree<Condition> {
  if (spec.kind === 'any') return ALL;
  if (spec.kind !== 'value') throw notRange(field, spec);
  const text = spec.word.text.toLowerCase();
  if (spec.word.parts || (text !== 'true' && text !== 'false')) throw new SearchQueryError(`${field.name}: true or false is expected`, spec.word.start);
  return leaf({ kind: 'boolean', column: 'processed', value: text === 'true' });
}

/** A number as PostgreSQL's numeric reads it, at most 1000 characters and a 4-digit exponent (it cannot overflow). */
const DECIMAL = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d{1,4})?$/;
const isDecimal = (text: string) => text.length <= 1000 && DECIMAL.test(text);

function coordinate(field: FieldName, spec: Spec, axis: 'latitude' | 'longitude'): Tree<Condition> {
  const valueOf = (word: Word): string => {
    if (word.parts || !isDecimal(word.text)) throw new SearchQueryError(`${field.name}: a number is expected`, word.start);
    return word.text;
  };
  const bounds = boundsOf(spec, valueOf);
  return leaf(bounds ? { kind: 'coordinate', axis, ...bounds } : { kind: 'exists', field: 'gps' });
}

const BOX_HINT = 'gps takes a box, as in gps:[south,west TO north,east] (latitude,longitude corners)';

function box(field: FieldName, spec: Spec): Tree<Condition> {
  if (spec.kind === 'any') return leaf({ kind: 'exists', field: 'gps' });
  if (spec.kind !== 'range' || !spec.lower || !spec.upper) {
    throw new SearchQueryError(BOX_HINT, spec.kind === 'value' ? spec.word.start : spec.start);
  }
  const corner = (word: Word): [string, string] => {
    const [lat, lon, extra] = word.text.split(',');
    if (extra !== undefined || lat === undefined || lon === undefined || !isDecimal(lat) || !isDecimal(lon)) throw new SearchQueryError(BOX_HINT, word.start);
    if (Math.abs(Number(lat)) > 90) throw new SearchQueryError(`${field.name}: a latitude is between -90 and 90`, word.start);
    if (Math.abs(Number(lon)) > 180) throw new SearchQueryError(`${field.name}: a longitude is between -180 and 180`, word.start);
    return [lat, lon];
  };
  const [south, west] = corner(spec.lower);
  const [north, east] = corner(spec.upper);
  if (Number(south) > Number(north)) throw new SearchQueryError(`${field.name}: the first corner is the south-west one (its latitude is the lower)`, spec.lower.start);
  return leaf({ kind: 'box', south, west, north, east, wraps: Number(west) > Number(east), inclusive: { lower: spec.lowerInclusive, upper: spec.upperInclusive } });
}

function exists(spec: Spec): Tree<Condition> {
  if (spec.kind !== 'value' || spec.word.parts) {
    throw new SearchQueryError('_exists_ takes a field name, as in _exists_:title', spec.kind === 'value' ? spec.word.start : spec.start);
  }
  const { word } = spec;
  const path = word.text.split('.');
  if (path[0] === 'metadatas' && path.length > 1) return metadata({ name: word.text, path, start: word.start }, { kind: 'any', start: word.start });
  const name = ALIASES[word.text] ?? word.text;
  switch (name) {
    case 'title':
    case 'description':
    case 'taken_at':
    case 'gps':
    case 'tags':
    case 'filename':
    case 'format':
      return leaf({ kind: 'exists', field: name });
    case 'latitude':
    case 'longitude':
      return leaf({ kind: 'exists', field: 'gps' });
    // Always there.
    case 'album_id':
    case 'created_at':
    case 'width':
    case 'height':
    case 'processed':
      return ALL;
    case 'metadatas':
      throw new SearchQueryError('metadatas needs a key, as in metadatas.color', word.start);
    default:
      throw new SearchQueryError(`unknown field ${word.text}`, word.start);
  }
}

/** Keys in a metadatas path: each is a parameter of json_extract_path, which takes at most 100. */
const MAX_KEYS = 16;

/** `metadatas.<key>[.<key>…]`: the posted value as text (a number or boolean matches its spelling). */
function metadata(field: FieldName, spec: Spec): Tree<Condition> {
  const path = field.path.slice(1);
  if (path.some((key) => key === '')) throw new SearchQueryError(`${field.name}: a key is empty`, field.start);
  if (path.length > MAX_KEYS) throw new SearchQueryError(`${field.name}: too deep (at most ${MAX_KEYS} keys)`, field.start);
  switch (spec.kind) {
    case 'any':
      return leaf({ kind: 'metadata-exists', path });
    case 'value': {
      const { word } = spec;
      if (word.parts) return leaf({ kind: 'metadata-like', path, pattern: likeOf(word.parts) });
      return leaf({ kind: 'metadata-equals', path, candidates: jsonCandidates(path, word.text) });
    }
    default: {
      const bounds = boundsOf(spec, (word) => word.text)!;
      const numeric = [bounds.lower, bounds.upper].every((bound) => bound === undefined || isDecimal(bound.value));
      if (!bounds.lower && !bounds.upper) return leaf({ kind: 'metadata-exists', path });
      return leaf({ kind: 'metadata-range', path, numeric, ...bounds });
    }
  }
}

const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d{1,4})?$/;

/** The JSON documents `{"a":{"b":v}}` whose containment means "the value at a.b is v": as a string, and as the number or boolean it spells. */
function jsonCandidates(path: readonly string[], text: string): string[] {
  const values = [JSON.stringify(text)];
  if (text.length <= 1000 && JSON_NUMBER.test(text)) values.push(text);
  if (text === 'true' || text === 'false') values.push(text);
  return values.map((value) => path.reduceRight((inner, key) => `{${JSON.stringify(key)}:${inner}}`, value));
}

/**
 * A value, a comparison or a range as lower and upper bounds (each inclusive or not); null for
 * `[* TO *]` or `*`: anything. A plain value is both bounds, inclusive.
 */
function boundsOf<T>(spec: Spec, valueOf: (word: Word) => T): { lower?: Bound<T>; upper?: Bound<T> } | null {
  switch (spec.kind) {
    case 'any':
      return null;
    case 'value': {
      const value = valueOf(spec.word);
      return { lower: { value, inclusive: true }, upper: { value, inclusive: true } };
    }
    case 'compare': {
      const value = valueOf(spec.word);
      const inclusive = spec.op.length === 2;
      return spec.op[0] === '>' ? { lower: { value, inclusive } } : { upper: { value, inclusive } };
    }
    case 'range': {
      const lower = spec.lower && { value: valueOf(spec.lower), inclusive: spec.lowerInclusive };
      const upper = spec.upper && { value: valueOf(spec.upper), inclusive: spec.upperInclusive };
      if (!lower && !upper) return null;
      return { ...(lower && { lower }), ...(upper && { upper }) };
    }
  }
}

function notRange(field: FieldName, spec: Exclude<Spec, { kind: 'value' | 'any' }>): SearchQueryError {
  return new SearchQueryError(`${field.name} takes no ${spec.kind === 'range' ? 'range' : 'comparison'}`, spec.start);
}

function textOf(word: Word): Text {
  return { exact: word.text, like: word.parts ? likeOf(word.parts) : null };
}

/** LIKE's own characters (`%`, `_` and its escape `\`) are escaped in the literal parts. */
function likeOf(parts: NonNullable<Word['parts']>): string {
  return parts.map((part) => (typeof part === 'string' ? part.replace(/[\\%_]/g, '\\$&') : part === STAR ? '%' : '_')).join('');
}

/** `holi*`: the prefix; null when the word has other wildcards. */
function prefixOf(word: Word): string | null {
  const parts = word.parts;
  if (!parts || parts.length !== 2 || typeof parts[0] !== 'string' || parts[1] !== STAR) return null;
  return parts[0];
}

function plainWords(word: Word): Words {
  return { kind: word.quoted ? 'phrase' : 'plain', text: word.text };
}
