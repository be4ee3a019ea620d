import type { Organization, User } from '../db/schema.js';
import type { OrganizationRepository } from '../repositories/organizations.js';
import type { WebhookRepository } from '../repositories/webhooks.js';
import { EVENT_NAMES, type EventName } from '../events/bus.js';
import type { Webhook } from '../db/schema.js';
import { checkLiteralAddress, checkRemoteUrl } from '../net/remote-policy.js';

export interface IssuedSecret {
  /** The `iss` of the integrator's tokens. */
  id: string;
  organizationId: string;
  secret: string;
  /** `sharinpix://<id>:<secret>@<host>/api/v1`, the form existing client libraries are configured with. */
  url: string;
}

/** What a host app runs once to set itself up: organizations, users, integrator secrets. */
export class SetupService {
  constructor(
    private readonly organizations: OrganizationRepository,
    private readonly webhooks: WebhookRepository,
    private readonly publicUrl: string,
    /** Told of changes that caches elsewhere must see at once (tokens of a revoked secret, new webhooks). */
    private readonly hooks: { secretRevoked?: (secretId: string) => void; webhooksChanged?: (organizationId: string) => void } = {},
    /** Receivers that may be private addresses (the configuration's `webhookPrivateHosts`). */
    private readonly webhookPrivateHosts: readonly string[] = [],
  ) {}

  /** `sfid`: the Salesforce organization id, when the organization syncs with Salesforce. */
  createOrganization(name: string, fields: { sfid?: string | null; sandbox?: boolean } = {}): Promise<Organization> {
    return this.organizations.create(name, fields);
  }

  async createUser(organizationId: string, fields: { sfid?: string | null; email?: string | null; name?: string | null } = {}): Promise<User> {
    await this.requireOrganization(organizationId);
    return this.organizations.createUser(organizationId, fields);
  }

  async createSecret(organizationId: string, description?: string): Promise<IssuedSecret> {
    await this.requireOrganization(organizationId);
    const secret = await this.organizations.createSecret(organizationId, description ?? null);
    const api = new URL(this.publicUrl);
    const url = `sharinpix://${secret.id}:${secret.secret}@${api.host}${api.pathname.replace(/\/+$/, '')}`;
    return { id: secret.id, organizationId, secret: secret.secret, url };
  }

  /**
   * A webhook of the organization: every event (or those named) is POSTed to `url`, signed with
   * the returned `secret`. The URL must be http(s) without credentials; a literal private or
   * loopback address is refused here unless allowed (`webhookPrivateHosts`), and host names are
   * checked on every delivery against the addresses they resolve to then.
   */
  async addWebhook(organizationId: string, url: string, events?: EventName[]): Promise<Webhook> {
    await this.requireOrganization(organizationId);
    let parsed: URL;
    try {
      parsed = checkRemoteUrl(url);
      checkLiteralAddress(parsed, this.webhookPrivateHosts);
    } catch (error) {
      throw new Error(`webhook URL ${(error as Error).message}`);
    }
    for (const event of events ?? []) if (!EVENT_NAMES.includes(event)) throw new Error(`unknown event "${event}"`);
    const webhook = await this.webhooks.create(organizationId, parsed.toString(), events ?? null);
    this.hooks.webhooksChanged?.(organizationId);
    return webhook;
  }

  async revokeSecret(id: string): Promise<boolean> {
    const revoked = await this.organizations.revokeSecret(id);
    this.hooks.secretRevoked?.(id);
    return revoked;
  }

  private async requireOrganization(id: string): Promise<void> {
    if (!(await this.organizations.find(id))) throw new Error(`organization ${id} does not exist`);
  }
}
