import { sql, type Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * What the search bench on 1,000,000 images showed the planner lacked (BENCHMARKS.md, "Search"):
 * - statistics on the metadatas expression the GIN index is built on: PostgreSQL keeps none for
 *   the expressions of a partial index, so every `metadatas.<key>:value` was given a fixed 1%
 *   selectivity and a rare value walked the newest images (226 ms p50, 864 ms for a value no image
 *   has; 13 ms and 0.6 ms with the statistics);
 * - one index on both GPS coordinates, so that a box is answered inside the index instead of
 *   filtering the other coordinate row by row (135 ms p50; 11 ms with it); it replaces the
 *   latitude-only index, whose look-ups it serves as well.
 */
export async function up(db: Db): Promise<void> {
  await sql`create statistics if not exists images_metadatas_values on (albumkit_jsonb_or_null(metadatas)) from images`.execute(db);
  await sql`create index images_gps_box on images (organization_id, albumkit_gps_coordinate(gps, 1), albumkit_gps_coordinate(gps, 2)) where deleted_at is null`.execute(db);
  // Latitude ranges alone are served by the new index too (it leads with the latitude).
  await sql`drop index if exists images_latitude`.execute(db);
  await sql`analyze images`.execute(db);
}

export async function down(db: Db): Promise<void> {
  await sql`create index if not exists images_latitude on images (organization_id, albumkit_gps_coordinate(gps, 1)) where deleted_at is null`.execute(db);
  await sql`drop index if exists images_gps_box`.execute(db);
  await sql`drop statistics if exists images_metadatas_values`.execute(db);
}
