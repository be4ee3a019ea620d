import { sql, type Kysely, type Transaction } from 'kysely';
import type { Keyset } from '../domain/cursor.js';
import type { Database, Image, Tag, TagImage } from '../db/schema.js';
import type { TagLabels } from '../serializers/tag.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface NewTag {
  name: string;
  labels: TagLabels;
  color: string;
  listed?: boolean;
  public?: boolean;
  visible?: boolean;
  allow_download?: boolean;
}

export type TagPatch = Partial<Pick<Tag, 'name' | 'listed' | 'public' | 'visible' | 'allow_download' | 'color'>> & { labels?: TagLabels };

/** Which tags a list shows: flags, and (for tokens that name their tags) only those names. */
export interface TagFilter {
  listed?: boolean;
  public?: boolean;
  visible?: boolean;
  allow_download?: boolean;
  names?: string[];
}

/** Which links a list shows. `albums`: only images of these albums (a token that names its albums). */
export interface TagImageFilter {
  tagId?: string;
  tagName?: string;
  albumId?: string;
  imageIds?: string[];
  albums?: string[];
  /** Only links of tags of these names (a token that names its tags). */
  tagNames?: string[];
  publicOnly?: boolean;
}

/** A link with its tag and its (live) image. */
export interface TagImageRow {
  link: TagImage;
  tag: Tag;
  image: Image;
}

/** Names compared in any case, as search and look-ups by name do. */
const lowerAll = (names: string[]) => names.map((name) => name.toLowerCase());

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Tags of organizations and their links to images (migration 0012). */
export class TagRepository {
  constructor(private readonly db: Kysely<Database>) {}

  find(organizationId: string, id: string, db: Db = this.db): Promise<Tag | undefined> {
    return db.selectFrom('tags').selectAll().where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
  }

  /**
   * The tag of that name, in any case ("Beach" finds "beach"), as search compares tag names; the
   * exact spelling first when two spellings exist.
   */
  findByName(organizationId: string, name: string, db: Db = this.db): Promise<Tag | undefined> {
    return db
      .selectFrom('tags')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where(sql<string>`lower(name)`, '=', sql<string>`lower(${name})`)
      .orderBy(sql`name = ${name}`, 'desc')
      .orderBy('created_at')
      .limit(1)
      .executeTakeFirst();
  }

  /** Creates the tag, or answers the one of that name in any case (`created` says which). */
  async create(organizationId: string, tag: NewTag, db: Db = this.db): Promise<{ tag: Tag; created: boolean }> {
    const existing = await this.findByName(organizationId, tag.name, db);
    if (existing) return { tag: existing, created: false };
    const made = await db
      .insertInto('tags')
      .values({ id: crypto.randomUUID(), organization_id: organizationId, ...tag, labels: JSON.stringify(tag.labels) })
      .onConflict((oc) => oc.columns(['organization_id', 'name']).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (made) return { tag: made, created: true };
    return { tag: (await this.findByName(organizationId, tag.name, db))!, created: false };
  }

  /** The tags of these names, created (with their labels and a colour) where missing; in the order given. */
  async findOrCreateMany(organizationId: string, wanted: Array<{ name: string; labels: TagLabels; color: string }>, db: Db = this.db): Promise<Tag[]> {
    if (wanted.length === 0) return [];
    const lowered = (list: string[]) => sql<string>`(select lower(n) from unnest(${list}::text[]) as n)`;
    const found = async () => {
      const rows = await db
        .selectFrom('tags')
        .selectAll()
        .where('organization_id', '=', organizationId)
        .where(sql<string>`lower(name)`, 'in', lowered(wanted.map((w) => w.name)))
        .orderBy('created_at')
        .execute();
      const byName = new Map<string, Tag>();
      // The exact spelling, else the oldest of another case.
      for (const row of rows) if (!byName.has(row.name.toLowerCase()) || row.name === wanted.find((w) => w.name.toLowerCase() === row.name.toLowerCase())?.name) byName.set(row.name.toLowerCase(), row);
      return byName;
    };
    let byName = await found();
    const missing = wanted.filter((w) => !byName.has(w.name.toLowerCase()));
    if (missing.length > 0) {
      const unique = [...new Map(missing.map((w) => [w.name.toLowerCase(), w])).values()];
      await db
        .insertInto('tags')
        .values(unique.map((w) => ({ id: crypto.randomUUID(), organization_id: organizationId, name: w.name, labels: JSON.stringify(w.labels), color: w.color })))
        .onConflict((oc) => oc.columns(['organization_id', 'name']).doNothing())
        .execute();
      byName = await found();
    }
    return wanted.map((w) => byName.get(w.name.toLowerCase())!).filter(Boolean);
  }

  async update(organizationId: string, id: string, patch: TagPatch, db: Db = this.db): Promise<Tag | undefined> {
    const { labels, ...rest } = patch;
    return db
      .updateTable('tags')
      .set({ ...rest, ...(labels ? { labels: JSON.stringify(labels) } : {}), updated_at: new Date() })
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
  }

  /** A page of the organization's tags, oldest first, after the keyset. */
  list(organizationId: string, filter: TagFilter, limit: number, after?: Keyset): Promise<Tag[]> {
    if (filter.names && filter.names.length === 0) return Promise.resolve([]);
    let query = this.db.selectFrom('tags').selectAll().where('organization_id', '=', organizationId);
    query = this.flags(query, filter);
    if (filter.names) query = query.where(sql<string>`lower(name)`, 'in', lowerAll(filter.names));
    if (after) query = query.where((eb) => eb.or([eb('created_at', '>', after.at), eb.and([eb('created_at', '=', after.at), eb('id', '>', after.id)])]));
    return query.orderBy('created_at').orderBy('id').limit(limit).execute();
  }

  /** Tags whose name or a label holds `q` (any case), names first, at most `limit`. */
  suggest(organizationId: string, q: string, filter: TagFilter, limit: number): Promise<Tag[]> {
    if (filter.names && filter.names.length === 0) return Promise.resolve([]);
    const pattern = `%${escapeLike(q)}%`;
    let query = this.db
      .selectFrom('tags')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where((eb) =>
        eb.or([
          eb('name', 'ilike', pattern),
          eb(sql<string>`labels->>'en'`, 'ilike', pattern),
          eb(sql<string>`labels->>'fr'`, 'ilike', pattern),
        ]),
      );
    query = this.flags(query, filter);
    if (filter.names) query = query.where(sql<string>`lower(name)`, 'in', lowerAll(filter.names));
    return query.orderBy(sql`name ilike ${pattern} desc`).orderBy('name').limit(limit).execute();
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private flags<Q extends { where: (...args: any[]) => Q }>(query: Q, filter: TagFilter): Q {
    for (const flag of ['listed', 'public', 'visible', 'allow_download'] as const) {
      const value = filter[flag];
      if (value !== undefined) query = query.where(flag, '=', value);
    }
    return query;
  }

  /** Links the tag to each image (once per pair); returns the links made now. */
  link(organizationId: string, tagId: string, imageIds: string[], userId: string | null, at: Date, db: Db = this.db): Promise<TagImage[]> {
    if (imageIds.length === 0) return Promise.resolve([]);
    return db
      .insertInto('tag_images')
      .values(imageIds.map((imageId) => ({ id: crypto.randomUUID(), organization_id: organizationId, tag_id: tagId, image_id: imageId, user_id: userId, created_at: at })))
      .onConflict((oc) => oc.columns(['tag_id', 'image_id']).doNothing())
      .returningAll()
      .execute();
  }

  /** The links of the tag to these images, whenever they were made. */
  links(tagId: string, imageIds: string[], db: Db = this.db): Promise<TagImage[]> {
    if (imageIds.length === 0) return Promise.resolve([]);
    return db.selectFrom('tag_images').selectAll().where('tag_id', '=', tagId).where('image_id', 'in', imageIds).execute();
  }

  findLink(organizationId: string, id: string, db: Db = this.db): Promise<TagImage | undefined> {
    return db.selectFrom('tag_images').selectAll().where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
  }

  async unlink(organizationId: string, id: string, db: Db = this.db): Promise<TagImage | undefined> {
    return db.deleteFrom('tag_images').where('organization_id', '=', organizationId).where('id', '=', id).returningAll().executeTakeFirst();
  }

  /** A page of links to live images, oldest first, after the keyset; with their tags and images. */
  async listLinks(organizationId: string, filter: TagImageFilter, limit: number, after?: Keyset): Promise<TagImageRow[]> {
    if ([filter.albums, filter.imageIds, filter.tagNames].some((list) => list && list.length === 0)) return [];
    let query = this.db
      .selectFrom('tag_images')
      .innerJoin('tags', 'tags.id', 'tag_images.tag_id')
      .innerJoin('images', 'images.id', 'tag_images.image_id')
      .selectAll('tag_images')
      .where('tag_images.organization_id', '=', organizationId)
      .where('images.organization_id', '=', organizationId)
      .where('images.deleted_at', 'is', null);
    if (filter.tagId) query = query.where('tag_images.tag_id', '=', filter.tagId);
    if (filter.tagName !== undefined) query = query.where(sql<string>`lower(tags.name)`, '=', filter.tagName.toLowerCase());
    if (filter.tagNames) query = query.where(sql<string>`lower(tags.name)`, 'in', lowerAll(filter.tagNames));
    if (filter.publicOnly) query = query.where('tags.public', '=', true);
    if (filter.albumId !== undefined) query = query.where('images.album_id', '=', filter.albumId);
    if (filter.albums) query = query.where('images.album_id', 'in', filter.albums);
    if (filter.imageIds) query = query.where('tag_images.image_id', 'in', filter.imageIds);
    if (after) {
      query = query.where((eb) =>
        eb.or([eb('tag_images.created_at', '>', after.at), eb.and([eb('tag_images.created_at', '=', after.at), eb('tag_images.id', '>', after.id)])]),
      );
    }
    const links = await query.orderBy('tag_images.created_at').orderBy('tag_images.id').limit(limit).execute();
    return this.withTagsAndImages(organizationId, links);
  }

  /** The tags and images of links, read in two queries. */
  async withTagsAndImages(organizationId: string, links: TagImage[], db: Db = this.db): Promise<TagImageRow[]> {
    if (links.length === 0) return [];
    const [tags, images] = await Promise.all([
      db.selectFrom('tags').selectAll().where('organization_id', '=', organizationId).where('id', 'in', [...new Set(links.map((l) => l.tag_id))]).execute(),
      db.selectFrom('images').selectAll().where('organization_id', '=', organizationId).where('id', 'in', [...new Set(links.map((l) => l.image_id))]).execute(),
    ]);
    const tagById = new Map(tags.map((t) => [t.id, t]));
    const imageById = new Map(images.map((i) => [i.id, i]));
    return links.flatMap((link) => {
      const tag = tagById.get(link.tag_id);
      const image = imageById.get(link.image_id);
      return tag && image ? [{ link, tag, image }] : [];
    });
  }
}
