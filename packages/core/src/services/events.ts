import type { Kysely, Transaction } from 'kysely';
import type { AlbumEvent, Database } from '../db/schema.js';
import type { EventBus, EventName, EventPayloads } from '../events/bus.js';
import type { Logger } from '../http/handler.js';
import type { JobPort } from '../jobs/port.js';
import type { EventRepository } from '../repositories/events.js';
import type { WebhookRepository } from '../repositories/webhooks.js';

/**
 * Emitting an event: record it (in the caller's transaction, so it exists exactly when the change
 * does), then, after commit, tell in-process listeners and enqueue one webhook job per subscriber.
 */
export class EventService {
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

  /** Call after the transaction that recorded the events committed. Never throws. */
  async dispatch(events: AlbumEvent[]): Promise<void> {
    for (const event of events) {
      const type = event.type as EventName;
      this.deps.bus.emit(type, { ...(event.payload as EventPayloads[typeof type]), organization_id: event.organization_id } as never);
      try {
        const jobs = this.deps.jobs();
        if (!jobs.supports('webhook')) continue;
        for (const webhook of await this.deps.webhooks.subscribers(event.organization_id, type)) {
          await jobs.enqueue('webhook', { eventId: event.id, webhookId: webhook.id });
        }
      } catch (error) {
        // The event is recorded; a sweeper or an operator can deliver it later.
        this.deps.logger.error({ err: error, eventId: event.id }, 'could not enqueue webhook deliveries');
      }
    }
  }
}
