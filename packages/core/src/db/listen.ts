import type pg from 'pg';

/** What a subscriber to a PostgreSQL NOTIFY channel is told. */
export interface ChannelListener {
  /** A notification arrived (its payload). */
  notify(payload: string): void;
  /** The subscription is live: from now on, every notification is delivered (also after a reconnection). */
  ready(): void;
  /** The subscription was lost: notifications sent from now until the next `ready` are missed. */
  lost(error?: unknown): void;
}

export type Unlisten = () => Promise<void>;

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;
const HEARTBEAT_MS = 15_000;
const HEARTBEAT_TIMEOUT_MS = 5_000;

/**
 * LISTEN on its own `pg` connection (a pooled one would be handed to queries), reconnecting
 * with backoff when the server goes away. TCP keep-alive makes a dead peer show up as an error.
 */
export async function listenPostgres(Client: typeof pg.Client, connectionString: string, channel: string, listener: ChannelListener): Promise<Unlisten> {
  let client: pg.Client | undefined;
  let stopped = false;
  let retryMs = RETRY_MIN_MS;
  let timer: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const next = new Client({ connectionString, keepAlive: true, keepAliveInitialDelayMillis: 10_000, connectionTimeoutMillis: 5_000 });
    let failed = false;
    const fail = (error?: unknown) => {
      if (failed) return;
      failed = true;
      if (client === next) client = undefined;
      listener.lost(error);
      next.end().catch(() => {});
      schedule();
    };
    next.on('error', fail);
    next.on('end', () => fail());
    next.on('notification', (message) => {
      if (message.channel === channel) listener.notify(message.payload ?? '');
    });
    try {
      await next.connect();
      await next.query(`LISTEN "${channel.replaceAll('"', '""')}"`);
    } catch (error) {
      fail(error);
      return;
    }
    if (stopped) {
      await next.end().catch(() => {});
      return;
    }
    client = next;
    retryMs = RETRY_MIN_MS;
    // The connection must not keep the host process alive by itself.
    (next as unknown as { connection?: { stream?: { unref?: () => void } } }).connection?.stream?.unref?.();
    listener.ready();
    heartbeat(next, fail);
  };
  // A connection that died without a word (a NAT or balancer dropping it) is found by a query
  // that does not come back: then notifications may have been missed.
  const heartbeat = (current: pg.Client, fail: (error?: unknown) => void) => {
    const beat = setInterval(() => {
      if (client !== current) return clearInterval(beat);
      const timeout = setTimeout(() => fail(new Error('LISTEN connection did not answer a heartbeat')), HEARTBEAT_TIMEOUT_MS);
      timeout.unref();
      current.query('select 1').then(
        () => clearTimeout(timeout),
        (error: unknown) => {
          clearTimeout(timeout);
          fail(error);
        },
      );
    }, HEARTBEAT_MS);
    beat.unref();
  };
  const schedule = () => {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, retryMs);
    timer.unref();
    retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
  };

  await connect();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    const current = client;
    client = undefined;
    if (current) {
      current.removeAllListeners('end');
      current.removeAllListeners('error');
      current.on('error', () => {});
      await current.end().catch(() => {});
    }
  };
}
