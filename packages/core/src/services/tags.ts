import type { Kysely } from 'kysely';
import { can, isMember, type Principal } from '../auth/abilities.js';
import type { Database, Image, Tag, TagImage } from '../db/schema.js';
import type { Keyset } from '../domain/cursor.js';
import { AccessDenied, BadRequest, NotFound } from '../errors.js';
import type { EventService } from './events.js';
import type { TagFilter, TagImageFilter, TagImageRow, TagPatch, TagRepository } from '../repositories/tags.js';
import { TAG_PALETTE, type TagLabels } from '../serializers/tag.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The abilities key that holds organization-wide tag rights (`abilities.tags.create`), not an album. */
const TAGS_KEY = 'tags';
export const TAG_NAME_MAX = 255;
const LABEL_MAX = 255;
/** Tags one token may name (`abilities.<album>.Tags`) and `GET /tags_token` creates. */
export const TOKEN_TAGS_MAX = 500;

export const randomTagColor = () => TAG_PALETTE[Math.floor(Math.random() * TAG_PALETTE.length)]!;

/** A tag name: not empty, not too long, no control characters. */
export function checkTagName(name: string, field = 'name'): string {
  // eslint-disable-next-line no-control-regex
  if (name.trim() === '' || name.length > TAG_NAME_MAX || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new BadRequest(`${field}: a tag name of 1 to ${TAG_NAME_MAX} printable characters is expected`);
  }
  return name;
}

/**
 * Labels as tokens and clients give them: `{en, fr}` (an object or its JSON text), a plain
 * text used for both, or nothing (the name). A label that is not text is the name.
 */
export function labelsFrom(value: unknown, name: string): TagLabels {
  let given = value;
  if (typeof given === 'string') {
    const text = given.trim();
    if (text.startsWith('{')) {
      try {
        given = JSON.parse(text);
      } catch {
        given = text;
      }
    }
  }
  const clip = (text: unknown) => (typeof text === 'string' && text.trim() !== '' ? text.slice(0, LABEL_MAX) : undefined);
  if (typeof given === 'string') {
    const label = clip(given) ?? name;
    return { en: label, fr: label };
  }
  if (given && typeof given === 'object' && !Array.isArray(given)) {
    const labels = given as Record<string, unknown>;
    const en = clip(labels.en) ?? name;
    return { en, fr: clip(labels.fr) ?? en };
  }
  return { en: name, fr: name };
}

/** The `Tags` map of an album entry of the token: the tag names it allows there, with their labels. */
function tagsMap(principal: Principal, albumId: string): Record<string, unknown> | undefined {
  const entry = Object.hasOwn(principal.abilities, albumId) ? (principal.abilities[albumId] as { Tags?: unknown } | undefined) : undefined;
  const tags = entry?.Tags;
  return tags && typeof tags === 'object' && !Array.isArray(tags) ? (tags as Record<string, unknown>) : undefined;
}

/** `abilities.tags.<right>`: organization-wide tag rights an integrator grants. */
function tagsRight(principal: Principal, right: string): boolean {
  const entry = Object.hasOwn(principal.abilities, TAGS_KEY) ? (principal.abilities[TAGS_KEY] as Record<string, unknown> | undefined) : undefined;
  return entry?.[right] === true;
}

/** Every tag a token names in its albums' `Tags` maps, in token order, once each, with its labels. */
export function tokenTags(principal: Principal): Array<{ name: string; labels: TagLabels }> {
  const seen = new Map<string, TagLabels>();
  for (const albumId of Object.keys(principal.abilities)) {
    if (albumId === TAGS_KEY) continue;
    const map = tagsMap(principal, albumId);
    if (!map) continue;
    for (const [name, label] of Object.entries(map)) {
      if (seen.has(name) || name.trim() === '' || name.length > TAG_NAME_MAX) continue;
      if (seen.size >= TOKEN_TAGS_MAX) throw new BadRequest(`abilities: at most ${TOKEN_TAGS_MAX} tags per token`);
      seen.set(name, labelsFrom(label, name));
    }
  }
  return [...seen].map(([name, labels]) => ({ name, labels }));
}

export interface NewTagInput {
  name: string;
  label?: unknown;
  listed?: boolean;
  public?: boolean;
  visible?: boolean;
  allow_download?: boolean;
  color?: string;
}

export type TagChanges = Omit<Partial<NewTagInput>, 'name'> & { name?: string };

/**
 * Tags and tag links. Rights:
 * - creating, editing and listing every tag: members, admins, or `abilities.tags.create`; a
 *   token without those sees the tags its albums' `Tags` maps name;
 * - making a tag public or downloadable: `Access.share` on some album (or an admin);
 * - tagging or untagging an image: `Access.image_tag` on its album and the tag named in that
 *   album's `Tags` map (an admin: any tag).
 */
export class TagService {
  constructor(
    private readonly deps: {
      db: Kysely<Database>;
      tags: TagRepository;
      events: EventService;
      /** Tag names are part of the sync payload: tell caches. */
      changed?: (imageId: string) => void;
    },
  ) {}

  /** Members, admins and `abilities.tags.create` manage the organization's tags. */
  private manages(principal: Principal): boolean {
    return principal.admin || principal.kind === 'user' || tagsRight(principal, 'create');
  }

  private shares(principal: Principal): boolean {
    return principal.admin || Object.values(principal.abilities).some((entry) => entry?.Access?.share === true);
  }

  /** The names a token that does not manage tags may see; undefined: all. */
  private visibleNames(principal: Principal): string[] | undefined {
    return this.manages(principal) ? undefined : tokenTags(principal).map((t) => t.name);
  }

  async create(principal: Principal, input: NewTagInput): Promise<Tag> {
    if (!this.manages(principal)) throw new AccessDenied('tags.create needed');
    const name = checkTagName(input.name);
    if ((input.public || input.allow_download) && !this.shares(principal)) throw new AccessDenied('share needed');
    const { tag } = await this.deps.tags.create(principal.organizationId, {
      name,
      labels: labelsFrom(input.label, name),
      color: input.color ?? randomTagColor(),
      listed: input.listed ?? true,
      public: input.public ?? false,
      visible: input.visible ?? false,
      allow_download: input.allow_download ?? false,
    });
    return tag;
  }

  async update(principal: Principal, id: string, changes: TagChanges): Promise<Tag> {
    const tag = await this.get(principal, id);
    const sharing = (changes.public !== undefined && changes.public !== tag.public) || (changes.allow_download !== undefined && changes.allow_download !== tag.allow_download);
    const editing = ['name', 'label', 'listed', 'visible', 'color'].some((field) => changes[field as keyof TagChanges] !== undefined);
    if (sharing && !this.shares(principal)) throw new AccessDenied('share needed');
    if (editing && !this.manages(principal)) throw new AccessDenied('tags.create needed');
    const patch: TagPatch = {};
    if (changes.name !== undefined && changes.name !== tag.name) {
      patch.name = checkTagName(changes.name);
      const holder = await this.deps.tags.findByName(principal.organizationId, patch.name);
      if (holder && holder.id !== tag.id) throw new BadRequest('name: a tag of that name exists (names are compared in any case)');
    }
    if (changes.label !== undefined) patch.labels = labelsFrom(changes.label, patch.name ?? tag.name);
    for (const flag of ['listed', 'public', 'visible', 'allow_download'] as const) if (changes[flag] !== undefined) patch[flag] = changes[flag];
    if (changes.color !== undefined) patch.color = changes.color;
    if (Object.keys(patch).length === 0) return tag;
    try {
      const updated = await this.deps.tags.update(principal.organizationId, tag.id, patch);
      if (!updated) throw new NotFound('Tag');
      return updated;
    } catch (error) {
      // A rename racing another to the same name: the unique constraint decides.
      if ((error as { code?: string }).code === '23505') throw new BadRequest('name: a tag of that name exists');
      throw error;
    }
  }

  /** A tag of the organization that the token may see, by id. */
  async get(principal: Principal, id: string): Promise<Tag> {
    const tag = UUID.test(id) ? await this.deps.tags.find(principal.organizationId, id.toLowerCase()) : undefined;
    const names = this.visibleNames(principal);
    if (!tag || (names && !names.includes(tag.name))) throw new NotFound('Tag');
    return tag;
  }

  list(principal: Principal, filter: TagFilter, limit: number, after?: Keyset): Promise<Tag[]> {
    return this.deps.tags.list(principal.organizationId, { ...filter, names: this.visibleNames(principal) }, limit, after);
  }

  suggest(principal: Principal, q: string, filter: TagFilter, limit: number): Promise<Tag[]> {
    return this.deps.tags.suggest(principal.organizationId, q, { ...filter, names: this.visibleNames(principal) }, limit);
  }

  /** The tags the token names in its albums' `Tags` maps, created (with the token's labels) where missing. */
  fromToken(principal: Principal): Promise<Tag[]> {
    const wanted = tokenTags(principal).map((t) => ({ ...t, color: randomTagColor() }));
    return this.deps.tags.findOrCreateMany(principal.organizationId, wanted);
  }

  /** May the token put (or take off) this tag on images of this album? */
  mayTag(principal: Principal, albumId: string, tagName: string): boolean {
    return this.tags(principal, albumId, tagName);
  }

  private tags(principal: Principal, albumId: string, tagName: string): boolean {
    if (principal.admin) return true;
    if (!can(principal, albumId, 'image_tag')) return false;
    const map = tagsMap(principal, albumId);
    const name = tagName.toLowerCase();
    return map !== undefined && Object.keys(map).some((key) => key.toLowerCase() === name);
  }

  /**
   * The tag a path names: its id, or its name (created when the token's `Tags` maps name it,
   * with their labels, as `GET /tags_token` would).
   */
  private async resolve(principal: Principal, idOrName: string): Promise<Tag> {
    const { tags } = this.deps;
    if (UUID.test(idOrName)) {
      const byId = await tags.find(principal.organizationId, idOrName.toLowerCase());
      if (byId) return byId;
    }
    const byName = await tags.findByName(principal.organizationId, idOrName);
    if (byName) return byName;
    const named = tokenTags(principal).find((t) => t.name.toLowerCase() === idOrName.toLowerCase());
    if (!named) throw new NotFound('Tag');
    const [made] = await tags.findOrCreateMany(principal.organizationId, [{ ...named, color: randomTagColor() }]);
    return made!;
  }

  /**
   * Tags images, all or nothing: every image must be live in the organization and taggable
   * with this tag by the token. Returns the links (new and existing) in the order asked;
   * one `tag_image` event per new link.
   */
  async tagImages(principal: Principal, idOrName: string, imageIds: string[]): Promise<TagImageRow[]> {
    checkTagName(idOrName, 'tag_id');
    const ids = [...new Set(imageIds.map((id) => id.toLowerCase()))];
    if (ids.length === 0) throw new BadRequest('image_ids: at least one image is expected');
    if (!ids.every((id) => UUID.test(id))) throw new AccessDenied('not an image id');
    const tag = await this.resolve(principal, idOrName);
    const { db, tags, events } = this.deps;
    const outcome = await db.transaction().execute(async (trx) => {
      const images = await trx
        .selectFrom('images')
        .selectAll()
        .where('organization_id', '=', principal.organizationId)
        .where('id', 'in', ids)
        .where('deleted_at', 'is', null)
        .forShare()
        .execute();
      if (images.length !== ids.length || images.some((image) => !this.tags(principal, image.album_id, tag.name))) {
        throw new AccessDenied('image_tag with this tag needed on every image');
      }
      const made = await tags.link(principal.organizationId, tag.id, ids, principal.userId, new Date(), trx);
      const byImage = new Map(images.map((image) => [image.id, image]));
      const recorded = await events.recordMany(
        principal.organizationId,
        'tag_image',
        made.map((link) => {
          const image = byImage.get(link.image_id)!;
          return { albumId: image.album_id, payload: { album_id: image.album_id, image_id: image.id, tag_id: tag.id, tag_name: tag.name } };
        }),
        trx,
      );
      const links = made.length === ids.length ? made : await tags.links(tag.id, ids, trx);
      return { images: byImage, links, recorded };
    });
    for (const event of outcome.recorded) this.deps.changed?.((event.payload as { image_id: string }).image_id);
    await events.dispatch(outcome.recorded);
    const byImage = new Map(outcome.links.map((link) => [link.image_id, link]));
    return ids.flatMap((id) => {
      const link = byImage.get(id);
      return link ? [{ link, tag, image: outcome.images.get(id)! }] : [];
    });
  }

  /** Takes a tag off an image (the same rights as putting it there); one `untag_image` event. */
  async untag(principal: Principal, linkId: string): Promise<void> {
    if (!UUID.test(linkId)) throw new NotFound('Tag image');
    const { db, tags, events } = this.deps;
    const event = await db.transaction().execute(async (trx) => {
      const link = await tags.findLink(principal.organizationId, linkId.toLowerCase(), trx);
      if (!link) throw new NotFound('Tag image');
      const [row] = await tags.withTagsAndImages(principal.organizationId, [link], trx);
      if (!row || row.image.deleted_at) throw new NotFound('Tag image');
      if (!this.tags(principal, row.image.album_id, row.tag.name)) throw new AccessDenied('image_tag with this tag needed');
      if (!(await tags.unlink(principal.organizationId, link.id, trx))) throw new NotFound('Tag image');
      return events.record(principal.organizationId, row.image.album_id, 'untag_image', { album_id: row.image.album_id, image_id: row.image.id, tag_id: row.tag.id, tag_name: row.tag.name }, trx);
    });
    this.deps.changed?.((event.payload as { image_id: string }).image_id);
    await events.dispatch([event]);
  }

  /**
   * A page of links. Members see every album; other tokens the albums they may see, and only
   * the tags they may see.
   */
  async links(principal: Principal, filter: Omit<TagImageFilter, 'albums' | 'tagNames'>, limit: number, after?: Keyset): Promise<TagImageRow[]> {
    const albums = isMember(principal)
      ? undefined
      : Object.keys(principal.abilities).filter((album) => album !== TAGS_KEY && (can(principal, album, 'see') || can(principal, album, 'image_list') || can(principal, album, 'image_tag')));
    return this.deps.tags.listLinks(principal.organizationId, { ...filter, albums, tagNames: this.visibleNames(principal) }, limit, after);
  }

  /** A public tag's page, for anyone: 404 unless the tag exists and is public. */
  async publicLinks(tagId: string, limit: number, after?: Keyset): Promise<{ tag: Tag; rows: Array<{ link: TagImage; image: Image }> }> {
    if (!UUID.test(tagId)) throw new NotFound('Tag');
    const tag = await this.deps.db.selectFrom('tags').selectAll().where('id', '=', tagId.toLowerCase()).where('public', '=', true).executeTakeFirst();
    if (!tag) throw new NotFound('Tag');
    const rows = await this.deps.tags.listLinks(tag.organization_id, { tagId: tag.id, publicOnly: true }, limit, after);
    return { tag, rows };
  }
}
