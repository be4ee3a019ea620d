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
}

/** `admin` grants every ability, but only inside the principal's organization (callers scope queries by it). */
export function can(principal: Principal, albumId: string, ability: Ability): boolean {
  if (principal.admin) return true;
  return principal.abilities[albumId]?.Access?.[ability] === true;
}

/** Any ability on the album: enough to see it and to create it on first use. */
export function hasAnyAbility(principal: Principal, albumId: string): boolean {
  if (principal.admin) return true;
  const access = principal.abilities[albumId]?.Access;
  return access !== undefined && Object.values(access).some((v) => v === true);
}

/** Members (user tokens) read everything in their organization, as the seeds do with empty abilities. */
export function isMember(principal: Principal): boolean {
  return principal.kind === 'user' || principal.admin;
}

export function canRead(principal: Principal, albumId: string, ability: 'see' | 'image_list'): boolean {
  return isMember(principal) || can(principal, albumId, ability) || (ability === 'see' && hasAnyAbility(principal, albumId));
}
