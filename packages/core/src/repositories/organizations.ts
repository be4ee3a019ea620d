import { randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, Organization, OrganizationSecret, User } from '../db/schema.js';

/** Organizations, their users and their integrator secrets. */
export class OrganizationRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(name: string, fields: { sfid?: string | null; sandbox?: boolean } = {}): Promise<Organization> {
    return this.db
      .insertInto('organizations')
      .values({ id: randomUUID(), name, sfid: fields.sfid ?? null, sandbox: fields.sandbox ?? false })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  find(id: string): Promise<Organization | undefined> {
    return this.db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async createUser(organizationId: string, fields: { sfid?: string | null; email?: string | null; name?: string | null } = {}): Promise<User> {
    return this.db
      .insertInto('users')
      .values({ id: randomUUID(), organization_id: organizationId, sfid: fields.sfid ?? null, email: fields.email ?? null, name: fields.name ?? null })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  findUser(id: string): Promise<User | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async createSecret(organizationId: string, description: string | null = null): Promise<OrganizationSecret> {
    return this.db
      .insertInto('organization_secrets')
      .values({ id: randomUUID(), organization_id: organizationId, secret: randomBytes(32).toString('base64url'), description, revoked_at: null })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  findSecret(id: string): Promise<OrganizationSecret | undefined> {
    return this.db.selectFrom('organization_secrets').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async revokeSecret(id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('organization_secrets')
      .set({ revoked_at: new Date() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}
