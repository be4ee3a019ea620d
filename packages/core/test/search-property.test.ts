import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/schema.js';
import { compileSearch, FIELD_NAMES, matchAll, parseSearch, SearchQueryError, type ParsedSearch } from '../src/search/index.js';
import { createTestApp, DIALECTS, type TestApp } from './support/app.js';
import { createTenant, type Tenant } from './support/fixtures.js';

/**
 * No query can make the search fail: any string is parsed or refused with a SearchQueryError
 * (never another error), and a parsed query runs on the database without error, finds only
 * images of the organization searched, finds the same with tags looked up either way, and is
 * the exact complement of its negation. The parser stays linear on the inputs that made
 * Earley and PEG parsers blow up.
 */

const FIELDS = [
  // Every field a client may write (metadatas with real keys), and some it may not.
  ...FIELD_NAMES.filter((name) => name !== 'metadatas.<key>'),
  'metadatas.color',
  'metadatas.count',
  'metadatas.a.b',
  'metadatas.bad',
  'metadatas',
  'nope',
  'Title',
];
const VALUES = [
  'beach',
  'Beach',
  'sun*',
  '*each',
  'b?ach',
  '*',
  '?',
  '%',
  '_',
  '\\',
  "'",
  "a'b",
  '\\*',
  'a\\:b',
  '00D24000000Yp7gEAC',
  '5',
  '-5',
  '12.50',
  '1e400',
  '1e9999',
  '99999999999',
  'true',
  'false',
  '2024-05-01',
  '2024-05',
  '2024',
  '2024-05-01T10:00:00Z',
  '2024-05-01T10:00',
  '2024-02-30',
  'now',
  'now-7d',
  'now+1M/d',
  'now-999999999y',
  '45,6',
  '-20,170',
  '95,0',
  'title',
  'metadatas.color',
  'tags',
  'gps',
  'é',
  '日本',
  '😀',
  '\u00a0',
  'AND',
  'NOT',
];

const word = fc.oneof(fc.constantFrom(...VALUES), fc.string({ unit: fc.constantFrom(...'ab1_%*?\\\'.-:é'), minLength: 1, maxLength: 6 }));
// A backslash before the closing quote escapes it: doubled there, so that most phrases close.
const quoted = fc.string({ unit: fc.constantFrom(...'ab "\\*?\'é'), maxLength: 8 }).map((s) => `"${s.replace(/\\$/, '\\\\')}"`);
const value = fc.oneof(word, quoted);
const bound = fc.oneof(fc.constantFrom('*', ...VALUES.filter((v) => !/[\s\\]/.test(v))), quoted);
const range = fc
  .tuple(fc.constantFrom('[', '{'), bound, bound, fc.constantFrom(']', '}'))
  .map(([open, lower, upper, close]) => `${open}${lower} TO ${upper}${close}`);
const comparison = fc.tuple(fc.constantFrom('>', '>=', '<', '<='), value).map(([op, v]) => `${op}${v}`);
const spec = fc.oneof(value, range, comparison);
const clause = fc.oneof(value, fc.tuple(fc.constantFrom(...FIELDS), spec).map(([f, s]) => `${f}:${s}`));
const separator = fc.constantFrom(' ', '  ', ' AND ', ' OR ', ' && ', ' || ', ' AND NOT ', ' OR NOT ', ' ');
const { expression } = fc.letrec<{ expression: string }>((tie) => ({
  expression: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    clause,
    fc.tuple(tie('expression'), separator, tie('expression')).map(([a, op, b]) => `${a}${op}${b}`),
    fc.tuple(fc.constantFrom('NOT ', '-', '+', '!'), tie('expression')).map(([op, e]) => `${op}${e}`),
    tie('expression').map((e) => `(${e})`),
    fc.tuple(fc.constantFrom(...FIELDS), tie('expression')).map(([f, e]) => `${f}:(${e})`),
  ),
}));
/** Any characters, the syntax's own often; any UTF-16 code units (lone surrogates, NUL); and grammar-shaped queries. */
const query = fc.oneof(
  fc.string({ unit: fc.constantFrom(...'ab :"()[]{}<>=+-!&|\\^~/*?._%,0123456789TOANDR é\u0000'), maxLength: 60 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  expression,
);

/** Parsed, or null when refused; anything but a SearchQueryError fails the property. */
function tryParse(q: string): ParsedSearch | null {
  try {
    return parseSearch(q);
  } catch (error) {
    if (!(error instanceof SearchQueryError)) throw error;
    expect(Number.isInteger(error.position) && error.position >= 0 && error.position <= q.length).toBe(true);
    return null;
  }
}

const LITERALS = ["'simple'", "''", "'null'"];
const IDENTIFIERS = ['images', 'tags', 'tag_images', 'id', 'organization_id', 'album_id', 'filename', 'format', 'metadatas', 'gps', 'title', 'description']
  .concat(['width', 'height', 'processed', 'created_at', 'taken_at', 'name', 'tag_id', 'image_id', 'found']);
const compiler = new Kysely<Database>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

describe('search queries, parsed', () => {
  it('are parsed or refused with a SearchQueryError at a position in q, and compile', () => {
    fc.assert(
      fc.property(query, (q) => {
        const parsed = tryParse(q);
        if (!parsed || matchAll(parsed)) return;
        const organizationId = randomUUID();
        for (const options of [{}, { organizationId }]) {
          const { sql } = compiler.selectFrom('images').select('id').where(compileSearch(parsed, options)).compile();
          // User text only ever in parameters: the SQL's literals and identifiers are the compiler's own.
          for (const literal of sql.match(/'(?:[^']|'')*'/g) ?? []) expect(LITERALS).toContain(literal);
          for (const identifier of sql.match(/"(?:[^"]|"")*"/g) ?? []) expect(IDENTIFIERS).toContain(identifier.slice(1, -1));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('stay linear: 1024 characters of what makes other parsers blow up take well under 50 ms', () => {
    const fill = (unit: string, length = 1024) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
    const inputs = [
      fill('('),
      `${'('.repeat(512)}a${')'.repeat(511)}`,
      fill('(a) '),
      fill('( a ) '),
      fill('(a) OR '),
      fill('a OR '),
      fill('a AND '),
      fill('a '),
      fill('"'),
      fill('"a" "'),
      fill('*?'),
      fill('*? '),
      fill('NOT '),
      fill('NOT ('),
      fill('(a OR (b OR '),
      `${'NOT ('.repeat(15)}a:${')'.repeat(15)}`,
      `${'(a AND '.repeat(15)}a ^ ${')'.repeat(15)}`,
      fill('-'),
      fill('\\'),
      fill('a:'),
      fill('[a TO '),
      fill('x:[1 TO 2] '),
      fill('1'),
      fill('a.'),
      fill(' '),
      `metadatas.${fill('a.', 1000)}:x`,
    ];
    let slowest = 0;
    for (const q of inputs) {
      const started = performance.now();
      tryParse(q);
      slowest = Math.max(slowest, performance.now() - started);
    }
    expect(slowest).toBeLessThan(50);
  });
});

describe.each(DIALECTS)('search queries on %s', (dialect) => {
  let app: TestApp;
  let searched: Tenant;
  const everything = new Set<string>();

  beforeAll(async () => {
    app = await createTestApp(dialect);
    searched = await createTenant(app);
    const other = await createTenant(app);
    for (const tenant of [searched, other]) {
      const ids = await insertImages(tenant);
      if (tenant === searched) for (const id of ids) everything.add(id);
    }
  });
  afterAll(() => app?.close());

  /** The same images in both organizations, odd ones among them. */
  async function insertImages(tenant: Tenant): Promise<string[]> {
    const organizationId = tenant.organization.id;
    const rows = [
      { album: '00D24000000Yp7gEAC', filename: 'Sunset_Beach.JPG', title: 'Summer at the beach', metadatas: '{"color":"red","count":5,"a":{"b":"c"}}', gps: '[45.5, 6.1]', tags: ['Beach'] },
      { album: 'album-two', filename: '50%_off.png', title: null, metadatas: '{"color":"Red","count":"12"}', gps: '[-17.7, 178]', tags: ['b?ach', "a'b"] },
      { album: 'album-two', filename: null, title: '', metadatas: '{"bad":"\\u0000","color":"red"}', gps: '["\\u0000", 1]', tags: [] },
      { album: 'pacific', filename: 'é.jpg', title: '日本 😀', metadatas: '{"count":1e400,"a":[1,2]}', gps: '{"lat":1}', tags: ['日本'] },
      { album: 'pacific', filename: '\\*.jpg', title: "a'b \\", metadatas: '{"count":"1e9999","color":null}', gps: null, tags: [] },
    ];
    const ids: string[] = [];
    for (const [n, row] of rows.entries()) {
      await app.albumkit.repositories.albums.findOrCreate(organizationId, row.album);
      const id = randomUUID();
      await app.database.db
        .insertInto('images')
        .values({
          id,
          organization_id: organizationId,
          album_id: row.album,
          user_id: null,
          upload_key: null,
          cloudinary_public_id: `property-${id}`,
          cloudinary_version: '1',
          cloudinary_type: 'authenticated',
          infos: '{}',
          exifs: '{}',
          metadatas: row.metadatas,
          gps: row.gps,
          gps_ip: null,
          gps_exifs: null,
          gps_html: null,
          taken_at: n % 2 ? new Date('2024-04-30T18:30:00Z') : null,
          width: 640 * (n + 1),
          height: 480,
          original_width: 640,
          original_height: 480,
          filename: row.filename,
          format: n % 2 ? 'jpg' : null,
          title: row.title,
          description: n % 3 ? 'golden light' : null,
          group_id: null,
          processing_error: null,
          reported_at: null,
          processed: n % 2 === 0,
          created_at: new Date(Date.UTC(2024, 4, 1 + n)),
        })
        .execute();
      await app.albumkit.repositories.images.addTags(id, row.tags);
      ids.push(id);
    }
    return ids;
  }

  async function run(parsed: ParsedSearch, organizationId?: string): Promise<string[]> {
    let query = app.database.db
      .selectFrom('images')
      .select(['id', 'organization_id'])
      .where('organization_id', '=', searched.organization.id)
      .where('deleted_at', 'is', null);
    if (!matchAll(parsed)) query = query.where(compileSearch(parsed, organizationId ? { organizationId } : {}));
    const rows = await query.execute();
    expect(rows.every((row) => row.organization_id === searched.organization.id && everything.has(row.id))).toBe(true);
    return rows.map((row) => row.id).sort();
  }

  it('run without error, in the organization only, the same either way, the complement of their negation', async () => {
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        const parsed = tryParse(q);
        if (!parsed) return;
        const found = await run(parsed);
        expect(await run(parsed, searched.organization.id)).toEqual(found);
        const negation = tryParse(`NOT (${q})`);
        if (!negation) return;
        const rest = await run(negation);
        expect([...found, ...rest].sort()).toEqual([...everything].sort());
      }),
      { numRuns: 500 },
    );
  });
});
