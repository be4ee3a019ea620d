import { createHmac } from 'node:crypto';
import { pino } from 'pino';
import type { Abilities } from './auth/abilities.js';
import { Tokens } from './auth/tokens.js';
import { ImageChangeFeed } from './cache/image-changes.js';
import { ImageJsonCache } from './cache/image-json.js';
import { DeliveryUrlSigner, ProxyUrlSigner } from './cloudinary/urls.js';
import { CloudinaryAdmin } from './cloudinary/admin.js';
import { parseConfig, type AlbumkitConfig, type AlbumkitConfigInput } from './config.js';
import { connectDatabase, waitForDatabase, type DatabaseHandle } from './db/connect.js';
import { migrateToLatest } from './db/migrate.js';
import { databaseCheck, Health, isOpsAware, observedProcessors, Telemetry } from './ops/index.js';
import { EventBus, type EventListener, type EventName } from './events/bus.js';
import { createHandler, type DescribedHandler } from './http/handler.js';
import type { Logger } from './logger.js';
import { InProcessJobs } from './jobs/in-process.js';
import type { JobPort, Processors } from './jobs/port.js';
import { AlbumRepository } from './repositories/albums.js';
import { DeadLetterRepository } from './repositories/dead-letters.js';
import { EventRepository } from './repositories/events.js';
import { WebhookRepository } from './repositories/webhooks.js';
import { ImageRepository } from './repositories/images.js';
import { NotificationRepository } from './repositories/notifications.js';
import { OrganizationRepository } from './repositories/organizations.js';
import { ImageSerializer } from './serializers/image.js';
import { AlbumService } from './services/albums.js';
import { EventService } from './services/events.js';
import { WebhookService } from './services/webhooks.js';
import { ImageService } from './services/images.js';
import { ImageJsonReader } from './services/image-json.js';
import { NotificationService } from './services/notifications.js';
import { SetupService } from './services/setup.js';
import { IntegratorService } from './services/integrator.js';
import { ClipboardService } from './services/clipboards.js';
import { TagService } from './services/tags.js';
import { TagRepository } from './repositories/tags.js';
import { PurgeRepository } from './repositories/purge.js';
import { PurgeService } from './services/purge.js';
import { DeliveryService } from './services/delivery.js';
import { ImageLinkService } from './services/image-links.js';
import { ExternalUrlRepository } from './repositories/external-urls.js';
import { ImportRepository } from './repositories/imports.js';
import { ImportService } from './services/imports.js';
import { DownloadRepository } from './repositories/downloads.js';
import { DownloadService } from './services/downloads.js';
import { DELETED_PATH } from './http/routes/image-links.js';

export interface AlbumkitOptions extends AlbumkitConfigInput {
  /** An open database to use instead of connecting from `databaseUrl` / `dataDir`. */
  database?: DatabaseHandle;
  /** Run migrations at start (default true). */
  migrate?: boolean;
  /**
   * The job queue; default: core's jobs (notifications, webhooks) run in this process.
   * `@albumkit/worker` provides BullMQ and the metadata job.
   */
  jobs?: (albumkit: Albumkit) => JobPort;
  logger?: Logger;
}

export interface Albumkit {
  config: AlbumkitConfig;
  database: DatabaseHandle;
  /** The framework-agnostic request handler that adapters mount; `handle.openApi()` describes it. */
  handle: DescribedHandler;
  tokens: Tokens;
  albums: AlbumService;
  images: ImageService;
  notifications: NotificationService;
  setup: SetupService;
  integrator: IntegratorService;
  /** Tags and tag links (`GET/POST /tags`, `tag_images`, public tag pages). */
  tags: TagService;
  events: EventService;
  webhooks: WebhookService;
  /** Imports from a URL (`POST /imports`); the worker's `import` job calls `pending`, `stored`, `complete`, `failed`. */
  imports: ImportService;
  /** The trash purge: `purge.run({ olderThanDays })` → `{ images, assets }` (also scheduled, see `purgeIntervalSeconds`). */
  purge: PurgeService;
  repositories: {
    organizations: OrganizationRepository;
    albums: AlbumRepository;
    images: ImageRepository;
    events: EventRepository;
    webhooks: WebhookRepository;
    notifications: NotificationRepository;
    tags: TagRepository;
    /** Jobs that failed for good, kept for `albumkit-worker replay`. */
    deadLetters: DeadLetterRepository;
  };
  serializers: { image: ImageSerializer };
  /** JSON of recently read images; on once the database's change feed is live. */
  imageCache: ImageJsonCache;
  /** Signs delivery URLs of the configured Cloudinary account. */
  delivery: DeliveryUrlSigner;
  jobs: JobPort;
  /** Liveness and readiness (`addCheck(name, fn)`), and the one-line-per-outage report of a dependency. */
  health: Health;
  /** Requests, jobs and queue depths as they happen, for a metrics library (`@albumkit/http-adapter`'s Prometheus metrics). */
  telemetry: Telemetry;
  /** The processors of the jobs core defines, for a queue implementation to run. */
  processors: Pick<Processors, 'notification' | 'webhook' | 'purge'>;
  /** Subscribes to an event (`new_image`, `processed_image`, `upload_done`); returns the unsubscribe function. */
  on<K extends EventName>(event: K, listener: EventListener<K>): () => void;
  /** Issues a server token for a user (4 hours by default). */
  issueToken(userId: string, abilities?: Abilities, options?: { admin?: boolean; ttlSeconds?: number }): Promise<string>;
  close(): Promise<void>;
}

/** Builds albumkit from one validated configuration: database, migrations, services, handler. */
export async function createAlbumkit(options: AlbumkitOptions): Promise<Albumkit> {
  const { database: givenDatabase, migrate = true, jobs: makeJobs, logger: givenLogger, ...input } = options;
  const config = parseConfig(input);
  const logger: Logger = givenLogger ?? pino({ name: 'albumkit' });
  const database = givenDatabase ?? (await connectDatabase({ url: config.databaseUrl, dataDir: config.dataDir, preparedStatements: config.preparedStatements, queryTimeoutMs: config.databaseQueryTimeoutMs }));
  const health = new Health({ logger, checkTimeoutMs: config.readinessTimeoutMs });
  const telemetry = new Telemetry();
  // A PostgreSQL that is not up yet is reported once and waited for (DATABASE_URL named).
  await waitForDatabase(database, { health, waitSeconds: config.databaseWaitSeconds });
  if (migrate) await migrateToLatest(database.db);
  health.addCheck('database', databaseCheck(database.db, health));
  const { db } = database;

  const repositories = {
    organizations: new OrganizationRepository(db),
    albums: new AlbumRepository(db),
    images: new ImageRepository(db),
    events: new EventRepository(db),
    webhooks: new WebhookRepository(db),
    notifications: new NotificationRepository(db),
    tags: new TagRepository(db),
    deadLetters: new DeadLetterRepository(db),
  };
  const tokens = new Tokens(
    config.secret,
    {
      async findSecret(id) {
        const secret = await repositories.organizations.findSecret(id);
        return secret && { organizationId: secret.organization_id, secret: secret.secret, revoked: secret.revoked_at !== null };
      },
      async findUserOrganization(userId) {
        return (await repositories.organizations.findUser(userId))?.organization_id;
      },
    },
    { maxLength: config.limits.tokenLength, renewalMaxSeconds: config.tokenRenewalMaxSeconds },
  );
  const proxyKey = config.proxy.secret ?? createHmac('sha256', config.secret).update('albumkit proxy').digest('base64url');
  const delivery = new DeliveryUrlSigner(config.cloudinary);
  // The proxied links name the host without its port, as the API always wrote them.
  const sourceHost = new URL(config.publicUrl).hostname;
  const origin = new URL(config.publicUrl).origin;
  // No foreign default: albumkit's own proxy route unless the host configures another.
  const proxy = new ProxyUrlSigner(config.proxy.url ?? `${origin}/proxy`, sourceHost, proxyKey);
  const imageSerializer = new ImageSerializer(delivery, proxy, config.placeholderPrefix);
  const imageCache = new ImageJsonCache({
    maxEntries: config.imageCache.maxEntries,
    maxBytes: config.imageCache.maxBytes,
    ttlMs: config.imageCache.ttlSeconds * 1000,
  });
  const imageChanges = new ImageChangeFeed(database, imageCache, logger);
  let jobs: JobPort | undefined;
  const getJobs = () => jobs!;
  const bus = new EventBus((error, event) => logger.error({ err: error, event }, 'event listener failed'));
  const events = new EventService({ events: repositories.events, webhooks: repositories.webhooks, bus, jobs: getJobs, logger });
  const albums = new AlbumService({ db, albums: repositories.albums, images: repositories.images, events, tokens, config });
  const images = new ImageService({
    db,
    images: repositories.images,
    events,
    jobs: getJobs,
    config,
    logger,
    changed: (imageId) => imageCache.invalidate(imageId),
  });
  const imageJson = new ImageJsonReader(images, imageSerializer, imageCache, imageChanges);
  const webhooks = new WebhookService({
    webhooks: repositories.webhooks,
    events: repositories.events,
    images: repositories.images,
    serializer: imageSerializer,
    config,
  });
  const notifications = new NotificationService({
    tokens,
    images,
    notifications: repositories.notifications,
    jobs: getJobs,
    config,
    logger,
    health,
  });
  const purge = new PurgeService({
    db,
    purge: new PurgeRepository(db),
    cloudinary: new CloudinaryAdmin(config.cloudinary),
    retentionDays: config.trashRetentionDays,
    logger,
  });
  const processors: Albumkit['processors'] = {
    purge: ({ olderThanDays }) => purge.run({ olderThanDays }),
    notification: (job) => notifications.process(job),
    webhook: ({ eventId, webhookId }, { attempt }) => webhooks.deliver(eventId, webhookId, attempt),
  };

  const setup = new SetupService(repositories.organizations, repositories.webhooks, config.publicUrl, {
    secretRevoked: (id) => tokens.forgetSecret(id),
    webhooksChanged: (organizationId) => events.forgetWebhooks(organizationId),
  }, config.webhookPrivateHosts);
  const clipboards = new ClipboardService({ db, images: repositories.images, albums: repositories.albums, events, changed: (imageId) => imageCache.invalidate(imageId) });
  const tags = new TagService({ db, tags: repositories.tags, events });
  const integrator = new IntegratorService({
    db,
    organizations: repositories.organizations,
    images,
    setup,
    tokens,
    publicUrl: config.publicUrl,
    maxAnnotationLength: config.limits.bodyBytes,
  });

  const deliveries = new DeliveryService({ images: repositories.images, imageService: images, serializer: imageSerializer, proxy, origin, sourceHost });
  const imageLinks = new ImageLinkService({
    images: repositories.images,
    imageService: images,
    externalUrls: new ExternalUrlRepository(db),
    organizations: repositories.organizations,
    serializer: imageSerializer,
    delivery: deliveries,
    proxy,
    deletedUrl: origin + DELETED_PATH,
  });

  const imports = new ImportService({ imports: new ImportRepository(db), images, tags, jobs: () => jobs!, logger });
  const downloads = new DownloadService({
    db,
    downloads: new DownloadRepository(db),
    images,
    delivery,
    origin,
    key: createHmac('sha256', config.secret).update('albumkit downloads').digest('base64url'),
    ttlSeconds: config.downloadUrlTtlSeconds,
    logger,
  });

  const albumkit: Albumkit = {
    config,
    database,
    handle: createHandler({ config, tokens, albums, images, imageJson, notifications, integrator, clipboards, tags, imageSerializer, delivery: deliveries, imageLinks, imports, downloads, proxy, logger, health }),
    tokens,
    albums,
    images,
    notifications,
    setup,
    integrator,
    tags,
    imports,
    events,
    webhooks,
    purge,
    repositories,
    processors,
    health,
    telemetry,
    serializers: { image: imageSerializer },
    imageCache,
    delivery,
    get jobs() {
      return jobs!;
    },
    on: (event, listener) => bus.on(event, listener),
    issueToken: (userId, abilities, opts) => tokens.issueUserToken(userId, abilities, opts),
    async close() {
      await jobs?.close();
      await imageChanges.stop();
      if (!givenDatabase) await database.close();
    },
  };
  jobs = makeJobs
    ? makeJobs(albumkit)
    : new InProcessJobs(observedProcessors(processors, telemetry), {
        onFailed: (name, data, error) => logger.error({ err: error, job: name, data }, 'job failed'),
      });
  // In-process jobs purge the trash on a timer (BullMQ: the worker's job scheduler).
  const timed = jobs as Partial<Pick<InProcessJobs, 'every'>>;
  if (typeof timed.every === 'function' && config.purgeIntervalSeconds > 0) timed.every('purge', {}, config.purgeIntervalSeconds * 1000);
  // A queue that can report on itself (BullMQ: Redis, queue lag, depths) registers here.
  if (isOpsAware(jobs)) jobs.attachOps({ health, telemetry, logger });
  return albumkit;
}
