import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy for the fault tests: clients connect to it instead of to Redis or PostgreSQL, and
 * the test decides what the network does.
 *
 * - `forward` (the start, and after `restore()`): bytes pass both ways.
 * - `cut()`: every open connection is reset, and new ones are reset as soon as they are accepted
 *   (the port stays ours): the client sees ECONNRESET, as with a rejecting firewall.
 * - `blackhole()`: the half-open case. Connections are still accepted, open ones stay open, but
 *   nothing is forwarded in either direction, not even a close: the client sees a silent peer,
 *   and only its own timeouts can tell. Bytes are held (paused sockets), not dropped.
 * - `restore()`: the partition heals. What was held is delivered, late, as TCP would after
 *   retransmitting (a close that happened meanwhile is passed on then), and connections accepted
 *   meanwhile reach the target now. To model a peer that forgot the connections instead (a NAT or
 *   a failover losing their state), call `cut()` before `restore()`.
 */

export type ProxyMode = 'forward' | 'cut' | 'blackhole';

export interface ProxyStats {
  /** Connections accepted (and not reset at once) since the start. */
  accepted: number;
  /** Connections reset on arrival while cut. */
  refused: number;
  /** Connections open now. */
  open: number;
  /** Open connections whose bytes are held (accepted or caught by a blackhole, not delivered yet). */
  held: number;
}

export interface TcpProxy {
  readonly host: string;
  readonly port: number;
  readonly mode: ProxyMode;
  stats(): ProxyStats;
  cut(): void;
  blackhole(): void;
  restore(): void;
  close(): Promise<void>;
}

interface Link {
  client: Socket;
  upstream?: Socket;
  /** Bytes are not forwarded (blackhole). */
  held: boolean;
  /** One side went away while held: passed on at restore. */
  closedWhileHeld: boolean;
  done: boolean;
}

export async function startTcpProxy(target: { host?: string; port: number }, options: { port?: number } = {}): Promise<TcpProxy> {
  const targetHost = target.host ?? '127.0.0.1';
  let mode: ProxyMode = 'forward';
  let accepted = 0;
  let refused = 0;
  const links = new Set<Link>();

  const finish = (link: Link) => {
    if (link.done) return;
    link.done = true;
    links.delete(link);
    link.client.destroy();
    link.upstream?.destroy();
  };

  /** A side failed (reset): the other goes too, unless the network is silent now. */
  const failed = (link: Link) => {
    if (link.held) link.closedWhileHeld = true;
    else finish(link);
  };

  /** Bytes from one side to the other, with backpressure; nothing passes while the link is held. */
  const relay = (link: Link, from: Socket, to: Socket) => {
    from.on('data', (chunk: Buffer) => {
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => {
          if (!link.held && !link.done) from.resume();
        });
      }
    });
    // A paused socket emits 'end' only once its data is read: a FIN waits for restore too.
    from.on('end', () => to.end());
    from.on('close', () => {
      if (link.client.destroyed && link.upstream?.destroyed !== false) finish(link);
      else if (link.held) link.closedWhileHeld = true;
      else to.end();
    });
  };

  const attach = (link: Link) => {
    const upstream = connect({ host: targetHost, port: target.port, noDelay: true });
    link.upstream = upstream;
    upstream.on('error', () => failed(link));
    relay(link, link.client, upstream);
    relay(link, upstream, link.client);
  };

  const hold = (link: Link) => {
    link.held = true;
    link.client.pause();
    link.upstream?.pause();
  };

  const release = (link: Link) => {
    link.held = false;
    if (link.closedWhileHeld) return finish(link);
    if (!link.upstream) attach(link);
    link.client.resume();
    link.upstream!.resume();
  };

  const server: Server = createServer({ noDelay: true }, (client) => {
    client.on('error', () => {});
    if (mode === 'cut') {
      refused++;
      client.resetAndDestroy();
      return;
    }
    accepted++;
    const link: Link = { client, held: false, closedWhileHeld: false, done: false };
    links.add(link);
    client.on('error', () => failed(link));
    if (mode === 'blackhole') {
      // Accepted, then silence: the target is reached only once the network heals.
      hold(link);
      client.on('close', () => (link.closedWhileHeld = true));
      return;
    }
    attach(link);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    host: '127.0.0.1',
    port,
    get mode() {
      return mode;
    },
    stats: () => ({ accepted, refused, open: links.size, held: [...links].filter((l) => l.held).length }),
    cut() {
      mode = 'cut';
      for (const link of [...links]) {
        link.done = true;
        links.delete(link);
        link.client.resetAndDestroy();
        link.upstream?.destroy();
      }
    },
    blackhole() {
      mode = 'blackhole';
      for (const link of links) hold(link);
    },
    restore() {
      mode = 'forward';
      for (const link of [...links]) if (link.held) release(link);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const link of [...links]) finish(link);
        server.close(() => resolve());
      }),
  };
}
