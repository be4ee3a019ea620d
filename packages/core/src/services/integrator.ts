import type { Kysely } from 'kysely';
import { can, canRead, isMember, type Principal } from '../auth/abilities.js';
import type { Authenticated, TokenClaims, Tokens } from '../auth/tokens.js';
import type { Database, Organization } from '../db/schema.js';
import { AccessDenied, BadRequest, NotFound } from '../errors.js';
import type { OrganizationRepository } from '../repositories/organizations.js';
import type { ImagePage, ImageService } from './images.js';
import type { SetupService } from './setup.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The album whose images are the organization's stickers (`GET /stickers`). */
export const STICKER_ALBUM = '_sharinpix_sticker';

/**
 * Claims the server sets on a generated token; a permission may not choose them. `album_id`
 * and `organization_id` make notification tokens, which never act as API tokens.
 */
const RESERVED_CLAIMS = new Set(['iss', 'sub', 'aud', 'iat', 'nbf', 'exp', 'jti', 'first_iat', 'album_id', 'organization_id']);
/** Album "abilities" that are display options, not rights: anyone may pass them on. */
const OPTIONS = new Set(['fullscreen', 'einstein_box']);

export interface OrganizationJson {
  id: string;
  name: string;
  sandbox: boolean;
  sfid: string | null;
}

export interface UserJson {
  public_id: string;
  fullname: string;
  email: string | null;
  admin: boolean;
  username: string | null;
}

export interface AnnotationJson {
  svg: string | null;
  object: unknown;
}

export function serializeOrganization(organization: Organization): OrganizationJson {
  return { id: organization.id, name: organization.name, sandbox: organization.sandbox, sfid: organization.sfid };
}

export interface IntegratorDeps {
  db: Kysely<Database>;
  organizations: OrganizationRepository;
  images: ImageService;
  setup: SetupService;
  tokens: Tokens;
  publicUrl: string;
  /** Longest SVG kept, in characters. */
  maxAnnotationLength: number;
}

/** What an integrator asks of the API about itself: its organization, user, secrets, tokens; annotations and stickers. */
export class IntegratorService {
  constructor(private readonly deps: IntegratorDeps) {}

  async organization(principal: Principal): Promise<OrganizationJson> {
    const organization = await this.deps.organizations.find(principal.organizationId);
    if (!organization) throw new NotFound('Organization');
    return serializeOrganization(organization);
  }

  /** The user the token was issued to; a token that names no user of the organization has none (404). */
  async user(principal: Principal): Promise<UserJson> {
    const user = principal.userId ? await this.deps.organizations.findUser(principal.userId) : undefined;
    if (!user || user.organization_id !== principal.organizationId) throw new NotFound('User');
    return {
      public_id: user.id,
      fullname: user.name ?? user.email ?? 'Unknown user',
      email: user.email,
      admin: principal.admin,
      username: user.email,
    };
  }

  /** A new integrator secret of the caller's organization; admins only. Its URL is shown this once. */
  async createSecret(principal: Principal, name: string | undefined): Promise<{ id: string; url: string; organization: OrganizationJson }> {
    if (!principal.admin) throw new AccessDenied('admin needed');
    const organization = await this.organization(principal);
    const secret = await this.deps.setup.createSecret(principal.organizationId, name);
    return { id: secret.id, url: secret.url, organization };
  }

  /**
   * Signs the claims of `permission` for the caller, with the caller's key (an integrator's
   * secret, or the app key), as the caller's user. Every right it names must be one the caller
   * has; claims the server owns cannot be chosen; a search restriction of the caller (`q`) is
   * kept. Anything else is refused: 401 for a right the caller lacks, 400 for a malformed one.
   */
  async generateToken(auth: Authenticated, permission: Record<string, unknown>): Promise<{ token: string; endpoint: string }> {
    const { principal, claims: callerClaims } = auth;
    const claims: TokenClaims = {};
    for (const [key, value] of Object.entries(permission)) {
      if (RESERVED_CLAIMS.has(key)) throw new BadRequest(`permission.${key}: set by the server, not by a permission`);
      if (key === 'user_id') {
        if (value !== principal.userId) throw new AccessDenied('a token for another user');
        continue;
      }
      if (key === 'admin') {
        if (value === true && !principal.admin) throw new AccessDenied('admin needed');
        if (value === true) claims.admin = true;
        continue;
      }
      if (key === 'abilities') {
        claims.abilities = this.delegatedAbilities(principal, value);
        continue;
      }
      // Rights outside `abilities`: only passed on by a caller that has them.
      if (key === 'download') {
        if (value === true && !principal.admin && !principal.download) throw new AccessDenied('download needed');
        if (value === true) claims.download = true;
        continue;
      }
      if (key === 'image_delete') {
        if (value === true && !principal.admin && callerClaims.image_delete !== true) throw new AccessDenied('image_delete needed');
        if (value === true) claims.image_delete = true;
        continue;
      }
      claims[key] = value;
    }
    if (principal.userId) claims.user_id = principal.userId;
    if (typeof callerClaims.q === 'string' && callerClaims.q !== '') {
      claims.q = typeof claims.q === 'string' && claims.q !== '' ? `(${callerClaims.q}) AND (${claims.q})` : callerClaims.q;
    }
    if (principal.kind === 'integrator' && principal.secretId) claims.iss = principal.secretId;
    if (callerClaims.first_iat !== undefined) claims.first_iat = callerClaims.first_iat;
    const now = Math.floor(Date.now() / 1000);
    const signed = this.deps.tokens.renewedClaims(claims, now);
    // Never outlive the caller's own token.
    if (typeof callerClaims.exp === 'number' && signed.exp !== undefined && signed.exp > callerClaims.exp) signed.exp = callerClaims.exp;
    return { token: await this.deps.tokens.sign(signed, auth.key), endpoint: new URL(this.deps.publicUrl).host };
  }

  private delegatedAbilities(principal: Principal, value: unknown): Record<string, never> {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new BadRequest('permission.abilities: an object is expected');
    for (const [albumId, entry] of Object.entries(value as Record<string, unknown>)) {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw new BadRequest(`permission.abilities.${albumId}: an object is expected`);
      if (albumId === 'tags') {
        // Upload options (`auto_tag`): a member's to give, or what the caller was given.
        if (!isMember(principal) && JSON.stringify(principal.abilities.tags) !== JSON.stringify(entry)) throw new AccessDenied('tag options of another token');
        continue;
      }
      for (const [field, rights] of Object.entries(entry as Record<string, unknown>)) {
        if (field !== 'Access') {
          // Per-album settings other than rights (a `Tags` map): only as the caller holds them, or a member's.
          const own = principal.abilities[albumId] as Record<string, unknown> | undefined;
          if (!isMember(principal) && JSON.stringify(own?.[field]) !== JSON.stringify(rights)) throw new AccessDenied(`${field} of another token`);
          continue;
        }
        if (rights === null || typeof rights !== 'object' || Array.isArray(rights)) throw new BadRequest(`permission.abilities.${albumId}.Access: an object is expected`);
        for (const [ability, granted] of Object.entries(rights as Record<string, unknown>)) {
          if (granted !== true || OPTIONS.has(ability)) continue;
          const held = can(principal, albumId, ability) || ((ability === 'see' || ability === 'image_list') && canRead(principal, albumId, ability));
          if (!held) throw new AccessDenied(`${ability} on ${albumId} is not the caller's to give`);
        }
      }
    }
    return value as Record<string, never>;
  }

  /** The annotation of an image the caller may read (`image_list` on its album). */
  async annotation(principal: Principal, imageId: string): Promise<AnnotationJson> {
    const image = await this.findImage(principal, imageId);
    this.deps.images.checkRead(principal, image.album_id);
    const row = await this.deps.db
      .selectFrom('image_annotations')
      .select(['svg', 'object'])
      .where('image_id', '=', image.id)
      .where('organization_id', '=', principal.organizationId)
      .executeTakeFirst();
    return { svg: row?.svg ?? null, object: row?.object ?? null };
  }

  /** Replaces an image's annotation (`image_annotate` on its album). The SVG is kept as text, never interpreted. */
  async annotate(principal: Principal, imageId: string, svg: string | null, object: unknown): Promise<AnnotationJson> {
    const image = await this.findImage(principal, imageId);
    if (!can(principal, image.album_id, 'image_annotate')) throw new AccessDenied('image_annotate needed');
    if (svg !== null && svg.length > this.deps.maxAnnotationLength) throw new BadRequest(`annotation: at most ${this.deps.maxAnnotationLength} characters`);
    const objectText = object === null || object === undefined ? null : JSON.stringify(object);
    await this.deps.db
      .insertInto('image_annotations')
      .values({ image_id: image.id, organization_id: principal.organizationId, svg, object: objectText, updated_at: new Date() })
      .onConflict((oc) => oc.column('image_id').doUpdateSet((eb) => ({ svg: eb.ref('excluded.svg'), object: eb.ref('excluded.object'), updated_at: eb.ref('excluded.updated_at') })))
      .execute();
    return { svg, object: object ?? null };
  }

  /** The organization's stickers: the images of its sticker album, for every token of the organization. */
  stickers(principal: Principal, limit: number, cursor: string | undefined): Promise<ImagePage> {
    return this.deps.images.page(principal.organizationId, STICKER_ALBUM, limit, cursor);
  }

  private async findImage(principal: Principal, imageId: string) {
    if (!UUID.test(imageId)) throw new NotFound('Image');
    const image = await this.deps.images.find(principal.organizationId, imageId.toLowerCase());
    if (!image) throw new NotFound('Image');
    return image;
  }
}
