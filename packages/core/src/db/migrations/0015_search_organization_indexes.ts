import { sql, type Kysely } from 'kysely';
import { extensionUsable } from './extensions.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * The search indexes of file name parts and metadatas, led by the organization (btree_gin lets a
 * GIN index hold the uuid beside the trigrams or the jsonb). Every search reads one organization,
 * and the indexes of migration 0013 held every organization's matches, which the 1,000,000-image
 * bench showed costs two ways (BENCHMARKS.md, "Search"):
 * - a rare file name part read and rechecked every organization's candidates (25 ms p95; 7 ms
 *   led by the organization);
 * - the planner costed a metadatas bitmap for every organization's matches, and then walked the
 *   newest images of one organization instead (312 ms p95; 16 ms led by the organization, and the
 *   bitmap chosen in every ANALYZE sample tried).
 * The indexes keep their names and what they answer; where btree_gin cannot be had, those of 0013
 * stay.
 */
export async function up(db: Db): Promise<void> {
  if (!(await extensionUsable(db, 'btree_gin'))) return;
  await sql`create extension if not exists btree_gin`.execute(db);
  await sql`drop index if exists images_metadatas`.execute(db);
  await sql`create index images_metadatas on images using gin (organization_id, albumkit_jsonb_or_null(metadatas)) where deleted_at is null`.execute(db);
  if (await indexExists(db, 'images_filename_trigrams')) {
    await sql`drop index images_filename_trigrams`.execute(db);
    await sql`create index images_filename_trigrams on images using gin (organization_id, filename gin_trgm_ops) where deleted_at is null`.execute(db);
  }
  await sql`analyze images`.execute(db);
}

async function indexExists(db: Db, name: string): Promise<boolean> {
  const { rows } = await sql<{ found: boolean }>`select to_regclass(${name}) is not null as found`.execute(db);
  return rows[0]?.found === true;
}

/** Back to the indexes of migration 0013 (btree_gin stays: other schemas of the database may use it). */
export async function down(db: Db): Promise<void> {
  await sql`drop index if exists images_metadatas`.execute(db);
  await sql`create index images_metadatas on images using gin (albumkit_jsonb_or_null(metadatas)) where deleted_at is null`.execute(db);
  if (await indexExists(db, 'images_filename_trigrams')) {
    await sql`drop index images_filename_trigrams`.execute(db);
    await sql`create index images_filename_trigrams on images using gin (filename gin_trgm_ops) where deleted_at is null`.execute(db);
  }
}
