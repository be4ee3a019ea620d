import { createHmac } from 'node:crypto';
import type { AlbumkitConfig } from '../config.js';
import type { AlbumEvent } from '../db/schema.js';
import type { ImageEventPayload } from '../events/bus.js';
import type { EventRepository } from '../repositories/events.js';
import type { ImageRepository } from '../repositories/images.js';
import type { WebhookRepository } from '../repositories/webhooks.js';
import type { ImageSerializer } from '../serializers/image.js';
import { UnrecoverableJobError } from '../jobs/port.js';

export const WEBHOOK_EVENT_HEADER = 'X-Albumkit-Event';
export const WEBHOOK_SIGNATURE_HEADER = 'X-Albumkit-Signature';

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`: receivers recompute it over the
 * raw body and refuse old timestamps, so a captured delivery cannot be replayed later.
 */
export function webhookSignature(secret: string, body: string, timestamp: number): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export class WebhookDeliveryError extends Error {}

/** Delivers one event to one webhook: POST form-encoded `p=<json>`, signed, recorded. */
export class WebhookService {
  constructor(
    private readonly deps: {
      webhooks: WebhookRepository;
      events: EventRepository;
      images: ImageRepository;
      serializer: ImageSerializer;
      config: AlbumkitConfig;
      fetch?: typeof fetch;
    },
  ) {}

  /** The `p` of a delivery: the recorded payload, plus the image's JSON (as it is now) for image events. */
  private async body(event: AlbumEvent): Promise<unknown> {
    if (event.type !== 'new_image' && event.type !== 'processed_image' && event.type !== 'copy_image') return event.payload;
    const payload = event.payload as ImageEventPayload;
    const image = await this.deps.images.find(event.organization_id, payload.image_id);
    return { ...payload, image: image ? this.deps.serializer.serialize(image) : null };
  }

  /** Throws when the receiver did not answer 2xx, so that the job is retried with backoff. */
  async deliver(eventId: string, webhookId: string, attempt = 1): Promise<void> {
    const [webhook, event] = await Promise.all([this.deps.webhooks.find(webhookId), this.deps.events.find(eventId)]);
    if (!webhook || !event || !webhook.active) throw new UnrecoverableJobError('webhook or event no longer exists');
    if (webhook.organization_id !== event.organization_id) throw new UnrecoverableJobError('webhook of another organization');
    const body = new URLSearchParams({ p: JSON.stringify(await this.body(event)) }).toString();
    const timestamp = Math.floor(Date.now() / 1000);
    const started = performance.now();
    let status: number | null = null;
    let error: string | null = null;
    try {
      const response = await (this.deps.fetch ?? fetch)(webhook.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          [WEBHOOK_EVENT_HEADER]: event.type,
          [WEBHOOK_SIGNATURE_HEADER]: webhookSignature(webhook.secret, body, timestamp),
          'X-Albumkit-Delivery': `${event.id}/${attempt}`,
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.deps.config.webhookTimeoutMs),
      });
      status = response.status;
      await response.body?.cancel();
      if (status < 200 || status >= 300) error = `receiver answered ${status}`;
    } catch (e) {
      error = (e as Error).message;
    }
    await this.deps.webhooks.recordDelivery({
      webhook_id: webhook.id,
      event_id: event.id,
      attempt,
      status: error ? 'failed' : 'delivered',
      response_status: status,
      error,
      duration_ms: Math.round(performance.now() - started),
    });
    if (error) throw new WebhookDeliveryError(error);
  }
}
