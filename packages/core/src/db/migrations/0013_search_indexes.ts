import { sql, type Kysely } from 'kysely';
import { extensionUsable } from './extensions.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * What the search query language (src/search) needs to stay fast on large organizations: each
 * index holds live rows (the search reads `deleted_at is null`), and src/search/compile.ts
 * writes its expressions as they are written here.
 *
 * - file name parts (`ILIKE '%part%'`): trigrams (pg_trgm). Where the extension cannot be had
 *   (not installed with the server, or no right to create it), the index is left out and the
 *   same search reads the rows instead.
 * - words of title and description: full text with the 'simple' configuration (no dictionary).
 * - metadatas: GIN over their jsonb form (`@>` for values, `?` for keys). The column is `json`,
 *   and a few values that `json` takes cannot be `jsonb` (a `\u0000` escape, a lone surrogate):
 *   `albumkit_jsonb_or_null` gives null for those, so that such an image is stored anyway,
 *   only not found by its metadatas (every search of the metadatas reads this jsonb form:
 *   json's own operators fail on such a value).
 * - GPS box: btree on latitude and longitude read from the `[lat, lon]` json by
 *   `albumkit_gps_coordinate`, null for anything but a pair of numbers (never a cast error).
 * - dates: created_at and taken_at per organization.
 * - tags by name, whatever the case, per organization.
 */
export async function up(db: Db): Promise<void> {
  await sql`
    create function albumkit_jsonb_or_null(value json) returns jsonb
    language plpgsql immutable
    as $$
    begin
      return value::jsonb;
    exception when others then
      return null;
    end
    $$`.execute(db);
  // A posted number, or a number spelled in a string, as numeric (not a float: 1e400 would
  // overflow one); null for anything else. The pattern lets through only what numeric reads.
  await sql`
    create function albumkit_jsonb_numeric(value jsonb) returns numeric
    language sql immutable parallel safe
    as $$
      select case
        when jsonb_typeof(value) in ('number', 'string')
          and length(value #>> '{}') <= 1000
          and (value #>> '{}') ~ '^ *[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]{1,4})? *$'
        then (value #>> '{}')::numeric
      end
    $$`.execute(db);
  // Latitude (1) or longitude (2) of a [lat, lon] gps, read from its text (a json operator fails
  // on a \u0000 anywhere in the value): null unless the column is a pair of plain numbers.
  await sql`
    create function albumkit_gps_coordinate(gps json, axis integer) returns numeric
    language sql immutable parallel safe
    as $$
      select (regexp_match(gps::text,
        '^[ ]*\\[[ ]*(-?[0-9]{1,20}(?:[.][0-9]{1,20})?(?:[eE][-+]?[0-9]{1,3})?)[ ]*,[ ]*(-?[0-9]{1,20}(?:[.][0-9]{1,20})?(?:[eE][-+]?[0-9]{1,3})?)[ ]*\\][ ]*$'
      ))[axis]::numeric
    $$`.execute(db);

  if (await extensionUsable(db, 'pg_trgm')) {
    await sql`create extension if not exists pg_trgm`.execute(db);
    await sql`create index images_filename_trigrams on images using gin (filename gin_trgm_ops) where deleted_at is null`.execute(db);
  }
  await sql`create index images_title_words on images using gin (to_tsvector('simple', coalesce(title, ''))) where deleted_at is null`.execute(db);
  await sql`create index images_description_words on images using gin (to_tsvector('simple', coalesce(description, ''))) where deleted_at is null`.execute(db);
  await sql`create index images_metadatas on images using gin (albumkit_jsonb_or_null(metadatas)) where deleted_at is null`.execute(db);
  await sql`create index images_latitude on images (organization_id, albumkit_gps_coordinate(gps, 1)) where deleted_at is null`.execute(db);
  await sql`create index images_longitude on images (organization_id, albumkit_gps_coordinate(gps, 2)) where deleted_at is null`.execute(db);
  await sql`create index images_created_live on images (organization_id, created_at, id) where deleted_at is null`.execute(db);
  await sql`create index images_taken_live on images (organization_id, taken_at) where deleted_at is null`.execute(db);
  await sql`create index tags_organization_lower_name on tags (organization_id, lower(name))`.execute(db);
}

export async function down(db: Db): Promise<void> {
  for (const index of [
    'tags_organization_lower_name',
    'images_taken_live',
    'images_created_live',
    'images_longitude',
    'images_latitude',
    'images_metadatas',
    'images_description_words',
    'images_title_words',
    'images_filename_trigrams',
  ]) {
    await db.schema.dropIndex(index).ifExists().execute();
  }
  // pg_trgm stays: other schemas of the database may use it.
  await sql`drop function if exists albumkit_gps_coordinate(json, integer)`.execute(db);
  await sql`drop function if exists albumkit_jsonb_numeric(jsonb)`.execute(db);
  await sql`drop function if exists albumkit_jsonb_or_null(json)`.execute(db);
}
