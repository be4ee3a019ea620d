import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AlbumkitConfig } from '../config.js';
import type { AlbumEvent } from '../db/schema.js';
import type { ImageEventPayload } from '../events/bus.js';
import type { EventRepository } from '../repositories/events.js';
import type { ImageRepository } from '../repositories/images.js';
import type { WebhookRepository } from '../repositories/webhooks.js';
import type { ImageSerializer } from '../serializers/image.js';
import { UnrecoverableJobError } from '../jobs/port.js';
import { checkLiteralAddress, checkRemoteUrl, pinnedLookup, RemoteTargetError } from '../net/remote-policy.js';

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

/**
 * POSTs a body to a webhook receiver under the remote policy (the same as imports'): public
 * addresses only unless the host is in `allowPrivateHosts`, checked on the address connected to;
 * no redirect followed (a 3xx is an answer, not a 2xx); the response body is never read (the
 * connection is dropped once the status line and headers are in); the whole exchange within `timeoutMs`.
 * Resolves to the receiver's status; rejects with the reason when there was none.
 */
export function postToReceiver(
  url: string,
  headers: Record<string, string>,
  body: string,
  options: { timeoutMs: number; allowPrivateHosts: readonly string[] },
): Promise<number> {
  let target: URL;
  try {
    target = checkRemoteUrl(url);
    checkLiteralAddress(target, options.allowPrivateHosts);
  } catch (error) {
    return Promise.reject(error);
  }
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    const finish = (error: unknown, status?: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      if (error) reject(error);
      else resolve(status!);
    };
    const timer = setTimeout(() => finish(new Error(`timed out after ${options.timeoutMs} ms`)), options.timeoutMs);
    const client = target.protocol === 'https:' ? https : http;
    const req = client.request(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)), 'User-Agent': 'albumkit-webhook' },
        lookup: pinnedLookup(target, options.allowPrivateHosts),
        agent: false,
      },
      // The status is all a delivery needs: the body is not read, whatever its size.
      (res) => finish(null, res.statusCode ?? 0),
    );
    req.on('error', (error) => finish(error));
    req.end(body);
  });
}

/** Delivers one event to one webhook: POST form-encoded `p=<json>`, signed, recorded. */
export class WebhookService {
  constructor(
    private readonly deps: {
      webhooks: WebhookRepository;
      events: EventRepository;
      images: ImageRepository;
      serializer: ImageSerializer;
      config: AlbumkitConfig;
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
    const [webhook, event, delivered] = await Promise.all([
      this.deps.webhooks.find(webhookId),
      this.deps.events.find(eventId),
      this.deps.webhooks.delivered(eventId, webhookId),
    ]);
    if (!webhook || !event || !webhook.active) throw new UnrecoverableJobError('webhook or event no longer exists');
    if (delivered) return; // once per event and webhook, however often the job runs
    if (webhook.organization_id !== event.organization_id) throw new UnrecoverableJobError('webhook of another organization');
    const body = new URLSearchParams({ p: JSON.stringify(await this.body(event)) }).toString();
    const timestamp = Math.floor(Date.now() / 1000);
    const started = performance.now();
    let status: number | null = null;
    let error: string | null = null;
    let refused = false;
    try {
      status = await postToReceiver(
        webhook.url,
        {
          'Content-Type': 'application/x-www-form-urlencoded',
          [WEBHOOK_EVENT_HEADER]: event.type,
          [WEBHOOK_SIGNATURE_HEADER]: webhookSignature(webhook.secret, body, timestamp),
          'X-Albumkit-Delivery': `${event.id}/${attempt}`,
        },
        body,
        { timeoutMs: this.deps.config.webhookTimeoutMs, allowPrivateHosts: this.deps.config.webhookPrivateHosts },
      );
      if (status < 200 || status >= 300) error = `receiver answered ${status}`;
    } catch (e) {
      error = (e as Error).message;
      // A target the policy refuses stays refused: recorded once, not retried.
      refused = e instanceof RemoteTargetError && e.permanent;
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
    if (refused) throw new UnrecoverableJobError(`webhook ${webhook.id}: ${error}`);
    if (error) throw new WebhookDeliveryError(error);
  }
}
