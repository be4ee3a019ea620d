import type { Organization, User } from '../db/schema.js';
import type { OrganizationRepository } from '../repositories/organizations.js';

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
    private readonly publicUrl: string,
  ) {}

  createOrganization(name: string): Promise<Organization> {
    return this.organizations.create(name);
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

  revokeSecret(id: string): Promise<boolean> {
    return this.organizations.revokeSecret(id);
  }

  private async requireOrganization(id: string): Promise<void> {
    if (!(await this.organizations.find(id))) throw new Error(`organization ${id} does not exist`);
  }
}
