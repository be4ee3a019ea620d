import type { Kysely, Transaction } from 'kysely';
import type { AlbumEvent, Database, Webhook } from '../db/schema.js';
import type { EventBus, EventName, EventPayloads } from '../events/bus.js';
import type { Logger } from '../logger.js';
import type { JobPort } from '../jobs/port.js';
import type { EventRepository } from '../repositories/events.js';
import type { WebhookRepository } from '../repositories/webhooks.js';

/**
 * Emitting an event: record it (in the caller's transaction, so it exists exactly when the change
 * does), then, after commit, tell in-process listeners and enqueue one webhook job per subscriber.
 */
/** How long the webhooks of an organization are remembered (a new one reaches other processes within this time). */
const SUBSCRIBERS_TTL_MS = 5000;

export class EventService {
  private readonly webhookCache = new Map<string, { until: number; webhooks: Promise<Webhook[]> }>();

  constructor(
    private readonly deps: {
      events: EventRepository;
      webhooks: WebhookRepository;
      bus: EventBus;
      jobs: () => JobPort;
      logger: Logger;
    },
  ) {}

  record<K extends EventName>(
    organizationId: string,
    albumId: string | null,
    type: K,
    payload: EventPayloads[K],
    db?: Kysely<Database> | Transaction<Database>,
  ): Promise<AlbumEvent> {
    return this.deps.events.record(organizationId, albumId, type, payload, db);
  }

  /** Records one event per item in one statement (bulk deletes, moves, tags). */
  recordMany<K extends EventName>(
    organizationId: string,
    type: K,
    items: Array<{ albumId: string | null; payload: EventPayloads[K] }>,
    db?: Kysely<Database> | Transaction<Database>,
  ): Promise<AlbumEvent[]> {
    return this.deps.events.recordMany(organizationId, items.map((item) => ({ albumId: item.albumId, type, payload: item.payload })), db);
  }

  /** Forget the cached webhooks of an organization (one was added or removed). */
  forgetWebhooks(organizationId: string): void {
    this.webhookCache.delete(organizationId);
  }

  private async subscribers(organizationId: string, type: EventName): Promise<Webhook[]> {
    const now = Date.now();
    let entry = this.webhookCache.get(organizationId);
    if (!entry || entry.until <= now) {
      if (this.webhookCache.size >= 10_000) this.webhookCache.clear();
      entry = { until: now + SUBSCRIBERS_TTL_MS, webhooks: this.deps.webhooks.active(organizationId) };
      this.webhookCache.set(organizationId, entry);
      entry.webhooks.catch(() => this.webhookCache.delete(organizationId));
    }
    return (await entry.webhooks).filter((w) => w.events === null || (Array.isArray(w.events) && w.events.includes(type)));
  }

  /** Call after the transaction that recorded the events committed. Never throws. */
  async dispatch(events: AlbumEvent[]): Promise<void> {
    for (const event of events) {
      const type = event.type as EventName;
      this.deps.bus.emit(type, { ...(event.payload as EventPayloads[typeof type]), organization_id: event.organization_id } as never);
      try {
        const jobs = this.deps.jobs();
        if (!jobs.supports('webhook')) continue;
        for (const webhook of await this.subscribers(event.organization_id, type)) {
          await jobs.enqueue('webhook', { eventId: event.id, webhookId: webhook.id });
        }
      } catch (error) {
        // The event is recorded; a sweeper or an operator can deliver it later.
        this.deps.logger.error({ err: error, eventId: event.id }, 'could not enqueue webhook deliveries');
      }
    }
  }
}
