// The albumkit demo: `npm start` at the repository root builds the packages and runs this file.
// One process: an Express host app with albumkit at /api/v1 and the demo page at /, a local
// Cloudinary-compatible server and the jobs. Nothing to install or configure; every default
// can be replaced with the same variables as in production:
//
//   PORT                 port of the host app (default 3000); the local Cloudinary takes PORT+1 when free
//   HOST                 address to listen on (default 127.0.0.1: this machine only; 0.0.0.0: every interface)
//   ALBUMKIT_HOME        folder of the local state (default ./.data): pglite/, cloudinary/, dev-secret, demo.json
//   DATABASE_URL         PostgreSQL; absent: embedded PGlite in $ALBUMKIT_HOME/pglite (or ALBUMKIT_DATA_DIR)
//   CLOUDINARY_URL       a Cloudinary account; absent: the local server, files in $ALBUMKIT_HOME/cloudinary
//   ALBUMKIT_SECRET      token key; absent: a development secret generated once in $ALBUMKIT_HOME/dev-secret
//   ALBUMKIT_PUBLIC_URL  public base of the API (default http://localhost:$PORT/api/v1)
//   REDIS_URL            BullMQ; absent: jobs run in this process
//   REDIS_SENTINELS      instead of REDIS_URL, Redis behind Sentinel: host:port,… with REDIS_SENTINEL_NAME
//                        (and REDIS_SENTINEL_PASSWORD, REDIS_PASSWORD if they are needed)
//   ALBUMKIT_QUEUE_PREFIX  with REDIS_URL, prefix of the BullMQ queue names (default albumkit), as for albumkit-worker
//   ALBUMKIT_WORKERS     `external`: with REDIS_URL, do not run a worker here (start `npx albumkit-worker`)
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { AccessDenied, can, configFromEnv, createAlbumkit, tokenFromAuthorization } from '@albumkit/core';
import { albumkitExpress } from '@albumkit/http-adapter/express';
import { BullMqJobs, importOptionsFromEnv, inProcessJobs, startWorker } from '@albumkit/worker';
import express from 'express';
import { demoIntegratorSecret, demoUser, developmentSecret, localHome } from './local-state.mjs';

const env = process.env;
const logger = {
  error: (object, message) => console.error(`[albumkit] ${message ?? 'error'}:`, object?.err ?? object),
  warn: (object, message) => console.warn(`[albumkit] ${message ?? 'warning'}:`, object?.err?.message ?? object),
};
/** A path as the user would type it: relative to the working folder when inside it. */
function shown(path) {
  const inside = relative(process.cwd(), path);
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : path;
}
/** What to undo on the way out, in order (HTTP server, worker, albumkit, local Cloudinary). */
const stopping = [];

async function runSteps() {
  for (const step of stopping) {
    const started = performance.now();
    try {
      await step();
    } catch (error) {
      console.error('  while stopping:', error);
    }
    const ms = performance.now() - started;
    // A slow step is named, so that a slow shutdown says where the time went.
    if (ms > 2000) console.log(`  (${step.label ?? 'a step'} took ${Math.round(ms)} ms)`);
  }
}

/** A shutdown step with a name for the log. */
function step(label, run) {
  return Object.assign(run, { label });
}

async function main() {
  onSignals();
  const port = Number(env.PORT || 3000);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`PORT: "${env.PORT}" is not a port number`);
  const host = env.HOST || '127.0.0.1';
  const queuePrefix = env.ALBUMKIT_QUEUE_PREFIX || undefined;
  const home = localHome(env);
  const external = env.ALBUMKIT_WORKERS === 'external';
  if (external && (!(env.REDIS_URL || env.REDIS_SENTINELS) || !env.DATABASE_URL)) {
    throw new Error('ALBUMKIT_WORKERS=external needs REDIS_URL (or REDIS_SENTINELS) and DATABASE_URL: separate workers share Redis and PostgreSQL with the API');
  }

  // Embedded defaults: each is used only when its variable is absent.
  let cloudinaryUrl = env.CLOUDINARY_URL;
  let localCloudinary;
  if (!cloudinaryUrl) {
    const { startLocalCloudinary } = await import('@albumkit/testing');
    const dir = join(home, 'cloudinary');
    localCloudinary = await startLocalCloudinary({ port: port + 1, dir }).catch((error) =>
      error.code === 'EADDRINUSE' ? startLocalCloudinary({ port: 0, dir }) : Promise.reject(error),
    );
    stopping.push(step('closing the local Cloudinary', () => localCloudinary.close()));
    cloudinaryUrl = localCloudinary.cloudinaryUrl;
  }
  const devSecret = env.ALBUMKIT_SECRET ? undefined : developmentSecret(home);

  // The address people open: localhost when listening on loopback or every interface, else HOST itself.
  const address = `http://${browsable(host)}:${port}`;
  const { config, redisUrl, redis } = configFromEnv(
    {
      ...env,
      PORT: String(port),
      CLOUDINARY_URL: cloudinaryUrl,
      ALBUMKIT_SECRET: env.ALBUMKIT_SECRET || devSecret.secret,
      ALBUMKIT_PUBLIC_URL: env.ALBUMKIT_PUBLIC_URL || `${address}/api/v1`,
    },
    { dataDir: join(home, 'pglite') },
  );
  // The demo page imports its sample photo (/samples/sample.jpg) from this server itself, a
  // loopback address that imports may not reach otherwise: by the address it listens on, and by
  // the one it prints (localhost).
  const own = [`${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`, `${browsable(host)}:${port}`];
  const importOptions = importOptionsFromEnv({ ALBUMKIT_IMPORT_PRIVATE_HOSTS: [env.ALBUMKIT_IMPORT_PRIVATE_HOSTS, ...own].filter(Boolean).join(',') });
  const albumkit = await createAlbumkit({
    ...config,
    logger,
    jobs: redisUrl || redis ? () => new BullMqJobs({ redisUrl, redis, prefix: queuePrefix }) : (ak) => inProcessJobs(ak, importOptions),
  });
  stopping.unshift(step('finishing jobs and closing the database', () => albumkit.close()));
  if ((redisUrl || redis) && !external) {
    const worker = startWorker({ albumkit, redisUrl, redis, prefix: queuePrefix, logger, ...importOptions });
    stopping.unshift(step('stopping the worker', () => worker.close(5000)));
  }

  const app = express();
  app.disable('x-powered-by');
  app.use('/api/v1', albumkitExpress(albumkit, { logger }));
  // The links albumkit hands out (thumbnails through its proxy, image links, the placeholder), at the root.
  app.use(albumkitExpress(albumkit, { logger, publicRoutes: true }));
  const csp = contentSecurityPolicy(config.cloudinary);
  app.use((_req, res, next) => {
    res.set('Content-Security-Policy', csp);
    next();
  });
  app.get('/demo/events', demoEvents(albumkit));
  // The API reference: Swagger UI (from its npm package, served here) over /api/v1/openapi.json.
  const reference = referencePolicy();
  app.use('/reference', (_req, res, next) => {
    res.set('Content-Security-Policy', reference);
    next();
  });
  app.use('/reference/assets', express.static(dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json')), { index: false }));
  app.get('/reference', (_req, res) => res.sendFile(join(import.meta.dirname, 'public', 'reference.html')));
  app.use(express.static(join(import.meta.dirname, 'public')));

  // Time limits, so that a client sending its request byte by byte (slowloris) cannot hold a
  // connection: 10 s for the headers, 30 s for the whole request, 5 s idle between keep-alive
  // requests; Node checks them every second (its default, 30 s, lets a stalled client stay longer).
  const server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 1_000 }, app);
  server.keepAliveTimeout = 5_000;
  await new Promise((resolve, reject) => {
    server.once('error', (error) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`port ${port} is in use: set PORT to another port`)
          : error.code === 'EADDRNOTAVAIL'
            ? new Error(`HOST: ${host} is not an address of this machine`)
            : error,
      ),
    );
    server.listen(port, host, resolve);
  });
  stopping.unshift(
    step(
      'closing the HTTP server',
      () =>
        new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
          // An open page keeps polling on keep-alive connections: give running requests a moment, then cut.
          setTimeout(() => server.closeAllConnections(), 1000).unref();
        }),
    ),
  );

  const demo = await demoUser(albumkit, home);
  const integrator = await demoIntegratorSecret(albumkit, home, demo, config.publicUrl);
  const token = await albumkit.issueToken(demo.userId, {}, { admin: true });
  const listening = server.address();
  const bound = `${listening.family === 'IPv6' ? `[${listening.address}]` : listening.address}:${listening.port}`;
  const reach = isLoopback(listening.address)
    ? 'this machine only; HOST=0.0.0.0 listens on every interface'
    : isWildcard(listening.address)
      ? 'every interface'
      : 'that interface only';
  const queues = `queues ${queuePrefix ?? 'albumkit'}-*`;
  const database = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${shown(config.dataDir)}`;
  const on = redis ? 'REDIS_SENTINELS' : 'REDIS_URL';
  const jobs = !(redisUrl || redis)
    ? 'in this process'
    : external
      ? `BullMQ on ${on} (${queues}), separate workers (npx albumkit-worker)`
      : `BullMQ on ${on} (${queues}), worker in this process`;
  console.log(`
  albumkit demo is running${demo.created ? ' (demo organization and user created)' : ''}

  Open:        ${address}/#token=${token}
  Address:     ${address}
  Listening:   ${bound} (${reach})
  API:         ${config.publicUrl}
  Database:    ${database}
  Cloudinary:  ${localCloudinary ? `local server at ${localCloudinary.url}, files in ${shown(join(home, 'cloudinary'))}` : 'CLOUDINARY_URL'}
  Jobs:        ${jobs}

  Demo token (DEVELOPMENT ONLY: admin of the demo organization, valid 4 hours):
  ${token}

  Integrator secret URL (DEVELOPMENT ONLY: signs tokens for the demo organization; point an
  integrator client at it, it stays the same across restarts, kept in ${shown(integrator.path)}):
  ${integrator.url}
${devSecret ? `\n  Tokens are signed with a DEVELOPMENT ONLY secret kept in ${shown(devSecret.path)}; set ALBUMKIT_SECRET in production.\n` : ''}`);
  if (external) {
    const secret = devSecret ? `ALBUMKIT_SECRET="$(cat ${shown(devSecret.path)})"` : 'ALBUMKIT_SECRET=…';
    const prefix = queuePrefix ? ` ALBUMKIT_QUEUE_PREFIX=${shellWord(queuePrefix)}` : '';
    console.log(`  Jobs wait for separate workers. Start one or more in other terminals, with the same settings:
    DATABASE_URL=… ${redis ? 'REDIS_SENTINELS=… REDIS_SENTINEL_NAME=…' : 'REDIS_URL=…'} ${secret} ALBUMKIT_PUBLIC_URL=${config.publicUrl}${prefix} \\
      CLOUDINARY_URL="${localCloudinary ? cloudinaryUrl : '…'}" npx albumkit-worker
`);
  }
  console.log('  Ctrl+C stops the demo.\n');
}

const isWildcard = (address) => address === '0.0.0.0' || address === '::';
const isLoopback = (address) => address === 'localhost' || address === '::1' || /^(::ffff:)?127\./.test(address);

/** The host name to open for a listening address: localhost for loopback and every interface. */
function browsable(host) {
  if (isWildcard(host) || isLoopback(host)) return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

/** A word for a shell command line: as is when it needs no quoting. */
function shellWord(value) {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * The demo page's Content-Security-Policy: its own scripts and styles only (no inline script),
 * images from itself, the local previews of dropped files (blob:), its data: icon and the
 * Cloudinary delivery host (the renditions); requests to itself (API, events) and to the
 * Cloudinary upload host (the page posts files there with the album's signed upload form).
 */
function contentSecurityPolicy(cloudinary) {
  const delivery = new URL(cloudinary.deliveryPrefix).origin;
  const upload = new URL(cloudinary.uploadPrefix).origin;
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' blob: data: ${delivery}`,
    `connect-src 'self' ${upload}`,
    "form-action 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
    "base-uri 'self'",
  ].join('; ');
}

/**
 * The reference page's policy: Swagger UI's script and styles from this server only; it sets
 * inline style attributes and draws icons from data: URLs, so those are allowed here (and only
 * here); its requests go to this API.
 */
function referencePolicy() {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
    "base-uri 'self'",
  ].join('; ');
}

/**
 * Demo only: the events of an album (new image, processed, upload done), for the page's activity
 * list. The same tokens as the API: members of the organization, admins, or `image_list` on it.
 */
function demoEvents(albumkit) {
  return async (req, res) => {
    try {
      const { principal } = await albumkit.tokens.authenticate(tokenFromAuthorization(req.get('authorization')));
      const album = typeof req.query.album === 'string' ? req.query.album : '';
      if (!album || album.length > 255) return void res.status(400).json({ error: 'bad_request', message: 'album: an album id is expected' });
      if (principal.kind !== 'user' && !can(principal, album, 'image_list')) throw new AccessDenied('no ability on album');
      const events = await albumkit.repositories.events.list(principal.organizationId, album);
      res.set('Cache-Control', 'no-store').json(
        events
          .slice(-50)
          .reverse()
          .map(({ id, type, created_at, payload }) => ({
            id,
            type,
            created_at,
            image_id: payload?.image_id ?? null,
            count: payload?.count ?? null,
            tag_name: payload?.tag_name ?? null,
          })),
      );
    } catch (error) {
      if (error instanceof AccessDenied) return void res.status(401).set('X-message', 'Access denied').end();
      logger.error({ err: error }, 'demo events failed');
      res.status(500).json({ error: 'internal_error', message: 'Internal error' });
    }
  };
}

/** Ctrl+C / SIGTERM: stop taking requests, finish running jobs, close the database, then exit. */
function onSignals() {
  let stopped = false;
  const stop = async (signal) => {
    if (stopped) return;
    stopped = true;
    console.log(`\n  ${signal}: stopping the albumkit demo…`);
    setTimeout(() => {
      console.error('  still busy after 20 s: exiting anyway');
      process.exit(1);
    }, 20_000).unref();
    await runSteps();
    console.log('  albumkit demo stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch(async (error) => {
  console.error(`\n  albumkit demo could not start: ${error?.message ?? error}\n`);
  await runSteps();
  process.exit(1);
});
