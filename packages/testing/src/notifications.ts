import { setTimeout as sleep } from 'node:timers/promises';
import { notificationSignature } from './signatures.js';

export interface NotificationAttempt {
  url: string;
  /** HTTP status of the receiver's answer, or 'error' when it could not be reached in time. */
  status: number | 'error';
  /** 1 for the first try. */
  attempt: number;
  body: string;
}

/**
 * Sends upload notifications like Cloudinary: a signed JSON POST, retried after each delay
 * while the receiver does not answer 2xx. close() cancels waiting retries and open requests.
 */
export class Notifier {
  readonly log: NotificationAttempt[] = [];
  private readonly closing = new AbortController();
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly apiSecret: string,
    private readonly retryDelaysMs: readonly number[],
    private readonly timeoutMs = 10_000,
  ) {}

  send(url: string, body: string): void {
    const delivery = this.deliver(url, body).finally(() => this.pending.delete(delivery));
    this.pending.add(delivery);
  }

  async close(): Promise<void> {
    this.closing.abort();
    await Promise.allSettled([...this.pending]);
  }

  private async deliver(url: string, body: string): Promise<void> {
    const signal = this.closing.signal;
    for (let attempt = 1; attempt <= this.retryDelaysMs.length + 1; attempt++) {
      if (signal.aborted) return;
      if (await this.post(url, body, attempt)) return;
      const delay = this.retryDelaysMs[attempt - 1];
      if (delay === undefined) return;
      try {
        await sleep(delay, undefined, { signal });
      } catch {
        return; // closed while waiting
      }
    }
  }

  /** One signed attempt (a fresh timestamp each time); true when the receiver took it. */
  private async post(url: string, body: string, attempt: number): Promise<boolean> {
    const timestamp = Math.floor(Date.now() / 1000);
    let status: number | 'error';
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'X-Cld-Timestamp': String(timestamp),
          'X-Cld-Signature': notificationSignature(body, timestamp, this.apiSecret),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.any([this.closing.signal, AbortSignal.timeout(this.timeoutMs)]),
      });
      status = response.status;
      await response.body?.cancel();
    } catch {
      if (this.closing.signal.aborted) return true; // shutting down: not a failed attempt
      status = 'error';
    }
    this.log.push({ url, status, attempt, body });
    return typeof status === 'number' && status >= 200 && status < 300;
  }
}
