import { SearchQueryError } from './error.js';
import { and, leaf, not, or, ALL, type Tree } from './tree.js';

/**
 * The query syntax: the subset of Elasticsearch's `query_string` that integrators write, read by
 * a hand-written recursive-descent parser in one pass (time linear in the query's length; the
 * npm parsers we measured, liqe and lucene, took seconds or ran out of memory on some
 * 50-100 character queries). Fields are not known here: a clause is a field name (or none) and
 * a value as written; `fields.ts` gives them meaning.
 *
 *     query    := orList
 *     orList   := andExpr ( [OR | "||"] andExpr )*      juxtaposition means OR
 *     andExpr  := unary ( (AND | "&&") unary )*
 *     unary    := (NOT | "!")* ["+" | "-"] primary
 *     primary  := "(" orList ")" | clause
 *     clause   := [field ":"] ( "(" orList ")" | value | range | (">" | ">=" | "<" | "<=") value )
 *
 * As in Elasticsearch, within an OR list a `+clause` is required and a `-clause` or
 * `NOT clause` excludes: `cat -dog` and `cat OR NOT dog` are cats that are not dogs, `+cat dog`
 * is cats; a list of exclusions alone (`-dog`) is everything else.
 */

export interface SearchLimits {
  /** Characters (UTF-16 code units) in `q`; default 1024. */
  maxLength: number;
  /** Clauses (terms, `field:value`, ranges); default 64. */
  maxTerms: number;
  /** Nested parentheses, field groups included; default 16. */
  maxDepth: number;
}

export const DEFAULT_LIMITS: SearchLimits = { maxLength: 1024, maxTerms: 64, maxDepth: 16 };

export const STAR = { wildcard: '*' } as const;
export const QUESTION = { wildcard: '?' } as const;
export type Wildcard = typeof STAR | typeof QUESTION;

/** A value as written, escapes resolved. */
export interface Word {
  /** The text (wildcards as written). */
  readonly text: string;
  /** Literal strings and wildcards, when the word has unescaped `*` or `?`; null otherwise (quoted words never). */
  readonly parts: readonly (string | Wildcard)[] | null;
  readonly quoted: boolean;
  readonly start: number;
}

export interface FieldName {
  /** As written, escapes resolved. */
  readonly name: string;
  /** The name split at its unescaped dots (`metadatas.a.b` → `metadatas`, `a`, `b`). */
  readonly path: readonly string[];
  readonly start: number;
}

export type Spec =
  | { readonly kind: 'value'; readonly word: Word }
  | { readonly kind: 'compare'; readonly op: '>' | '>=' | '<' | '<='; readonly word: Word; readonly start: number }
  | {
      readonly kind: 'range';
      /** null: `*` (unbounded). */
      readonly lower: Word | null;
      readonly upper: Word | null;
      readonly lowerInclusive: boolean;
      readonly upperInclusive: boolean;
      readonly start: number;
    }
  /** `*` alone: anything (a field that has a value). */
  | { readonly kind: 'any'; readonly start: number };

export interface Clause {
  /** null: a bare term. */
  readonly field: FieldName | null;
  readonly spec: Spec;
  readonly start: number;
}

export function parseSyntax(q: string, limits: SearchLimits): Tree<Clause> {
  return new Parser(q, limits).query();
}

/** An item of an OR list with how it takes part (see the module comment). */
interface Item {
  tree: Tree<Clause>;
  negated: boolean;
  required: boolean;
}

type Keyword = 'AND' | 'OR' | 'NOT';
const KEYWORDS: readonly [string, Keyword][] = [
  ['AND', 'AND'],
  ['OR', 'OR'],
  ['NOT', 'NOT'],
  ['&&', 'AND'],
  ['||', 'OR'],
];
/** Characters that end a word; `:` too, in a field name. */
const DELIMITERS = new Set(['(', ')', '"', '[', ']', '{', '}']);
const isSpace = (c: string | undefined): boolean => c !== undefined && /\s/.test(c);

class Parser {
  private i = 0;
  private terms = 0;
  private depth = 0;

  constructor(
    private readonly q: string,
    private readonly limits: SearchLimits,
  ) {}

  query(): Tree<Clause> {
    const { q, limits } = this;
    if (q.length > limits.maxLength) throw new SearchQueryError(`too long (at most ${limits.maxLength} characters)`, limits.maxLength);
    checkCharacters(q);
    this.skipSpace();
    if (this.atEnd()) return ALL;
    const tree = this.orList(null);
    if (!this.atEnd()) throw new SearchQueryError('unbalanced parentheses: ) without (', this.i);
    return tree;
  }

  /** Up to the end or a `)`, left for the caller. */
  private orList(field: FieldName | null): Tree<Clause> {
    const items: Item[] = [];
    for (;;) {
      this.skipSpace();
      if (this.atEnd() || this.peek() === ')') break;
      const keyword = this.keyword();
      if (keyword?.word === 'AND' || (keyword?.word === 'OR' && items.length === 0)) {
        throw new SearchQueryError(`${keyword.word} needs a term before it`, this.i);
      }
      if (keyword?.word === 'OR') {
        this.i += keyword.length;
        this.expectTermAfter('OR');
      }
      items.push(this.andExpr(field));
    }
    if (items.length === 0) throw new SearchQueryError('a term is expected', this.i);
    return combine(items);
  }

  private andExpr(field: FieldName | null): Item {
    const first = this.unary(field);
    const rest: Item[] = [];
    for (;;) {
      const save = this.i;
      this.skipSpace();
      const keyword = this.keyword();
      if (keyword?.word !== 'AND') {
        this.i = save;
        break;
      }
      this.i += keyword.length;
      this.expectTermAfter('AND');
      rest.push(this.unary(field));
    }
    if (rest.length === 0) return first;
    // Within AND, `+` adds nothing and `-` is NOT.
    return { tree: and([first, ...rest].map((item) => (item.negated ? not(item.tree) : item.tree))), negated: false, required: false };
  }

  private unary(field: FieldName | null): Item {
    let negated = false;
    for (let keyword = this.keyword(); keyword?.word === 'NOT'; keyword = this.keyword()) {
      this.i += keyword.length;
      this.expectTermAfter('NOT');
      negated = !negated;
    }
    let required = false;
    const c = this.peek();
    if (c === '+' || c === '-') {
      const next = this.q[this.i + 1];
      if (next === undefined || isSpace(next) || next === ')') throw new SearchQueryError(`a term is expected after ${c}`, this.i + 1);
      if (c === '-') negated = !negated;
      else required = true;
      this.i++;
    }
    const keyword = this.keyword();
    if (keyword) throw new SearchQueryError(`a term is expected, not ${keyword.word}`, this.i);
    const tree = this.peek() === '(' ? this.group(field) : this.clause(field);
    return { tree, negated, required };
  }

  private group(field: FieldName | null): Tree<Clause> {
    const open = this.i;
    if (++this.depth > this.limits.maxDepth) throw new SearchQueryError(`too deeply nested (at most ${this.limits.maxDepth} levels)`, open);
    this.i++;
    const tree = this.orList(field);
    if (this.peek() !== ')') throw new SearchQueryError('unbalanced parentheses: ( without )', open);
    this.i++;
    this.depth--;
    return tree;
  }

  private clause(field: FieldName | null): Tree<Clause> {
    const start = this.i;
    const c = this.peek()!;
    if (c === '"') return this.leaf(field, { kind: 'value', word: this.phrase() }, start);
    if (c === '[' || c === '{') {
      if (!field) throw new SearchQueryError('a range needs a field, as in width:[100 TO 200]', start);
      return this.leaf(field, this.range(), start);
    }
    if (c === '>' || c === '<') {
      if (!field) throw new SearchQueryError('a comparison needs a field, as in width:>100', start);
      return this.leaf(field, this.compare(), start);
    }
    this.refuseStart(c);
    const word = this.word(false);
    if (this.peek() !== ':') return this.leaf(field, isStar(word) ? { kind: 'any', start } : { kind: 'value', word }, start);
    if (word.parts) throw new SearchQueryError('a field name cannot have wildcards', start);
    const name: FieldName = { name: word.text, path: splitPath(this.q, start, this.i), start };
    this.i++;
    this.skipSpace();
    return this.fieldValue(name);
  }

  /** What follows `field:`. */
  private fieldValue(field: FieldName): Tree<Clause> {
    const start = this.i;
    const c = this.peek();
    if (c === undefined || c === ')' || this.keyword()) throw new SearchQueryError(`a value is expected after ${field.name}:`, start);
    if (c === '(') return this.group(field);
    if (c === '"') return this.leaf(field, { kind: 'value', word: this.phrase() }, start);
    if (c === '[' || c === '{') return this.leaf(field, this.range(), start);
    if (c === '>' || c === '<') return this.leaf(field, this.compare(), start);
    this.refuseStart(c);
    const word = this.word(true);
    return this.leaf(field, isStar(word) ? { kind: 'any', start } : { kind: 'value', word }, start);
  }

  private leaf(field: FieldName | null, spec: Spec, start: number): Tree<Clause> {
    if (++this.terms > this.limits.maxTerms) throw new SearchQueryError(`too many terms (at most ${this.limits.maxTerms})`, start);
    return leaf({ field, spec, start });
  }

  private compare(): Spec {
    const start = this.i;
    let op = this.q[this.i++] as '>' | '<' | '>=' | '<=';
    if (this.peek() === '=') {
      op = `${op}=` as '>=' | '<=';
      this.i++;
    }
    const c = this.peek();
    if (c === undefined || isSpace(c) || c === ')' || c === '(' || c === '[' || c === '{') throw new SearchQueryError(`a value is expected after ${op}`, this.i);
    if (c !== '"') this.refuseStart(c);
    const word = c === '"' ? this.phrase() : this.word(true);
    return { kind: 'compare', op, word, start };
  }

  private range(): Spec {
    const start = this.i;
    const lowerInclusive = this.q[this.i++] === '[';
    this.skipSpace();
    const lower = this.bound(start);
    if (!this.skipSpace() || !this.q.startsWith('TO', this.i)) throw new SearchQueryError('TO is expected between the bounds of a range, as in [1 TO 5]', this.i);
    this.i += 2;
    if (!this.skipSpace()) throw new SearchQueryError('a space is expected after TO', this.i);
    const upper = this.bound(start);
    this.skipSpace();
    const close = this.peek();
    if (close !== ']' && close !== '}') {
      if (this.atEnd()) throw new SearchQueryError('unbalanced range: no ] or } closes it', start);
      throw new SearchQueryError('] or } is expected to close the range', this.i);
    }
    this.i++;
    return { kind: 'range', lower, upper, lowerInclusive, upperInclusive: close === ']', start };
  }

  /** A range bound: a quoted string, `*` (none), or anything up to a space, `]` or `}` (wildcards are literal there). */
  private bound(rangeStart: number): Word | null {
    if (this.atEnd()) throw new SearchQueryError('unbalanced range: no ] or } closes it', rangeStart);
    if (this.peek() === '"') return this.phrase();
    const start = this.i;
    let text = '';
    while (!this.atEnd()) {
      const c = this.q[this.i]!;
      if (isSpace(c) || c === ']' || c === '}') break;
      if (c === '\\') {
        text += this.escaped();
        continue;
      }
      text += c;
      this.i++;
    }
    if (this.i === start) throw new SearchQueryError('a bound is expected', start);
    if (text === '*' && this.i === start + 1) return null;
    return { text, parts: null, quoted: false, start };
  }

  /** Characters up to a space, a delimiter (or `:` when `colon` is false); `*` and `?` are wildcards, `\` escapes. */
  private word(colon: boolean): Word {
    const start = this.i;
    let text = '';
    let literal = '';
    let parts: (string | Wildcard)[] | null = null;
    while (!this.atEnd()) {
      const c = this.q[this.i]!;
      if (isSpace(c) || DELIMITERS.has(c) || (c === ':' && !colon)) break;
      if (c === '^') throw new SearchQueryError('boosts (^) are not supported', this.i);
      if (c === '~') throw new SearchQueryError('fuzzy and proximity searches (~) are not supported', this.i);
      if (c === '\\') {
        const e = this.escaped();
        text += e;
        literal += e;
        continue;
      }
      text += c;
      this.i++;
      if (c === '*' || c === '?') {
        parts ??= [];
        if (literal) parts.push(literal);
        parts.push(c === '*' ? STAR : QUESTION);
        literal = '';
      } else {
        literal += c;
      }
    }
    if (parts && literal) parts.push(literal);
    return { text, parts, quoted: false, start };
  }

  /** `"…"`; `\` escapes the next character. */
  private phrase(): Word {
    const start = this.i++;
    let text = '';
    for (;;) {
      if (this.atEnd()) throw new SearchQueryError('unbalanced quotes: " without "', start);
      const c = this.q[this.i]!;
      if (c === '"') break;
      if (c === '\\') {
        if (this.i + 1 >= this.q.length) throw new SearchQueryError('unbalanced quotes: " without "', start);
        text += this.escaped();
        continue;
      }
      text += c;
      this.i++;
    }
    this.i++;
    const after = this.peek();
    if (after === '~') throw new SearchQueryError('fuzzy and proximity searches (~) are not supported', this.i);
    if (after === '^') throw new SearchQueryError('boosts (^) are not supported', this.i);
    return { text, parts: null, quoted: true, start };
  }

  /** At a `\`: the character it escapes (a low surrogate that follows comes as an ordinary character). */
  private escaped(): string {
    const next = this.q[this.i + 1];
    if (next === undefined) throw new SearchQueryError('a character is expected after \\', this.i);
    this.i += 2;
    return next;
  }

  private refuseStart(c: string): void {
    if (c === '/') throw new SearchQueryError('regular expressions are not supported', this.i);
    if (c === ']' || c === '}' || c === ':') throw new SearchQueryError(`unexpected ${c}`, this.i);
  }

  /** After an operator: a term must follow. */
  private expectTermAfter(operator: string): void {
    this.skipSpace();
    const keyword = this.keyword();
    if (this.atEnd() || this.peek() === ')' || (keyword && keyword.word !== 'NOT')) {
      throw new SearchQueryError(`a term is expected after ${operator}`, this.i);
    }
  }

  /** An operator at the cursor: `AND`, `OR`, `NOT` as whole words, `&&`, `||`, `!`. */
  private keyword(): { word: Keyword; length: number } | null {
    const { q, i } = this;
    for (const [text, word] of KEYWORDS) {
      if (!q.startsWith(text, i)) continue;
      const after = q[i + text.length];
      if (text[0] === '&' || text[0] === '|' || after === undefined || isSpace(after) || after === '(' || after === ')' || after === '"') {
        return { word, length: text.length };
      }
    }
    return q[i] === '!' ? { word: 'NOT', length: 1 } : null;
  }

  /** Skips white space; whether there was any. */
  private skipSpace(): boolean {
    const start = this.i;
    while (isSpace(this.q[this.i])) this.i++;
    return this.i > start;
  }

  private peek(): string | undefined {
    return this.q[this.i];
  }

  private atEnd(): boolean {
    return this.i >= this.q.length;
  }
}

/** An OR list with Elasticsearch's occurrence rules: required and excluded items, the rest optional. */
function combine(items: Item[]): Tree<Clause> {
  if (items.length === 1) {
    const [item] = items as [Item];
    return item.negated ? not(item.tree) : item.tree;
  }
  const required = items.filter((item) => item.required && !item.negated).map((item) => item.tree);
  const excluded = items.filter((item) => item.negated).map((item) => not(item.tree));
  const optional = items.filter((item) => !item.required && !item.negated).map((item) => item.tree);
  return and([...required, ...excluded, ...(required.length === 0 && optional.length > 0 ? [or(optional)] : [])]);
}

function isStar(word: Word): boolean {
  return word.parts !== null && word.parts.length === 1 && word.parts[0] === STAR;
}

/** The field name written between `start` and `end`, split at unescaped dots, escapes resolved. */
function splitPath(q: string, start: number, end: number): string[] {
  const path: string[] = [];
  let segment = '';
  for (let i = start; i < end; i++) {
    const c = q[i]!;
    if (c === '\\' && i + 1 < end) segment += q[++i];
    else if (c === '.') {
      path.push(segment);
      segment = '';
    } else segment += c;
  }
  path.push(segment);
  return path;
}

/**
 * PostgreSQL text cannot hold U+0000, and a lone surrogate cannot be encoded (in JSON, jsonb
 * refuses it): both are refused here rather than failing in the database.
 */
function checkCharacters(q: string): void {
  for (let i = 0; i < q.length; i++) {
    const code = q.charCodeAt(i);
    if (code === 0) throw new SearchQueryError('the NUL character is not allowed', i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = q.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else throw new SearchQueryError('invalid character (a lone surrogate)', i);
    } else if (code >= 0xdc00 && code <= 0xdfff) {
      throw new SearchQueryError('invalid character (a lone surrogate)', i);
    }
  }
}
