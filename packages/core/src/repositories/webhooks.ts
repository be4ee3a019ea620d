import { randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, Webhook, WebhookDelivery } from '../db/schema.js';

/** Webhooks an organization configured, and the record of every delivery attempt. */
export class WebhookRepository {
  constructor(private readonly db: Kysely<Database>) {}

  create(organizationId: string, url: string, events: string[] | null): Promise<Webhook> {
    return this.db
      .insertInto('webhooks')
      .values({
        id: randomUUID(),
        organization_id: organizationId,
        url,
        secret: randomBytes(32).toString('base64url'),
        events: events ? JSON.stringify(events) : null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  find(id: string): Promise<Webhook | undefined> {
    return this.db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Active webhooks of the organization. */
  active(organizationId: string): Promise<Webhook[]> {
    return this.db.selectFrom('webhooks').selectAll().where('organization_id', '=', organizationId).where('active', '=', true).execute();
  }

  async recordDelivery(delivery: Omit<WebhookDelivery, 'id' | 'created_at'>): Promise<void> {
    await this.db.insertInto('webhook_deliveries').values({ id: randomUUID(), ...delivery }).execute();
  }

  /** Whether the event already reached the webhook (a job run again, by a replay or a sweep, must not send it twice). */
  async delivered(eventId: string, webhookId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('event_id', '=', eventId)
      .where('webhook_id', '=', webhookId)
      .where('status', '=', 'delivered')
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  deliveries(eventId: string): Promise<WebhookDelivery[]> {
    return this.db.selectFrom('webhook_deliveries').selectAll().where('event_id', '=', eventId).orderBy('created_at').execute();
  }
}
