/** What a token may do: per-album abilities, `admin`, and organization membership. */

export const ABILITIES = [
  'see',
  'image_list',
  'image_upload',
  'image_delete',
  'image_duplicate',
  'image_crop',
  'image_rotate',
  'image_caption',
  'image_tag',
] as const;

export type Ability = (typeof ABILITIES)[number];

/** `abilities.<album id>.Access.<ability> = true`, as tokens carry them. */
export type Abilities = Record<string, { Access?: Partial<Record<string, boolean>> } | undefined>;

export interface Principal {
  /** `user`: a token the server issued to one of its users; `integrator`: signed with an organization secret. */
  kind: 'user' | 'integrator';
  organizationId: string;
  userId: string | null;
  /** The organization secret an integrator token was signed with (its `iss`). */
  secretId: string | null;
  admin: boolean;
  abilities: Abilities;
  /**
   * A search query the token is bound to (claim `q`): it reads only images that match it, and
   * with `deleteMatching` (claim `image_delete: true`) may delete exactly those.
   */
  query?: string;
  deleteMatching?: boolean;
  /** Claim `download: true`: may make zip downloads (`POST /downloads`) of the images it reads. */
  download?: boolean;
}

/**
 * What a server-issued user token may do on an album of its organization that its `abilities`
 * do not name, as the API has always answered it (`X-access-*` of `GET /albums/:id` for a token
 * with empty abilities): upload, delete, rotate, crop, stats and download; and captions, which
 * no header reports but members delegate (`POST /token` as recorded); nothing else. A token
 * that names the album gets exactly what it names.
 */
export const MEMBER_DEFAULTS: Readonly<Record<string, boolean>> = Object.freeze({
  image_delete: true,
  image_upload: true,
  image_rotate: true,
  image_crop: true,
  stats: true,
  image_download: true,
  // Captions: the recorded token generator shows a member handing `image_caption` on.
  image_caption: true,
});

/**
 * `admin` grants every ability, but only inside the principal's organization (callers scope
 * queries by it); a user token without an entry for the album has the member defaults.
 */
export function can(principal: Principal, albumId: string, ability: Ability | string): boolean {
  if (principal.admin) return true;
  const entry = Object.hasOwn(principal.abilities, albumId) ? principal.abilities[albumId] : undefined;
  if (entry !== undefined && entry !== null) return typeof entry === 'object' && entry.Access?.[ability] === true;
  return principal.kind === 'user' && MEMBER_DEFAULTS[ability] === true;
}

/** The abilities `GET /albums/:id` reports in `X-access-<name>` headers, in the recorded order. */
const ALBUM_ACCESS_HEADERS = [
  'image_delete',
  'image_upload',
  'image_share',
  'image_rotate',
  'image_crop',
  'stats',
  'image_copy',
  'paste',
  'share',
  'image_duplicate',
  'create_tag',
  'image_download',
  'image_annotate',
] as const;
/** Options rather than rights: their value is reported as given ("" when unset). */
const ALBUM_OPTION_HEADERS = ['fullscreen', 'einstein_box'] as const;

/** `X-access-*` headers of an album: "true"/"false" per ability, options as the token gives them. */
export function albumAccessHeaders(principal: Principal, albumId: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of ALBUM_ACCESS_HEADERS) headers[`X-access-${name}`] = String(can(principal, albumId, name));
  const entry = Object.hasOwn(principal.abilities, albumId) ? principal.abilities[albumId] : undefined;
  const access = entry?.Access as Record<string, unknown> | undefined;
  for (const name of ALBUM_OPTION_HEADERS) {
    const value = access && Object.hasOwn(access, name) ? String(access[name]) : '';
    // A header value from a token: printable and short, or nothing.
    headers[`X-access-${name}`] = /^[\w .:,/-]{0,256}$/.test(value) ? value : '';
  }
  return headers;
}

/** `X-access-crop/rotate/duplicate` of an image, for the album it is in. */
export function imageAccessHeaders(principal: Principal, albumId: string): Record<string, string> {
  return {
    'X-access-crop': String(can(principal, albumId, 'image_crop')),
    'X-access-rotate': String(can(principal, albumId, 'image_rotate')),
    'X-access-duplicate': String(can(principal, albumId, 'image_duplicate')),
  };
}

/** Any ability on the album: enough to see it and to create it on first use. */
export function hasAnyAbility(principal: Principal, albumId: string): boolean {
  if (principal.admin) return true;
  const access = Object.hasOwn(principal.abilities, albumId) ? principal.abilities[albumId]?.Access : undefined;
  return access !== undefined && Object.values(access).some((v) => v === true);
}

/** Members (user tokens) read everything in their organization, as the seeds do with empty abilities. */
export function isMember(principal: Principal): boolean {
  return principal.kind === 'user' || principal.admin;
}

export function canRead(principal: Principal, albumId: string, ability: 'see' | 'image_list'): boolean {
  return isMember(principal) || can(principal, albumId, ability) || (ability === 'see' && hasAnyAbility(principal, albumId));
}
