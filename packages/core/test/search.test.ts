import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadRequest } from '../src/errors.js';
import { compileSearch, matchAll, parseSearch, SearchQueryError, type CompileOptions } from '../src/search/index.js';
import { createTestApp, DIALECTS, type TestApp } from './support/app.js';
import { createTenant, type Tenant } from './support/fixtures.js';

/**
 * The search query language on real databases: for each field and operator, exactly which
 * images of the organization a query finds (scoped as GET /search scopes it: organization and
 * live rows); each malformed query a 400 at the position of its fault; and the indexes of
 * migration 0013 usable by the SQL it compiles to.
 */

const ALBUM = '00D24000000Yp7gEAC';
/** When `now` is, for the relative dates. */
const NOW = new Date('2024-05-05T00:00:00Z');

interface Fixture {
  album: string;
  filename?: string | null;
  title?: string | null;
  description?: string | null;
  format?: string | null;
  width?: number;
  height?: number;
  processed?: boolean;
  created_at: string;
  taken_at?: string | null;
  /** JSON text, as stored. */
  gps?: string | null;
  metadatas?: string;
  tags?: string[];
}

const FIXTURES: Record<string, Fixture> = {
  sunset: {
    album: ALBUM,
    filename: 'Sunset_Beach-2024.JPG',
    title: 'Summer holiday at the beach',
    description: 'golden light',
    format: 'jpg',
    width: 4000,
    height: 3000,
    processed: true,
    created_at: '2024-05-01T10:00:00Z',
    taken_at: '2024-04-30T18:30:00Z',
    gps: '[45.5, 6.1]',
    metadatas: '{"color":"red","count":5,"flag":true,"nested":{"level":"deep"},"price":"12.50"}',
    tags: ['Beach', 'summer'],
  },
  mountain: {
    album: 'album-two',
    filename: 'mountain_view.png',
    title: 'Mountain view',
    description: 'snow and rocks',
    format: 'PNG',
    width: 1920,
    height: 1080,
    created_at: '2024-05-02T00:00:00Z',
    gps: '[46.2, 7.0]',
    metadatas: '{"color":"blue","count":"12","flag":false}',
    tags: ['mountain'],
  },
  city: {
    album: ALBUM,
    filename: '50%_off sale.jpg',
    description: 'city lights summer',
    format: 'jpg',
    width: 800,
    height: 600,
    created_at: '2024-04-30T23:59:59.999Z',
    gps: '[-33.9, 151.2]',
    metadatas: '{"color":"Red","count":7.0}',
  },
  // A number beyond any float: compared as numeric, never cast.
  fiji: { album: 'pacific', filename: 'IMG_0001.jpg', format: 'jpg', created_at: '2023-01-01T00:00:00Z', gps: '[-17.7, 178.0]', metadatas: '{"count":1e400}' },
  samoa: { album: 'pacific', filename: 'IMG_0002.jpg', format: 'jpg', created_at: '2023-01-01T00:00:00Z', gps: '[-13.8, -171.7]' },
  // What json takes and jsonb or a number cast would not: found by nothing that reads it, and never an error.
  odd: { album: 'pacific', filename: null, created_at: '2023-01-01T00:00:00Z', gps: '["north", "east"]', metadatas: '{"bad":"\\u0000","color":"red"}' },
};
const EVERYTHING = Object.keys(FIXTURES).sort();

describe.each(DIALECTS)('search query language on %s', (dialect) => {
  let app: TestApp;
  let acme: Tenant;
  let other: Tenant;
  /** Image id → fixture name. */
  const names = new Map<string, string>();

  beforeAll(async () => {
    app = await createTestApp(dialect);
    acme = await createTenant(app);
    other = await createTenant(app);
    for (const [name, fixture] of Object.entries(FIXTURES)) {
      names.set(await insertImage(acme, fixture), name);
      // The same images in another organization: never found.
      await insertImage(other, fixture);
    }
  });
  afterAll(() => app?.close());

  async function insertImage(tenant: Tenant, f: Fixture): Promise<string> {
    const { db } = app.database;
    const organizationId = tenant.organization.id;
    await app.albumkit.repositories.albums.findOrCreate(organizationId, f.album);
    const id = randomUUID();
    await db
      .insertInto('images')
      .values({
        id,
        organization_id: organizationId,
        album_id: f.album,
        user_id: null,
        upload_key: null,
        cloudinary_public_id: `search-${id}`,
        cloudinary_version: '1',
        cloudinary_type: 'authenticated',
        infos: '{}',
        exifs: '{}',
        metadatas: f.metadatas ?? '{}',
        gps: f.gps ?? null,
        gps_ip: null,
        gps_exifs: null,
        gps_html: null,
        taken_at: f.taken_at ? new Date(f.taken_at) : null,
        width: f.width ?? 640,
        height: f.height ?? 480,
        original_width: f.width ?? 640,
        original_height: f.height ?? 480,
        filename: f.filename === undefined ? 'image.jpg' : f.filename,
        format: f.format ?? null,
        title: f.title ?? null,
        description: f.description ?? null,
        group_id: null,
        processing_error: null,
        reported_at: null,
        processed: f.processed ?? false,
        created_at: f.created_at,
      })
      .execute();
    if (f.tags) await app.albumkit.repositories.images.addTags(id, f.tags);
    return id;
  }

  /** As GET /search runs it: the organization's live images, then the query's condition. */
  function scoped(q: string, options: CompileOptions = {}) {
    const parsed = parseSearch(q);
    let query = app.database.db.selectFrom('images').select(['id', 'organization_id']).where('organization_id', '=', acme.organization.id).where('deleted_at', 'is', null);
    if (!matchAll(parsed)) query = query.where(compileSearch(parsed, { now: NOW, ...options }));
    return query;
  }

  /** The fixture names found, sorted; the same with tags looked up per organization or per image. */
  async function search(q: string): Promise<string[]> {
    const perImage = await scoped(q).execute();
    const perOrganization = await scoped(q, { organizationId: acme.organization.id }).execute();
    expect(perImage.every((row) => row.organization_id === acme.organization.id)).toBe(true);
    const found = perImage.map((row) => names.get(row.id)!).sort();
    expect(perOrganization.map((row) => names.get(row.id)!).sort()).toEqual(found);
    return found;
  }

  const cases: [string, string[]][] = [
    // Everything.
    ['', EVERYTHING],
    ['*', EVERYTHING],
    // Bare terms: album id, tag name (any case), a part of the file name, a word of title or description.
    [ALBUM, ['city', 'sunset']],
    ['beach', ['sunset']],
    ['BEACH', ['sunset']],
    ['view', ['mountain']],
    ['light', ['sunset']],
    ['ligh', []],
    ['sun*', ['sunset']],
    ['summ*', ['city', 'sunset']],
    ['"summer holiday"', ['sunset']],
    ['"holiday summer"', []],
    ['50%_off', ['city']],
    ['%', ['city']],
    ['IMG_000?', ['fiji', 'samoa']],
    ['""', []],
    // Operators; juxtaposition is OR.
    ['mountain sunset', ['mountain', 'sunset']],
    ['mountain OR sunset', ['mountain', 'sunset']],
    ['mountain || sunset', ['mountain', 'sunset']],
    ['summer AND city', ['city']],
    ['summer && city', ['city']],
    ['NOT summer', ['fiji', 'mountain', 'odd', 'samoa']],
    ['!summer', ['fiji', 'mountain', 'odd', 'samoa']],
    ['-summer', ['fiji', 'mountain', 'odd', 'samoa']],
    ['NOT NOT summer', ['city', 'sunset']],
    ['summer -city', ['sunset']],
    ['summer OR NOT city', ['sunset']],
    ['+summer mountain', ['city', 'sunset']],
    ['(mountain OR city) AND -tags:mountain', ['city']],
    ['mountain OR city AND light', ['mountain']],
    ['tags:(beach OR mountain)', ['mountain', 'sunset']],
    ['x OR *', EVERYTHING],
    ['NOT *', []],
    // album_id
    [`album_id:${ALBUM}`, ['city', 'sunset']],
    ['album:album-two', ['mountain']],
    ['album:00D*', ['city', 'sunset']],
    ['album:00d24000000yp7geac', []],
    ['album:pacifi?', ['fiji', 'odd', 'samoa']],
    // tags
    ['tags:beach', ['sunset']],
    ['tag:SUMMER', ['sunset']],
    ['tags:mount*', ['mountain']],
    ['tags:*', ['mountain', 'sunset']],
    ['_exists_:tags', ['mountain', 'sunset']],
    ['NOT _exists_:tags', ['city', 'fiji', 'odd', 'samoa']],
    // filename
    ['filename:beach', ['sunset']],
    ['name:.png', ['mountain']],
    ['filename:img_*1', ['fiji']],
    ['NOT filename:img', ['city', 'mountain', 'odd', 'sunset']],
    ['_exists_:filename', ['city', 'fiji', 'mountain', 'samoa', 'sunset']],
    // title, description
    ['title:holiday', ['sunset']],
    ['title:HOLIDAY', ['sunset']],
    ['title:holi*', ['sunset']],
    ['title:"at the beach"', ['sunset']],
    ['title:summer', ['sunset']],
    ['description:summer', ['city']],
    ['description:(snow rocks)', ['mountain']],
    ['_exists_:title', ['mountain', 'sunset']],
    ['title:*', ['mountain', 'sunset']],
    ['_exists_:description', ['city', 'mountain', 'sunset']],
    // metadatas: the value as text; a number or boolean matches its spelling; case counts.
    ['metadatas.color:red', ['sunset']],
    ['metadatas.color:"red"', ['sunset']],
    ['metadatas.count:5', ['sunset']],
    ['metadatas.count:12', ['mountain']],
    ['metadatas.count:7', ['city']],
    ['metadatas.flag:true', ['sunset']],
    ['metadatas.flag:false', ['mountain']],
    ['metadatas.nested.level:deep', ['sunset']],
    ['metadatas.color:R*', ['city']],
    ['metadatas.color:*e*', ['city', 'mountain', 'sunset']],
    ['metadatas.count:[5 TO 10]', ['city', 'sunset']],
    ['metadatas.count:{5 TO 10]', ['city']],
    ['metadatas.count:>10', ['fiji', 'mountain']],
    ['metadatas.price:>=12.5', ['sunset']],
    ['metadatas.color:[a TO c]', ['mountain']],
    ['metadatas.count:[1e9999 TO *]', []],
    ['_exists_:metadatas.nested.level', ['sunset']],
    ['metadatas.flag:*', ['mountain', 'sunset']],
    ['metadatas.bad:*', []],
    ['NOT metadatas.color:red', ['city', 'fiji', 'mountain', 'odd', 'samoa']],
    // created_at, taken_at: a date is its whole day (UTC), a date-time as precise as written.
    ['created_at:2024-05-01', ['sunset']],
    ['created_at:2024-05', ['mountain', 'sunset']],
    ['created_at:[2024-04-30 TO 2024-05-01]', ['city', 'sunset']],
    ['created_at:{2024-04-30 TO 2024-05-02}', ['sunset']],
    ['created_at:[2024-05-01 TO 2024-05-02}', ['sunset']],
    ['created_at:[* TO 2023-12-31]', ['fiji', 'odd', 'samoa']],
    ['created_at:>2024-05-01', ['mountain']],
    ['created_at:>=2024-05-02', ['mountain']],
    ['created_at:<2024-05-01', ['city', 'fiji', 'odd', 'samoa']],
    ['created_at:<=2024-04-30T23:59:59.998Z', ['fiji', 'odd', 'samoa']],
    ['created_at:"2024-05-01T10:00:00Z"', ['sunset']],
    ['created_at:2024-05-01T12:00:00+02:00', ['sunset']],
    ['created_at:2024-05-01T10:00', ['sunset']],
    ['created_at:>=now-7d', ['city', 'mountain', 'sunset']],
    ['created_at:now/M', ['mountain', 'sunset']],
    ['created_at:[now-1y/y TO now-1y/y]', ['fiji', 'odd', 'samoa']],
    ['taken_at:2024-04-30', ['sunset']],
    ['taken_at:<2024-04-30T20:30:00+02:00', []],
    ['taken_at:<=2024-04-30T20:30:00+02:00', ['sunset']],
    ['_exists_:taken_at', ['sunset']],
    ['NOT taken_at:*', ['city', 'fiji', 'mountain', 'odd', 'samoa']],
    // format, width, height, processed
    ['format:jpg', ['city', 'fiji', 'samoa', 'sunset']],
    ['format:png', ['mountain']],
    ['format:J*', ['city', 'fiji', 'samoa', 'sunset']],
    ['width:4000', ['sunset']],
    ['width:>=1920', ['mountain', 'sunset']],
    ['width:[800 TO 1920}', ['city']],
    ['height:<700', ['city', 'fiji', 'odd', 'samoa']],
    ['width:(>=800 AND <2000)', ['city', 'mountain']],
    ['processed:true', ['sunset']],
    ['processed:false', ['city', 'fiji', 'mountain', 'odd', 'samoa']],
    // GPS
    ['latitude:[45 TO 47]', ['mountain', 'sunset']],
    ['longitude:>100', ['city', 'fiji']],
    ['latitude:45.5', ['sunset']],
    ['gps:[45,6 TO 47,8]', ['mountain', 'sunset']],
    ['gps:[45,6.1 TO 47,8}', ['mountain', 'sunset']],
    ['gps:{45.5,6 TO 47,8]', ['mountain']],
    ['gps:[-20,170 TO -10,-170]', ['fiji', 'samoa']],
    ['gps:[-20,-175 TO -10,-170]', ['samoa']],
    ['_exists_:gps', ['city', 'fiji', 'mountain', 'samoa', 'sunset']],
  ];

  it.each(cases)('%s', async (q, expected) => {
    expect(await search(q)).toEqual(expected);
  });

  it('matchAll is true for *, an empty query and what folds into everything', () => {
    for (const q of ['', '  ', '*', 'a OR *', '(*)', 'NOT NOT *']) expect(matchAll(parseSearch(q))).toBe(true);
    for (const q of ['a', 'NOT *', 'title:*']) expect(matchAll(parseSearch(q))).toBe(false);
  });

  it('parsed queries are cached by their text', () => {
    expect(parseSearch(ALBUM)).toBe(parseSearch(ALBUM));
    expect(parseSearch(ALBUM, { maxTerms: 2 })).not.toBe(parseSearch(ALBUM));
  });

  const errors: [string, number][] = [
    ['colour:red', 0],
    ['Title:x', 0],
    ['a metadatas:x', 2],
    ['format:[a TO b]', 7],
    ['tags:>a', 5],
    ['width:abc', 6],
    ['width:12.5', 6],
    ['width:99999999999', 6],
    ['processed:yes', 10],
    ['(a OR b', 0],
    ['a OR (b', 5],
    ['a OR b)', 6],
    ['title:"abc', 6],
    ['created_at:2024-13-01', 11],
    ['created_at:2024-02-30', 11],
    ['created_at:[2024-01-01 TO soon]', 26],
    ['created_at:[2024-01-01 TO 2024-02-01', 11],
    ['created_at:[2024-01-01 2024-02-01]', 23],
    ['a OR', 4],
    ['AND a', 0],
    ['a AND OR b', 6],
    ['title:fo?o', 6],
    ['title:', 6],
    ['gps:45', 4],
    ['gps:[95,0 TO 96,1]', 5],
    ['gps:[46,0 TO 45,1]', 5],
    ['latitude:north', 9],
    ['_exists_:nope', 9],
    ['[1 TO 2]', 0],
    ['>5', 0],
    ['a\u0000', 1],
    ['a\ud800b', 1],
    ['a^2', 1],
    ['a~', 1],
    ['/re/', 0],
    ['a - b', 3],
    ['()', 1],
    ['a\\', 1],
  ];

  it.each(errors)('%j is a 400 at position %i', (q, position) => {
    let error: unknown;
    try {
      parseSearch(q);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SearchQueryError);
    expect(error).toBeInstanceOf(BadRequest);
    const e = error as SearchQueryError;
    expect(e.status).toBe(400);
    expect(e.position).toBe(position);
    expect(e.message).toBe(`q: ${e.reason} at position ${position}`);
    expect(e.details).toEqual({ field: 'q', position, reason: e.reason });
  });

  it('limits: length, terms and depth, at the part beyond them', () => {
    const position = (q: string, limits = {}) => {
      try {
        parseSearch(q, limits);
      } catch (e) {
        return (e as SearchQueryError).position;
      }
      return undefined;
    };
    expect(position('a'.repeat(1025))).toBe(1024);
    expect(position('a'.repeat(1024))).toBeUndefined();
    expect(position(Array(65).fill('a').join(' '))).toBe(128);
    expect(position(Array(64).fill('a').join(' '))).toBeUndefined();
    expect(position(`${'('.repeat(17)}a${')'.repeat(17)}`)).toBe(16);
    expect(position(`${'('.repeat(16)}a${')'.repeat(16)}`)).toBeUndefined();
    expect(position('a b c', { maxTerms: 2 })).toBe(4);
    expect(position(`metadatas.${Array(17).fill('k').join('.')}:x`)).toBe(0);
  });

  describe('on an organization of 5,000 images', () => {
    let bulk: Tenant;

    beforeAll(async () => {
      bulk = await createTenant(app);
      const { db } = app.database;
      const organizationId = bulk.organization.id;
      for (let album = 0; album < 20; album++) await app.albumkit.repositories.albums.findOrCreate(organizationId, `bulk-${album}`);
      await sql`
        insert into images (id, organization_id, album_id, cloudinary_public_id, cloudinary_version, cloudinary_type, infos, exifs, metadatas, gps,
                            width, height, original_width, original_height, filename, format, title, description, created_at, taken_at)
        select gen_random_uuid(), ${organizationId}, 'bulk-' || (i % 20), 'bulk-' || i, '1', 'authenticated', '{}', '{}',
               json_build_object('color', 'c' || (i % 50), 'count', i), json_build_array(-60 + (i % 120), -170 + (i % 340)),
               640, 480, 640, 480, md5(i::text) || '.jpg', 'jpg', 'title ' || md5(i::text), 'description ' || md5((i + 1)::text),
               timestamptz '2020-01-01' + i * interval '1 hour', timestamptz '2019-01-01' + i * interval '1 hour'
        from generate_series(1, 5000) i`.execute(db);
      await sql`
        insert into tags (id, organization_id, name, labels, color)
        select gen_random_uuid(), ${organizationId}, 'tag-' || i, '{}', '#000' from generate_series(1, 200) i`.execute(db);
      await sql`
        insert into tag_images (id, organization_id, tag_id, image_id)
        select gen_random_uuid(), ${organizationId}, t.id, i.id from images i
        join tags t on t.organization_id = i.organization_id and t.name = 'tag-' || (1 + abs(hashtext(i.id::text)) % 200)
        where i.organization_id = ${organizationId}`.execute(db);
      // VACUUM also merges the GIN indexes' pending lists, as autovacuum would have by then.
      await sql`vacuum analyze images`.execute(db);
      await sql`analyze tags`.execute(db);
      await sql`analyze tag_images`.execute(db);
    });

    /** The plan of the query as GET /search runs it, sequential scans priced out: which indexes its SQL can use. */
    async function plan(q: string): Promise<string> {
      return app.database.db.transaction().execute(async (trx) => {
        await sql`set local enable_seqscan = off`.execute(trx);
        const rows = await trx
          .selectFrom('images')
          .select('id')
          .where('organization_id', '=', bulk.organization.id)
          .where('deleted_at', 'is', null)
          .where(compileSearch(parseSearch(q), { organizationId: bulk.organization.id, now: NOW }))
          .explain();
        return rows.map((row) => String(row['QUERY PLAN'])).join('\n');
      });
    }

    // Each field's SQL matches its index (rather than the organization's images read one by one).
    const plans: [string, string][] = [
      ['filename:beach', 'images_filename_trigrams'],
      ['title:holiday', 'images_title_words'],
      ['title:holi*', 'images_title_words'],
      ['description:"snow and"', 'images_description_words'],
      ['metadatas.color:red', 'images_metadatas'],
      ['_exists_:metadatas.colour', 'images_metadatas'],
      ['latitude:[45 TO 47]', 'images_gps_box'],
      ['gps:[45,6 TO 47,8]', 'images_gps_box'],
      ['created_at:2024-05-01', 'images_created_live'],
      ['taken_at:>=2024-01-01', 'images_taken_live'],
      ['tags:beach', 'tags_organization_lower_name'],
    ];

    it.each(plans)('the plan of %s can use %s', async (q, index) => {
      const text = await plan(q);
      expect(text).toContain(index);
      expect(text).not.toMatch(/Seq Scan on images/);
    });

    // A search reads one organization: the file name and metadatas indexes are led by it
    // (migration 0015), so their scans read only its matches, not every organization's.
    it.each([
      ['filename:beach', 'images_filename_trigrams'],
      ['metadatas.color:red', 'images_metadatas'],
    ])('the index scan of %s on %s is bounded by the organization', async (q, index) => {
      const text = await plan(q);
      const scan = text.slice(text.indexOf(`on ${index}`));
      const condition = /Index Cond: (.*)/.exec(scan)?.[1] ?? '';
      expect(condition).toContain('organization_id =');
    });

    it('a bare term in an organization is an OR of index scans, none of its images read one by one', async () => {
      const text = await plan(ALBUM);
      for (const part of ['BitmapOr', 'images_album_live', 'tags_organization_lower_name', 'images_filename_trigrams', 'images_title_words', 'images_description_words']) {
        expect(text).toContain(part);
      }
      expect(text).not.toMatch(/Seq Scan on images/);
    });
  });
});
