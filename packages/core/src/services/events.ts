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
        await this.enqueueWebhooks(event);
      } catch (error) {
        // The event stays in the outbox (`webhooks_pending`): the worker's sweep enqueues it later.
        this.deps.logger.error({ err: error, eventId: event.id }, 'could not enqueue webhook deliveries (left for the sweep)');
      }
    }
  }

  /** One webhook job per subscriber (job ids make a repeat a no-op), then the event leaves the outbox. */
  private async enqueueWebhooks(event: AlbumEvent, sweeping = false): Promise<void> {
    const jobs = this.deps.jobs();
    if (!jobs.supports('webhook')) return;
    const subscribers = await this.subscribers(event.organization_id, event.type as EventName);
    for (const webhook of subscribers) await jobs.enqueue('webhook', { eventId: event.id, webhookId: webhook.id });
    // Without a subscriber in the (cached) list, a pending event waits for the sweep, which reads them afresh.
    if (subscribers.length > 0 || sweeping) await this.deps.events.webhooksEnqueued(event.id);
  }

  /**
   * The outbox sweep: enqueues the webhook jobs of events recorded before `before` that are still
   * pending (their process died after commit, or Redis was away). Resolves to how many it handled;
   * throws (leaving the rest pending) when the queue or the database is unreachable.
   */
  async enqueuePendingWebhooks(before: Date, limit = 500): Promise<number> {
    const pending = await this.deps.events.pendingWebhooks(before, limit);
    const organizations = new Set<string>();
    for (const event of pending) {
      // Subscribers read afresh once per organization and sweep, not from the 5 s cache.
      if (!organizations.has(event.organization_id)) this.forgetWebhooks(event.organization_id);
      organizations.add(event.organization_id);
      await this.enqueueWebhooks(event, true);
    }
    return pending.length;
  }
}
