import { SignJWT, decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { AccessDenied } from '../errors.js';
import type { Abilities, Principal } from './abilities.js';

export const TOKEN_TTL_SECONDS = 4 * 3600;
/** Clock skew tolerated for `iat`. */
const IAT_SKEW_SECONDS = 5;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface TokenClaims extends JWTPayload {
  user_id?: string;
  abilities?: Abilities;
  admin?: boolean;
  album_id?: string;
  organization_id?: string;
  /** First issue of a renewed token, when renewals are capped. */
  first_iat?: number;
  /** A search query the token is bound to; `image_delete` lets it delete the matching images. */
  q?: string;
  image_delete?: boolean;
}

export interface SecretRecord {
  organizationId: string;
  secret: string;
  revoked: boolean;
}

export interface TokenLookups {
  /** The organization secret named by an integrator token's `iss`. */
  findSecret(id: string): Promise<SecretRecord | undefined>;
  /** The organization of a user named by a server-issued token. */
  findUserOrganization(userId: string): Promise<string | undefined>;
}

/** A verified token: who it is, and how to sign its `X-token` renewal. */
export interface Authenticated {
  principal: Principal;
  claims: TokenClaims;
  key: Uint8Array;
}

/** Where a notification token sends uploads. */
export interface NotificationTarget {
  organizationId: string;
  albumId: string;
  userId: string | null;
}

/** A verified notification token: where it sends uploads, and its claims (for the `X-token`). */
export interface VerifiedNotification {
  target: NotificationTarget;
  claims: TokenClaims;
  /** The organization secret of the integrator the form was issued to, if any. */
  secretId: string | null;
}

export interface TokenOptions {
  /** Longest token accepted, in characters. */
  maxLength?: number;
  /** Longest life of a renewed token from its first issue (`first_iat`); absent: no cap. */
  renewalMaxSeconds?: number | undefined;
}

const encoder = new TextEncoder();

/** `Authorization: Token token="<jwt>"` (Rails style) or `Bearer <jwt>`. */
export function tokenFromAuthorization(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const rails = /^Token\s+token="?([^",\s]+)"?/i.exec(header);
  if (rails) return rails[1];
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  return bearer?.[1];
}

/** How long a verified token is trusted without looking again at its user or secret. */
const VERIFIED_TTL_MS = 60_000;
const VERIFIED_MAX = 10_000;

interface Verified {
  auth: Authenticated;
  /** The token's `exp`, in seconds, rechecked on every use. */
  exp: number | undefined;
  until: number;
}

interface Renewal {
  second: number;
  token: Promise<string>;
  /** The token once signed. */
  signed?: string;
}

export class Tokens {
  private readonly appKey: Uint8Array;
  /**
   * Tokens verified recently, keyed by the exact token string: a client sends the same token on
   * every request, and verifying it (HMAC through WebCrypto, plus a database look-up of its user
   * or secret) costs far more than the rest of a typical request.
   */
  private readonly verified = new Map<string, Verified>();
  /** The `X-token` of each verified token, reused within the same second (it would be identical). */
  private readonly renewals = new WeakMap<Authenticated, Renewal>();
  /** Notification tokens verified recently (they are signed with the app key: no secret to revoke). */
  private readonly verifiedNotifications = new Map<string, { verified: VerifiedNotification; exp: number; until: number }>();
  private readonly maxLength: number;
  private readonly renewalMaxSeconds: number | undefined;

  constructor(
    appSecret: string,
    private readonly lookups: TokenLookups,
    options: TokenOptions = {},
  ) {
    this.appKey = encoder.encode(appSecret);
    this.maxLength = options.maxLength ?? 8192;
    this.renewalMaxSeconds = options.renewalMaxSeconds;
  }

  /** Verifies an API token and resolves its principal; any problem is a 401. */
  async authenticate(token: string | undefined): Promise<Authenticated> {
    const seen = this.seenBefore(token);
    if (seen) return seen;
    if (!token) throw new AccessDenied('no token');
    if (token.length > this.maxLength) throw new AccessDenied('token too long');
    const now = Date.now();
    const auth = await this.verifyApiToken(token);
    if (this.verified.size >= VERIFIED_MAX) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { auth, exp: auth.claims.exp, until: now + VERIFIED_TTL_MS });
    return auth;
  }

  /**
   * The principal of a token verified recently and still valid (its `exp` rechecked), without
   * waiting for anything: most requests carry a token seen before. Undefined otherwise.
   */
  seenBefore(token: string | undefined): Authenticated | undefined {
    if (!token) return undefined;
    const hit = this.verified.get(token);
    if (!hit) return undefined;
    const now = Date.now();
    return hit.until > now && (hit.exp === undefined || hit.exp * 1000 > now) ? hit.auth : undefined;
  }

  /** Forgets verified tokens signed with this organization secret (call when revoking it). */
  forgetSecret(secretId: string): void {
    for (const [token, entry] of this.verified) {
      if (entry.auth.principal.secretId === secretId) this.verified.delete(token);
    }
    for (const [token, entry] of this.verifiedNotifications) {
      if (entry.verified.secretId === secretId) this.verifiedNotifications.delete(token);
    }
  }

  /** Forgets every verified token (a user was removed, keys rotated). */
  forgetAll(): void {
    this.verified.clear();
    this.verifiedNotifications.clear();
  }

  private async verifyApiToken(token: string): Promise<Authenticated> {
    let unverified: TokenClaims;
    try {
      unverified = decodeJwt(token) as TokenClaims;
    } catch {
      throw new AccessDenied('malformed token');
    }

    if (unverified.iss !== undefined) {
      // Integrator token: signed with the organization secret that `iss` names.
      if (typeof unverified.iss !== 'string' || !UUID.test(unverified.iss)) throw new AccessDenied('unknown issuer');
      const secret = await this.lookups.findSecret(unverified.iss.toLowerCase());
      if (!secret || secret.revoked) throw new AccessDenied('unknown or revoked issuer');
      const key = encoder.encode(secret.secret);
      const claims = await this.verify(token, key, false);
      return { principal: this.principal('integrator', secret.organizationId, claims), claims, key };
    }

    const claims = await this.verify(token, this.appKey, true);
    // Notification tokens travel in URLs given to Cloudinary: they never act as API tokens.
    if (claims.album_id !== undefined) throw new AccessDenied('notification token used as an API token');
    if (typeof claims.user_id !== 'string' || !UUID.test(claims.user_id)) throw new AccessDenied('no user');
    const organizationId = await this.lookups.findUserOrganization(claims.user_id.toLowerCase());
    if (!organizationId) throw new AccessDenied('unknown user');
    return { principal: this.principal('user', organizationId, claims), claims, key: this.appKey };
  }

  /** The `X-token` of an authenticated response: same claims, `iat` now, `exp` in 4 hours, same key. */
  renew(auth: Authenticated, now = Math.floor(Date.now() / 1000)): Promise<string> {
    const last = this.renewals.get(auth);
    if (last?.second === now) return last.token;
    const renewal: Renewal = { second: now, token: this.sign(this.renewedClaims(auth.claims, now), auth.key) };
    renewal.token.then(
      (signed) => (renewal.signed = signed),
      () => {},
    );
    this.renewals.set(auth, renewal);
    return renewal.token;
  }

  /**
   * The claims of a renewal: `iat` now, `exp` in 4 hours; with a renewal cap, never past the
   * first issue (`first_iat`, which travels with every renewal) plus the cap.
   */
  renewedClaims(claims: TokenClaims, now: number): TokenClaims {
    const cap = this.renewalMaxSeconds;
    if (cap === undefined) return { ...claims, iat: now, exp: now + TOKEN_TTL_SECONDS };
    const given = claims.first_iat ?? claims.iat;
    const first = typeof given === 'number' && Number.isFinite(given) && given <= now ? given : now;
    return { ...claims, iat: now, exp: Math.min(now + TOKEN_TTL_SECONDS, first + cap), first_iat: first };
  }

  /** The `X-token` of a notification's answer: the notification token renewed, with the app key. */
  renewNotification(verified: VerifiedNotification, now = Math.floor(Date.now() / 1000)): Promise<string> {
    return this.sign({ ...verified.claims, iat: now, exp: now + TOKEN_TTL_SECONDS }, this.appKey);
  }

  /** The `X-token` already signed for this token in the current second, if any (no waiting). */
  renewedThisSecond(auth: Authenticated, now = Math.floor(Date.now() / 1000)): string | undefined {
    const last = this.renewals.get(auth);
    return last?.second === now ? last.signed : undefined;
  }

  /** A server-issued token for one of the organization's users. */
  issueUserToken(userId: string, abilities: Abilities = {}, options: { admin?: boolean; ttlSeconds?: number } = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const claims: TokenClaims = { user_id: userId, abilities, iat: now, exp: now + (options.ttlSeconds ?? TOKEN_TTL_SECONDS) };
    if (options.admin) claims.admin = true;
    return this.sign(claims, this.appKey);
  }

  /** The token of a `notification_url`: `{user_id or iss, album_id, organization_id, iat, exp}`, app key. */
  issueNotificationToken(principal: Principal, albumId: string, expiresAt: number): Promise<string> {
    const claims: TokenClaims = {};
    if (principal.userId) claims.user_id = principal.userId;
    else if (principal.secretId) claims.iss = principal.secretId;
    claims.album_id = albumId;
    claims.organization_id = principal.organizationId;
    claims.iat = Math.floor(Date.now() / 1000);
    claims.exp = expiresAt;
    return this.sign(claims, this.appKey);
  }

  /**
   * Verifies a notification token (app key only) and returns its album and organization. The
   * right it carries is re-checked: the user it was issued to still belongs to the organization,
   * or the integrator secret it was issued to is still there and not revoked. Cloudinary sends
   * every upload of an album's form with the same token: verified tokens are remembered by exact
   * string for a minute (revoking a secret here forgets them), with their `exp` rechecked every use.
   */
  async verifyNotificationToken(token: string | undefined): Promise<VerifiedNotification> {
    if (!token || token.length > this.maxLength) throw new AccessDenied('no notification token');
    const now = Date.now();
    const hit = this.verifiedNotifications.get(token);
    if (hit && hit.until > now && hit.exp * 1000 > now) return hit.verified;
    const claims = await this.verify(token, this.appKey, true);
    const { album_id: albumId, organization_id: organizationId } = claims;
    if (typeof albumId !== 'string' || typeof organizationId !== 'string' || !UUID.test(organizationId)) {
      throw new AccessDenied('not a notification token');
    }
    const org = organizationId.toLowerCase();
    let userId: string | null = null;
    let secretId: string | null = null;
    if (typeof claims.user_id === 'string' && UUID.test(claims.user_id)) {
      userId = claims.user_id.toLowerCase();
      if ((await this.lookups.findUserOrganization(userId)) !== org) throw new AccessDenied('the uploading user is gone');
    } else if (typeof claims.iss === 'string' && UUID.test(claims.iss)) {
      secretId = claims.iss.toLowerCase();
      const secret = await this.lookups.findSecret(secretId);
      if (!secret || secret.revoked || secret.organizationId !== org) throw new AccessDenied('the uploading integrator secret is revoked');
    } else {
      throw new AccessDenied('notification token names no uploader');
    }
    const verified: VerifiedNotification = { target: { organizationId: org, albumId, userId }, claims, secretId };
    if (this.verifiedNotifications.size >= VERIFIED_MAX) this.verifiedNotifications.delete(this.verifiedNotifications.keys().next().value!);
    this.verifiedNotifications.set(token, { verified, exp: claims.exp!, until: now + VERIFIED_TTL_MS });
    return verified;
  }

  sign(claims: TokenClaims, key: Uint8Array = this.appKey): Promise<string> {
    return new SignJWT(claims).setProtectedHeader({ typ: 'JWT', alg: 'HS256' }).sign(key);
  }

  private async verify(token: string, key: Uint8Array, requireExp: boolean): Promise<TokenClaims> {
    let payload: TokenClaims;
    try {
      ({ payload } = await jwtVerify<TokenClaims>(token, key, {
        algorithms: ['HS256'],
        ...(requireExp ? { requiredClaims: ['exp'] } : {}),
      }));
    } catch (error) {
      if (error instanceof joseErrors.JOSEError || error instanceof TypeError) throw new AccessDenied(`invalid token: ${(error as Error).message}`);
      throw error;
    }
    if (payload.iat !== undefined && payload.iat > Math.floor(Date.now() / 1000) + IAT_SKEW_SECONDS) {
      throw new AccessDenied('token issued in the future');
    }
    return payload;
  }

  private principal(kind: Principal['kind'], organizationId: string, claims: TokenClaims): Principal {
    const abilities = claims.abilities && typeof claims.abilities === 'object' && !Array.isArray(claims.abilities) ? claims.abilities : {};
    return {
      kind,
      organizationId,
      userId: kind === 'user' ? (claims.user_id as string).toLowerCase() : null,
      secretId: kind === 'integrator' ? (claims.iss as string).toLowerCase() : null,
      admin: claims.admin === true,
      abilities,
      ...(typeof claims.q === 'string' && claims.q.trim() !== '' ? { query: claims.q, deleteMatching: claims.image_delete === true } : {}),
      ...(claims.download === true ? { download: true } : {}),
    };
  }
}
