import { randomInt, randomUUID } from 'node:crypto';
import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool, type Transaction } from 'kysely';
import type { Database, Image, ImageTable, ImageUpdate, NewImage } from '../db/schema.js';
import { BATCH_FAILURES, Batches } from '../db/batches.js';
import { PREPARE_MARK } from '../db/connect.js';
import { COUNT_SHARDS } from './albums.js';

type Db = Kysely<Database> | Transaction<Database>;

/** A condition on images (a compiled search query): added to a read's own conditions. */
export type ImageCondition = (eb: ExpressionBuilder<Database, 'images'>) => Expression<SqlBool>;

export interface ImagePageCursor {
  createdAt: Date;
  id: string;
}

export interface SyncRow extends Image {
  user_sfid: string | null;
}

/** An event recorded with a new image (its columns but the ones the image gives). */
export interface ImageEventRow {
  id: string;
  type: string;
  /** JSON text. */
  payload: string;
}

export interface UploadRow {
  image: NewUpload;
  events: ImageEventRow[];
}

/** The columns a duplicate copies from its source, as they are (JSON text included). */
const COPIED_COLUMNS = [
  'organization_id',
  'album_id',
  'user_id',
  'cloudinary_public_id',
  'cloudinary_version',
  'cloudinary_type',
  'infos',
  'exifs',
  'metadatas',
  'gps',
  'gps_ip',
  'gps_exifs',
  'gps_html',
  'taken_at',
  'width',
  'height',
  'rotation',
  'crop_x',
  'crop_y',
  'crop_w',
  'crop_h',
  'original_width',
  'original_height',
  'filename',
  'format',
  'title',
  'description',
  'page',
  'color',
  'processed',
  'processing_error',
] as const satisfies ReadonlyArray<keyof ImageTable>;

/** The columns of a new upload's image row, in the order they are written. */
const UPLOAD_COLUMNS = [
  'id',
  'upload_key',
  'group_id',
  'reported_at',
  ...COPIED_COLUMNS,
] as const satisfies ReadonlyArray<keyof ImageTable>;

/** Where a page of the trash ends: the last image's deletion time and id. */
export interface TrashCursor {
  deletedAt: Date;
  id: string;
}

export type NewUpload = Pick<NewImage, (typeof UPLOAD_COLUMNS)[number]> & { id: string; organization_id: string; album_id: string; upload_key: string };

const PREPARED = sql.raw(PREPARE_MARK);

/**
 * Every column of an image row, named: a prepared statement returning `*` fails once a column is
 * added to the table ("cached plan must not change result type"), a named list does not.
 */
const IMAGE_COLUMNS = [
  ...UPLOAD_COLUMNS,
  'seq',
  'created_at',
  'updated_at',
  'deleted_at',
] as const satisfies ReadonlyArray<keyof ImageTable>;

/** Compile-time check that IMAGE_COLUMNS names every column. */
const everyColumn: Exclude<keyof ImageTable, (typeof IMAGE_COLUMNS)[number]> extends never ? true : never = true;
void everyColumn;

const columnList = (columns: readonly string[]) => sql.raw(columns.map((c) => `"${c}"`).join(', '));
const UPLOAD_COLUMN_LIST = columnList(UPLOAD_COLUMNS);
const COPIED_COLUMN_LIST = columnList(COPIED_COLUMNS);
const IMAGE_COLUMN_LIST = columnList(IMAGE_COLUMNS);

/** JSON columns of an image: their values are JSON text already, written into the batch's JSON as they are. */
const JSON_COLUMNS = new Set<string>(['infos', 'exifs', 'metadatas', 'gps', 'gps_ip', 'gps_exifs', 'gps_html']);

/** What a column left out of a new upload takes (the table's defaults, for the columns that have one). */
const UPLOAD_DEFAULTS: Partial<Record<(typeof UPLOAD_COLUMNS)[number], string>> = {
  rotation: '0',
  crop_x: '0',
  crop_y: '0',
  crop_w: '0',
  crop_h: '0',
  page: '1',
  color: "'#'",
  processed: 'false',
};

/** The columns read from the batch's JSON rows, defaults filled in (a key left out reads as null). */
const UPLOAD_INPUT_LIST = sql.raw(
  UPLOAD_COLUMNS.map((column) => (UPLOAD_DEFAULTS[column] ? `coalesce(r.${column}, ${UPLOAD_DEFAULTS[column]}) as ${column}` : `r.${column}`)).join(', '),
);

/** The rows of a batch as one JSON array, keyed by column (`json_populate_recordset` reads it as image rows). */
function uploadRowsJson(rows: UploadRow[]): string {
  return `[${rows
    .map(({ image }) => {
      const fields: string[] = [];
      for (const column of UPLOAD_COLUMNS) {
        const value = image[column as keyof NewUpload];
        if (value === undefined) continue; // the column's default
        const json = value === null ? 'null' : JSON_COLUMNS.has(column) && typeof value === 'string' ? value : JSON.stringify(value);
        fields.push(`"${column}":${json}`);
      }
      return `{${fields.join(',')}}`;
    })
    .join(',')}]`;
}

/** The events of a batch as one JSON array (their payloads are JSON text already). */
function eventRowsJson(rows: UploadRow[]): string {
  const events: string[] = [];
  for (const { image, events: list } of rows) {
    for (const e of list) events.push(`{"id":${JSON.stringify(e.id)},"image_id":${JSON.stringify(image.id)},"type":${JSON.stringify(e.type)},"payload":${e.payload}}`);
  }
  return `[${events.join(',')}]`;
}

/** A random shard of the album's image count: concurrent uploads into one album rarely wait on each other. */
const countShard = () => randomInt(COUNT_SHARDS);

/** Marks an image just created for an upload that another organization or album holds too. */
export const CONTESTED = Symbol('contested upload');

/** Whether `insertUpload` found the upload held elsewhere as well. */
export function isContested(image: Image): boolean {
  return (image as Image & { [CONTESTED]?: boolean })[CONTESTED] === true;
}

/** Images: every query is scoped by organization, but for the look-ups of who holds an upload. */
export class ImageRepository {
  /** Uploads written while others are in flight go together (see `Batches`). */
  private readonly uploads = new Batches<UploadRow, Image | undefined>(
    (rows) => this.insertUploads(rows),
    async (row) => (await this.insertUploads([row]))[0],
    { maxBatch: 100, maxInFlight: 2, ...BATCH_FAILURES },
  );

  constructor(private readonly db: Kysely<Database>) {}

  /** A live image (not in the trash). */
  /** Images of the organization by id, trashed ones included (the caller tells them apart). */
  findMany(organizationId: string, ids: readonly string[], db: Db = this.db): Promise<Image[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return db.selectFrom('images').selectAll().where('organization_id', '=', organizationId).where('id', 'in', ids).execute();
  }

  find(organizationId: string, id: string, db: Db = this.db): Promise<Image | undefined> {
    return db
      .selectFrom('images')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
  }

  /**
   * A live image by id alone, whatever its organization: for the links albumkit hands out
   * (`/images/:id/thumbnails/…`), whose own signature is the right to see the image.
   */
  findLinked(id: string): Promise<Image | undefined> {
    return this.db.selectFrom('images').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
  }

  /** A live image, locked for the transaction. */
  findForUpdate(organizationId: string, id: string, db: Db = this.db): Promise<Image | undefined> {
    return db
      .selectFrom('images')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .forUpdate()
      .executeTakeFirst();
  }

  /**
   * Moves live images to the trash with their count, in one statement; only rows still live are
   * moved (a concurrent delete moves each once). Returns the trashed rows.
   */
  async trash(organizationId: string, ids: string[], at: Date, db: Db = this.db): Promise<Image[]> {
    if (ids.length === 0) return [];
    const { rows } = await sql<Image>`
      with trashed as (
        update images set deleted_at = ${at}::timestamptz, updated_at = ${at}::timestamptz
        where organization_id = ${organizationId}::uuid and id = any(${ids}::uuid[]) and deleted_at is null
        returning ${IMAGE_COLUMN_LIST}
      ), counted as (
        insert into album_image_counts (organization_id, album_id, shard, count)
        select organization_id, album_id, ${countShard()}::int, -count(*) from trashed
        group by organization_id, album_id
        order by organization_id, album_id
        on conflict (organization_id, album_id, shard) do update set count = album_image_counts.count + excluded.count
      )
      select ${IMAGE_COLUMN_LIST} from trashed`.execute(db);
    return rows;
  }

  /** Takes an image out of the trash with its count, in one statement; undefined when it is not in the trash. */
  async restore(organizationId: string, id: string, at: Date, albums?: string[], db: Db = this.db): Promise<Image | undefined> {
    const { rows } = await sql<Image>`
      with restored as (
        update images set deleted_at = null, updated_at = ${at}::timestamptz
        where organization_id = ${organizationId}::uuid and id = ${id}::uuid and deleted_at is not null
          and (${albums === undefined} or album_id = any(${albums ?? []}::text[]))
        returning ${IMAGE_COLUMN_LIST}
      ), counted as (
        insert into album_image_counts (organization_id, album_id, shard, count)
        select organization_id, album_id, ${countShard()}::int, 1 from restored
        on conflict (organization_id, album_id, shard) do update set count = album_image_counts.count + 1
      )
      select ${IMAGE_COLUMN_LIST} from restored`.execute(db);
    return rows[0];
  }

  /** A trashed image of the organization. */
  findTrashed(organizationId: string, id: string): Promise<Image | undefined> {
    return this.db
      .selectFrom('images')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .where('deleted_at', 'is not', null)
      .executeTakeFirst();
  }

  /** One page of the organization's trash (or an album's), latest deletion first, after the cursor. */
  listTrash(organizationId: string, albumId: string | undefined, limit: number, after?: TrashCursor): Promise<Image[]> {
    let query = this.db
      .selectFrom('images')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('deleted_at', 'is not', null);
    if (albumId !== undefined) query = query.where('album_id', '=', albumId);
    if (after) query = query.where((eb) => eb(eb.refTuple('deleted_at', 'id'), '<', eb.tuple(after.deletedAt, after.id)));
    return query.orderBy('deleted_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  }

  update(organizationId: string, id: string, changes: ImageUpdate, db: Db = this.db): Promise<Image> {
    return db
      .updateTable('images')
      .set(changes)
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Unprocessed images created before `olderThan`, oldest first. */
  unprocessed(olderThan: Date, limit: number): Promise<Image[]> {
    return this.db
      .selectFrom('images')
      .selectAll()
      .where('processed', '=', false)
      .where('created_at', '<', olderThan)
      // Processing that failed for good waits for `albumkit-worker replay`.
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('dead_letters as d')
              .select(sql.lit(1).as('one'))
              .where('d.queue', '=', 'metadata')
              .where('d.subject', '=', sql<string>`images.id::text`)
              .where('d.replayed_at', 'is', null),
          ),
        ),
      )
      .orderBy('created_at')
      .limit(limit)
      .execute();
  }

  findByUploadKey(organizationId: string, uploadKey: string, db: Db = this.db): Promise<Image | undefined> {
    return db
      .selectFrom('images')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('upload_key', '=', uploadKey)
      .executeTakeFirst();
  }

  /**
   * The image of an upload with everything that comes with it, in one statement (one round trip,
   * atomic without a transaction): its album when new, its events, one more in the album's
   * count, and the upload's recorded notification (if any) marked handled, since its image now
   * exists. Undefined when an image of the same upload exists (the notification is marked all the same).
   * Uploads arriving while others are written go together (see `insertUploads`).
   */
  insertUpload(image: NewUpload, events: ImageEventRow[]): Promise<Image | undefined> {
    return this.uploads.submit({ image, events });
  }

  /**
   * Several uploads in one statement, each with the effects `insertUpload` describes. The albums'
   * counts are taken in a fixed order, so that two batches never wait on each other's count rows
   * in opposite orders. A single upload runs as a prepared statement (its text depends only on
   * its number of events).
   *
   * Written as SQL text rather than with the query builder: building and compiling this
   * statement with Kysely took longer than PostgreSQL takes to run it.
   */
  async insertUploads(rows: UploadRow[]): Promise<Array<Image | undefined>> {
    // The whole batch travels as two JSON parameters (its rows, its events), whatever its size: one
    // statement text, prepared once per connection, and two values to send instead of ~30 per row.
    const { rows: inserted } = await sql<Image>`${PREPARED}
      with input as (
        select ${UPLOAD_INPUT_LIST} from json_populate_recordset(null::images, ${uploadRowsJson(rows)}::json) as r
      ), album as (
        insert into albums (organization_id, id)
        select distinct organization_id, album_id from input
        order by 1, 2
        on conflict (organization_id, id) do nothing
      ), image as (
        insert into images (${UPLOAD_COLUMN_LIST}) select ${UPLOAD_COLUMN_LIST} from input
        on conflict (organization_id, upload_key) where upload_key is not null do nothing
        returning ${IMAGE_COLUMN_LIST}
      ), counted as (
        insert into album_image_counts (organization_id, album_id, shard, count)
        select organization_id, album_id, ${countShard()}::int, count(*) from image
        group by organization_id, album_id
        order by organization_id, album_id
        on conflict (organization_id, album_id, shard) do update set count = album_image_counts.count + excluded.count
      ), event as (
        insert into events (id, organization_id, album_id, type, payload)
        select e.id, image.organization_id, image.album_id, e.type, e.payload
        from image join json_to_recordset(${eventRowsJson(rows)}::json) as e (id uuid, image_id uuid, type text, payload json) on e.image_id = image.id
      ), notified as (
        update notifications n set done_at = now()
        from input u
        where n.organization_id = u.organization_id and n.upload_key = u.upload_key and n.done_at is null
      )
      select ${IMAGE_COLUMN_LIST}, exists (
        select 1 from images other
        where other.upload_key = image.upload_key and (other.organization_id <> image.organization_id or other.album_id <> image.album_id)
      ) as contested
      from image`.execute(this.db);
    const byId = new Map(
      inserted.map(({ contested, ...image }: Image & { contested?: boolean }) => [image.id, contested ? Object.assign(image, { [CONTESTED]: true }) : image]),
    );
    return rows.map(({ image }) => byId.get(image.id));
  }

  /**
   * Who holds an upload, in any organization: the albums of its images (copies excluded: they
   * have no upload key) and of its recorded notifications (which name the album whose form made it).
   */
  async uploadHolders(uploadKey: string): Promise<Array<{ organization_id: string; album_id: string; notified: boolean }>> {
    const { rows } = await sql<{ organization_id: string; album_id: string; notified: boolean }>`
      (select organization_id, album_id, false as notified from images where upload_key = ${uploadKey} limit 10)
      union all
      (select organization_id, album_id, true as notified from notifications where upload_key = ${uploadKey} limit 10)`.execute(this.db);
    return rows;
  }

  /**
   * The client's post of an upload whose image exists already (Cloudinary's notification made
   * it): the fields the client owns win. `infos` is what it posted; `metadatas`, the browser
   * location and the file name when it sent them; the location chosen again (EXIF > browser > IP).
   */
  mergeClientUpload(
    organizationId: string,
    albumId: string,
    uploadKey: string,
    posted: { infos: string; metadatas: string | null; gpsHtml: string | null; filename: string | null },
  ): Promise<Image | undefined> {
    return this.db
      .updateTable('images')
      .set({
        infos: posted.infos,
        metadatas: sql`coalesce(${posted.metadatas}::json, metadatas)`,
        gps_html: sql`coalesce(${posted.gpsHtml}::json, gps_html)`,
        gps: sql`coalesce(gps_exifs, ${posted.gpsHtml}::json, gps_html, gps_ip)`,
        filename: sql`coalesce(${posted.filename}::text, filename)`,
        updated_at: new Date(),
      })
      .where('organization_id', '=', organizationId)
      .where('album_id', '=', albumId)
      .where('upload_key', '=', uploadKey)
      .returningAll()
      .executeTakeFirst();
  }

  /**
   * Removes the images of an upload held outside the organization and album that Cloudinary's
   * notification names (posted by a client that had the upload result of another album's form),
   * with their count. Returns how many.
   */
  async removeImpostors(uploadKey: string, organizationId: string, albumId: string): Promise<number> {
    const { rows } = await sql<{ removed: string }>`
      with removed as (
        delete from images
        where upload_key = ${uploadKey} and (organization_id <> ${organizationId}::uuid or album_id <> ${albumId})
        returning organization_id, album_id, deleted_at
      ), counted as (
        insert into album_image_counts (organization_id, album_id, shard, count)
        select organization_id, album_id, ${countShard()}::int, -count(*) filter (where deleted_at is null) from removed
        group by organization_id, album_id
        order by organization_id, album_id
        on conflict (organization_id, album_id, shard) do update set count = album_image_counts.count + excluded.count
      )
      select count(*) as removed from removed`.execute(this.db);
    return Number(rows[0]?.removed ?? 0);
  }

  /**
   * A copy of an image of the organization, in one statement: new id, `group_id` = the source,
   * counted in its album. `albums` restricts the sources to those albums (the token's).
   * Undefined when there is no such source. SQL text for the reason `insertUpload` gives.
   */
  async insertDuplicate(organizationId: string, sourceId: string, copy: { id: string; at: Date; eventId?: string }, albums?: string[]): Promise<Image | undefined> {
    if (albums && albums.length === 0) return undefined;
    const eventId = copy.eventId ?? randomUUID();
    const { rows } = await sql<Image>`${PREPARED}
      with source as (
        select ${COPIED_COLUMN_LIST}, id from images
        where organization_id = ${organizationId} and id = ${sourceId} and deleted_at is null
          and (${albums === undefined} or album_id = any(${albums ?? []}::text[]))
      ), copy as (
        insert into images (id, group_id, upload_key, reported_at, created_at, updated_at, ${COPIED_COLUMN_LIST})
        select ${copy.id}::uuid, id, null, ${copy.at}::timestamptz, ${copy.at}::timestamptz, ${copy.at}::timestamptz, ${COPIED_COLUMN_LIST}
        from source
        returning ${IMAGE_COLUMN_LIST}
      ), counted as (
        insert into album_image_counts (organization_id, album_id, shard, count)
        select organization_id, album_id, ${countShard()}::int, 1 from copy
        on conflict (organization_id, album_id, shard) do update set count = album_image_counts.count + 1
      ), recorded as (
        insert into events (id, organization_id, album_id, type, payload, created_at)
        select ${eventId}::uuid, organization_id, album_id, 'copy_image',
          json_build_object('album_id', album_id, 'image_id', id, 'source_image_id', group_id), ${copy.at}::timestamptz
        from copy
      )
      select ${IMAGE_COLUMN_LIST} from copy`.execute(this.db);
    return rows[0];
  }

  /** One page of an album, oldest first, after the cursor (keyset pagination on the listing index). */
  listAlbum(organizationId: string, albumId: string, limit: number, after?: ImagePageCursor, condition?: ImageCondition): Promise<Image[]> {
    let query = this.db
      .selectFrom('images')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('album_id', '=', albumId)
      .where('deleted_at', 'is', null);
    if (condition) query = query.where(condition);
    if (after) {
      // A row comparison, so that PostgreSQL seeks the listing index instead of filtering rows.
      query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '>', eb.tuple(after.createdAt, after.id)));
    }
    return query.orderBy('created_at').orderBy('id').limit(limit).execute();
  }

  /**
   * Copies of live images of the organization into an album (new ids, `group_id` = the source,
   * the same Cloudinary asset), counted, in one statement; in the order of `ids`.
   */
  async copyInto(organizationId: string, ids: string[], albumId: string, at: Date, db: Db = this.db): Promise<Image[]> {
    if (ids.length === 0) return [];
    const { rows } = await sql<Image>`
      with source as (
        select s.ord, i.id as source_id, gen_random_uuid() as copy_id, ${sql.join(COPIED_COLUMNS.map((c) => sql.ref(`i.${c}`)))}
        from unnest(${ids}::uuid[]) with ordinality as s(id, ord)
        join images i on i.id = s.id and i.organization_id = ${organizationId}::uuid and i.deleted_at is null
      ), copy as (
        insert into images (id, group_id, upload_key, reported_at, created_at, updated_at, ${COPIED_COLUMN_LIST})
        select copy_id, source_id, null, ${at}::timestamptz, ${at}::timestamptz + (ord * interval '1 millisecond'), ${at}::timestamptz,
          ${sql.join(COPIED_COLUMNS.map((c) => (c === 'album_id' ? sql`${albumId}::text` : sql.ref(c))))}
        from source
        order by ord
        returning ${IMAGE_COLUMN_LIST}
      ), counted as (
        insert into album_image_counts (organization_id, album_id, shard, count)
        select ${organizationId}::uuid, ${albumId}, ${countShard()}::int, count(*)::int from copy
        having count(*) > 0
        on conflict (organization_id, album_id, shard) do update set count = album_image_counts.count + excluded.count
      )
      select ${IMAGE_COLUMN_LIST} from copy order by created_at`.execute(db);
    return rows;
  }

  /** The latest `perAlbum` live images of each album (its thumbnails), newest first: one index scan per album. */
  async latestOf(organizationId: string, albumIds: string[], perAlbum: number): Promise<Map<string, Image[]>> {
    const byAlbum = new Map<string, Image[]>();
    if (albumIds.length === 0) return byAlbum;
    const { rows } = await sql<Image>`
      select i.* from unnest(${albumIds}::text[]) as a(id)
      cross join lateral (
        select ${IMAGE_COLUMN_LIST} from images
        where organization_id = ${organizationId}::uuid and album_id = a.id and deleted_at is null
        order by created_at desc, id desc
        limit ${perAlbum}
      ) i`.execute(this.db);
    for (const row of rows) {
      const list = byAlbum.get(row.album_id);
      if (list) list.push(row);
      else byAlbum.set(row.album_id, [row]);
    }
    return byAlbum;
  }

  /**
   * Moves live images to other albums of the organization, with both albums' counts, in one
   * statement; only rows still live and not already there move. Returns the moved rows.
   */
  async move(organizationId: string, moves: Array<{ id: string; to: string }>, at: Date, db: Db = this.db): Promise<Array<Image & { from_album_id: string }>> {
    if (moves.length === 0) return [];
    const { rows } = await sql<Image & { from_album_id: string }>`
      with wanted as (
        select * from unnest(${moves.map((m) => m.id)}::uuid[], ${moves.map((m) => m.to)}::text[]) as w(id, album_id)
      ), before as (
        select i.id, i.album_id from images i join wanted w on w.id = i.id
        where i.organization_id = ${organizationId}::uuid and i.deleted_at is null and i.album_id <> w.album_id
        for update of i
      ), moved as (
        update images set album_id = w.album_id, updated_at = ${at}::timestamptz
        from wanted w, before b
        where images.id = w.id and images.id = b.id and images.organization_id = ${organizationId}::uuid
        returning ${sql.raw(IMAGE_COLUMNS.map((c) => `images."${c}"`).join(', '))}, b.album_id as from_album_id
      ), deltas as (
        select album_id, count(*)::int as delta from moved group by album_id
        union all
        select from_album_id, -count(*)::int from moved group by from_album_id
      ), counted as (
        insert into album_image_counts (organization_id, album_id, shard, count)
        select ${organizationId}::uuid, album_id, ${countShard()}::int, sum(delta)::int from deltas
        group by album_id
        order by album_id
        on conflict (organization_id, album_id, shard) do update set count = album_image_counts.count + excluded.count
      )
      select * from moved`.execute(db);
    return rows;
  }

  /**
   * Copies every live image of an album into another (new ids, `group_id` = the source, the same
   * Cloudinary asset), counted, with their tags when asked; in one statement. Returns the copies' ids and sources.
   */
  async duplicateAlbum(organizationId: string, from: string, to: string, at: Date, withTags: boolean, db: Db = this.db): Promise<Array<{ id: string; group_id: string }>> {
    const { rows } = await sql<{ id: string; group_id: string }>`
      with source as (
        select id as source_id, gen_random_uuid() as copy_id, ${COPIED_COLUMN_LIST}, created_at as source_created from images
        where organization_id = ${organizationId}::uuid and album_id = ${from} and deleted_at is null
      ), copy as (
        insert into images (id, group_id, upload_key, reported_at, created_at, updated_at, ${COPIED_COLUMN_LIST})
        select copy_id, source_id, null, ${at}::timestamptz, source_created, ${at}::timestamptz,
          ${sql.join(COPIED_COLUMNS.map((c) => (c === 'album_id' ? sql`${to}::text` : sql.ref(c))))}
        from source
        returning id, group_id
      ), tagged as (
        insert into tag_images (id, organization_id, tag_id, image_id, user_id, created_at)
        select gen_random_uuid(), ${organizationId}::uuid, t.tag_id, copy.id, t.user_id, ${at}::timestamptz
        from copy join tag_images t on t.image_id = copy.group_id
        where ${withTags}
        on conflict do nothing
      ), counted as (
        insert into album_image_counts (organization_id, album_id, shard, count)
        select ${organizationId}::uuid, ${to}, ${countShard()}::int, count(*)::int from copy
        having count(*) > 0
        on conflict (organization_id, album_id, shard) do update set count = album_image_counts.count + excluded.count
      )
      select id, group_id from copy`.execute(db);
    return rows;
  }

  /** Images of the organization among `ids`, with their uploader's Salesforce id; albums restricts to those albums. */
  findForSync(organizationId: string, ids: string[], albums?: string[], condition?: ImageCondition): Promise<SyncRow[]> {
    if (ids.length === 0 || (albums && albums.length === 0)) return Promise.resolve([]);
    let query = this.db
      .selectFrom('images')
      .selectAll('images')
      // A look-up by primary key per image (a join would read the whole users table).
      .select((eb) => eb.selectFrom('users').select('users.sfid').whereRef('users.id', '=', 'images.user_id').as('user_sfid'))
      .where('images.organization_id', '=', organizationId)
      .where('images.id', 'in', ids)
      .where('images.deleted_at', 'is', null);
    if (albums) query = query.where('images.album_id', 'in', albums);
    if (condition) query = query.where(condition);
    return query.execute();
  }

  /**
   * A page of the organization's live images that meet every condition (compiled queries),
   * in `albums` when given; newest first (or oldest first), keyset-paged on (created_at, id).
   */
  search(
    organizationId: string,
    conditions: ImageCondition[],
    albums: string[] | undefined,
    limit: number,
    order: 'asc' | 'desc',
    after?: ImagePageCursor,
  ): Promise<Image[]> {
    if (albums && albums.length === 0) return Promise.resolve([]);
    let query = this.db.selectFrom('images').selectAll().where('organization_id', '=', organizationId).where('deleted_at', 'is', null);
    if (albums) query = query.where('album_id', 'in', albums);
    for (const condition of conditions) query = query.where(condition);
    if (after) query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), order === 'desc' ? '<' : '>', eb.tuple(after.createdAt, after.id)));
    return query.orderBy('created_at', order).orderBy('id', order).limit(limit).execute();
  }

  /** The ids among `ids` of live images of the organization that meet the condition. */
  async matching(organizationId: string, ids: string[], condition: ImageCondition, db: Db = this.db): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await db
      .selectFrom('images')
      .select('id')
      .where('organization_id', '=', organizationId)
      .where('id', 'in', ids)
      .where('deleted_at', 'is', null)
      .where(condition)
      .execute();
    return new Set(rows.map((r) => r.id));
  }

  /** Salesforce ids of the organization's users among `userIds`. */
  async userSfids(organizationId: string, userIds: string[]): Promise<Map<string, string | null>> {
    if (userIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('users')
      .select(['id', 'sfid'])
      .where('organization_id', '=', organizationId)
      .where('id', 'in', userIds)
      .execute();
    return new Map(rows.map((r) => [r.id, r.sfid]));
  }

  /** Tag names of each image, sorted by name. */
  async tagNames(imageIds: string[]): Promise<Map<string, string[]>> {
    const byImage = new Map<string, string[]>();
    if (imageIds.length === 0) return byImage;
    const rows = await this.db
      .selectFrom('tag_images')
      .innerJoin('tags', 'tags.id', 'tag_images.tag_id')
      .select(['tag_images.image_id', 'tags.name'])
      .where('tag_images.image_id', 'in', imageIds)
      .orderBy('tags.name')
      .execute();
    for (const row of rows) {
      const names = byImage.get(row.image_id);
      if (names) names.push(row.name);
      else byImage.set(row.image_id, [row.name]);
    }
    return byImage;
  }

  /** Tags an image with each of `names`, creating the organization's tags that are missing (labels = name). */
  async addTags(imageId: string, names: string[]): Promise<void> {
    if (names.length === 0) return;
    await sql`
      with image as (select organization_id from images where id = ${imageId}::uuid),
      wanted as (select distinct unnest(${names}::text[]) as name),
      made as (
        insert into tags (id, organization_id, name, labels, color)
        select gen_random_uuid(), image.organization_id, wanted.name, json_build_object('en', wanted.name, 'fr', wanted.name), '#9E9E9E'
        from image, wanted
        on conflict (organization_id, name) do nothing
        returning id, name
      ), found as (
        select id from made
        union all
        select t.id from tags t, image where t.organization_id = image.organization_id and t.name in (select name from wanted)
      )
      insert into tag_images (id, organization_id, tag_id, image_id)
      select gen_random_uuid(), image.organization_id, found.id, ${imageId}::uuid from found, image
      on conflict do nothing`.execute(this.db);
  }

  /** Marks the album's images not yet listed by an "upload done" event, and returns their ids in creation order. */
  async takeUnreported(organizationId: string, albumId: string, db: Db = this.db): Promise<string[]> {
    const rows = await db
      .updateTable('images')
      .set({ reported_at: new Date() })
      .where('organization_id', '=', organizationId)
      .where('album_id', '=', albumId)
      .where('reported_at', 'is', null)
      .where('deleted_at', 'is', null)
      .returning(['id', 'seq', 'created_at'])
      .execute();
    // Images from before `seq` existed (null) first, by time; then creation order.
    const order = (r: { seq: string | null }) => (r.seq === null ? -1 : Number(r.seq));
    return rows.sort((a, b) => order(a) - order(b) || a.created_at.getTime() - b.created_at.getTime() || (a.id < b.id ? -1 : 1)).map((r) => r.id);
  }
}
