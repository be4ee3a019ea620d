import { z } from 'zod';
import { ConfigError } from './errors.js';

/** Where the images live: a Cloudinary account (or the local Cloudinary-compatible server). */
const cloudinarySchema = z.object({
  /** The account's cloud name (`CLOUDINARY_URL`'s host). Required. */
  cloudName: z.string().min(1).regex(/^[\w-]+$/, 'letters, digits, "_" and "-" only'),
  /** API key of the account. Required. */
  apiKey: z.string().min(1),
  /** API secret: signs upload forms and delivery URLs, verifies notifications. Required. */
  apiSecret: z.string().min(1),
  /** Base of the upload API (`<uploadPrefix>/v1_1/<cloud>/auto/upload`). Default `https://api.cloudinary.com`. */
  uploadPrefix: z.string().url().default('https://api.cloudinary.com'),
  /** Base of delivery URLs (`<deliveryPrefix>/<cloud>/image/authenticated/...`). Default `https://res.cloudinary.com`. */
  deliveryPrefix: z.string().url().default('https://res.cloudinary.com'),
});

const limitsSchema = z
  .object({
    /** Largest request body accepted, in bytes. Default 1 MiB. */
    bodyBytes: z.number().int().positive().default(1024 * 1024),
    /** Deepest nesting of form keys / JSON objects. Default 12, at most 64. */
    depth: z.number().int().positive().max(64).default(12),
    /** Longest array, and most keys in one object. Default 1000. */
    arrayLength: z.number().int().positive().default(1000),
    /** Most form parameters in one body. Default 10,000. */
    parameters: z.number().int().positive().default(10000),
    /** Most ids in one `image_syncs` request. Default 500. */
    syncIds: z.number().int().positive().default(500),
    /** Largest page of `GET /albums/:id/images`. Default 100. */
    pageSize: z.number().int().positive().default(100),
    /** Longest token accepted, in characters. Default 8192. */
    tokenLength: z.number().int().positive().default(8192),
  })
  .prefault({});

export const configSchema = z.object({
  /** Key of the tokens the server issues (HS256), at least 16 characters (`ALBUMKIT_SECRET`). Required. */
  secret: z.string().min(16, 'must be at least 16 characters'),
  /** PostgreSQL connection string (`DATABASE_URL`); absent: embedded PGlite in `dataDir`. */
  databaseUrl: z.string().min(1).optional(),
  /**
   * How long start-up waits for a PostgreSQL that refuses connections (reported once, retried
   * with backoff), in seconds. Absent: without end; 0: fail at once.
   */
  databaseWaitSeconds: z.number().nonnegative().optional(),
  /** Longest a readiness check (`/readyz`) may take before it counts as failed, in milliseconds. Default 2000. */
  readinessTimeoutMs: z.number().int().positive().default(2000),
  /**
   * Hot statements as named prepared statements on PostgreSQL. Turn off behind a pooler in
   * transaction mode that does not support them (PgBouncer before 1.21). Default true.
   */
  preparedStatements: z.boolean().default(true),
  /**
   * Longest wait for PostgreSQL's answer to one statement, in milliseconds; past it the request
   * answers 503 (a job is retried) and the connection is dropped. Bounds a half-open connection
   * (network partition, dead host) that no error reports. Migrations are not limited. Default 10,000; 0: no limit.
   * Applies when albumkit connects (`databaseUrl`); a `database` handle passed in has its own (`connectDatabase`'s `queryTimeoutMs`).
   */
  databaseQueryTimeoutMs: z.number().int().nonnegative().default(10_000),
  /** Folder of the embedded database (PGlite) when there is no `databaseUrl` (`ALBUMKIT_DATA_DIR`); absent: in memory. */
  dataDir: z.string().min(1).optional(),
  /** Where the images live (`CLOUDINARY_URL`). Required. */
  cloudinary: cloudinarySchema,
  /** Public base URL of the mounted API (e.g. `https://app.example.com/api/v1`): base of `notification_url` (`ALBUMKIT_PUBLIC_URL`). Required. */
  publicUrl: z.string().url(),
  /** Mount prefix that the handler strips from incoming paths. Default `/api/v1`. */
  basePath: z.string().regex(/^(\/[\w.-]+)*$/).default('/api/v1'),
  /** Prefix of thumbnail URLs while an image is not processed yet. Default `/assets/blank.jpg#`. */
  placeholderPrefix: z.string().default('/assets/blank.jpg#'),
  /** Image proxy used for `external_urls.mini/large/full`. */
  proxy: z
    .object({
      /**
       * Base URL of the proxy. Default: albumkit's own, `<origin of publicUrl>/proxy`, a public
       * route (mounted with the adapters' `publicRoutes: true`) that checks the signature and
       * redirects to the rendition. An external proxy fetches `https://<url>` itself.
       */
      url: z.string().url().optional(),
      /** Key of the short `s` signature, at least 16 characters; absent: derived from `secret`. */
      secret: z.string().min(16).optional(),
    })
    .prefault({}),
  /** Lifetime of an upload form (and of its `timestamp`), in seconds. Default 7 days. */
  uploadFormTtlSeconds: z.number().int().positive().default(7 * 24 * 3600),
  /** How long the signed zip link of a download (`POST /downloads`) works. */
  downloadUrlTtlSeconds: z.number().int().positive().max(30 * 24 * 3600).default(24 * 3600),
  /**
   * How long a notification token outlives its upload form: Cloudinary accepts a signed upload
   * up to an hour after its timestamp, then notifies (and retries a notification that fails).
   * In seconds; default 6 hours.
   */
  notificationTokenGraceSeconds: z.number().int().positive().default(6 * 3600),
  /**
   * Longest life of a token renewed through `X-token`, counted from its first issue (which the
   * renewed tokens carry as `first_iat`), in seconds; absent: renewed without end, as the API always has.
   */
  tokenRenewalMaxSeconds: z.number().int().positive().optional(),
  /** Accepted age of a Cloudinary notification (`X-Cld-Timestamp`), in seconds. Default 2 hours. */
  notificationMaxAgeSeconds: z.number().int().positive().default(2 * 3600),
  /** Time a webhook receiver has to answer, in milliseconds. Default 10,000. */
  webhookTimeoutMs: z.number().int().positive().default(10_000),
  /**
   * Webhook receivers that may be private, loopback or link-local addresses (an intranet
   * service): `host` (default port), `host:port` or `host:*` (any port). Every other receiver
   * must resolve to public addresses only, checked on the address connected to. Default none.
   */
  webhookPrivateHosts: z.array(z.string().min(1).max(300)).max(100).default([]),
  /** Refuse client-posted upload results whose Cloudinary `signature` does not verify. Default true. */
  verifyUploadSignatures: z.boolean().default(true),
  /**
   * Days a trashed image stays restorable before the purge destroys it (its Cloudinary asset
   * unless another image uses it, then its row). Default 30; 0: purged by the next run.
   */
  trashRetentionDays: z.number().nonnegative().default(30),
  /**
   * How often the purge runs, in seconds: a BullMQ job scheduler in worker mode, a timer with
   * in-process jobs. Default 3600 (hourly); 0: never on its own (`albumkit trash purge` only).
   */
  purgeIntervalSeconds: z.number().nonnegative().default(3600),
  /** Size and count caps of requests (each field has its default). */
  limits: limitsSchema,
  /**
   * JSON of recently read images (`GET /images/:id`), kept true by the database's change
   * announcements (LISTEN/NOTIFY) and off whenever those could be missed. `maxEntries: 0` turns it off.
   */
  imageCache: z
    .object({
      /** Most images kept. Default 10,000; 0 turns the cache off. */
      maxEntries: z.number().int().nonnegative().default(10_000),
      /** Most bytes of JSON kept. Default 64 MiB. */
      maxBytes: z.number().int().nonnegative().default(64 * 1024 * 1024),
      /** Longest an entry is served, in seconds, a bound on staleness should an announcement ever go missing. Default 300. */
      ttlSeconds: z.number().positive().default(300),
    })
    .prefault({}),
});

export type AlbumkitConfigInput = z.input<typeof configSchema>;
export type AlbumkitConfig = z.output<typeof configSchema>;
export type Limits = AlbumkitConfig['limits'];

/** Validates a configuration object; the error names every setting that is wrong. */
export function parseConfig(input: AlbumkitConfigInput): AlbumkitConfig {
  const result = configSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new ConfigError(`Invalid albumkit configuration:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}

/**
 * `cloudinary://<key>:<secret>@<cloud>[?upload_prefix=<url>&delivery_prefix=<url>]`, the format
 * Cloudinary's SDKs read, plus `delivery_prefix` for the local server.
 */
export function parseCloudinaryUrl(value: string): AlbumkitConfigInput['cloudinary'] {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('CLOUDINARY_URL: not a URL (expected cloudinary://<api_key>:<api_secret>@<cloud_name>)');
  }
  if (url.protocol !== 'cloudinary:' || !url.username || !url.password || !url.hostname) {
    throw new ConfigError('CLOUDINARY_URL: expected cloudinary://<api_key>:<api_secret>@<cloud_name>');
  }
  const uploadPrefix = url.searchParams.get('upload_prefix') ?? undefined;
  const deliveryPrefix = url.searchParams.get('delivery_prefix') ?? undefined;
  return {
    cloudName: decodeURIComponent(url.hostname),
    apiKey: decodeURIComponent(url.username),
    apiSecret: decodeURIComponent(url.password),
    ...(uploadPrefix ? { uploadPrefix } : {}),
    ...(deliveryPrefix ? { deliveryPrefix } : {}),
  };
}

/**
 * Redis behind Sentinel, as ioredis takes it (the `redis` option of `BullMqJobs` and `startWorker`):
 * the clients ask the sentinels where the master of `name` is, and ask again after a failover.
 */
export interface RedisSentinelSettings {
  sentinels: { host: string; port: number }[];
  /** The master's name in the sentinels' configuration (`sentinel monitor <name> …`). */
  name: string;
  /** Password of the sentinels themselves (`requirepass` in sentinel.conf). */
  sentinelPassword?: string;
  /** Password of the master and its replicas. */
  password?: string;
}

export interface EnvConfig {
  config: AlbumkitConfig;
  port: number;
  /** `REDIS_URL`: one Redis server. */
  redisUrl: string | undefined;
  /** `REDIS_SENTINELS` and the variables that go with it: Redis behind Sentinel. At most one of `redisUrl` and `redis` is set. */
  redis: RedisSentinelSettings | undefined;
}

/** `host:port,host:port` (port 26379 when left out; `[::1]:26379` for IPv6) into sentinel addresses; undefined if one is wrong. */
function parseSentinels(value: string): { host: string; port: number }[] | undefined {
  const sentinels: { host: string; port: number }[] = [];
  for (const item of value.split(',').map((part) => part.trim())) {
    const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+))(?::(\d{1,5}))?$/.exec(item);
    const port = Number(match?.[3] ?? 26379);
    if (!match || port < 1 || port > 65535) return undefined;
    sentinels.push({ host: match[1] ?? match[2]!, port });
  }
  return sentinels;
}

/** Sentinel settings from the environment; what is wrong goes onto `problems`. */
function sentinelFromEnv(env: Record<string, string | undefined>, problems: string[]): RedisSentinelSettings | undefined {
  const list = env.REDIS_SENTINELS || undefined;
  const name = env.REDIS_SENTINEL_NAME || undefined;
  const sentinelPassword = env.REDIS_SENTINEL_PASSWORD || undefined;
  const password = env.REDIS_PASSWORD || undefined;
  if (!list) {
    // Set without REDIS_SENTINELS, they would be ignored: say so rather than connect without them.
    if (name) problems.push('REDIS_SENTINEL_NAME is read only with REDIS_SENTINELS');
    if (sentinelPassword) problems.push('REDIS_SENTINEL_PASSWORD is read only with REDIS_SENTINELS');
    if (password) problems.push('REDIS_PASSWORD is read only with REDIS_SENTINELS (with REDIS_URL, the password goes in the URL: redis://:<password>@host:port)');
    return undefined;
  }
  if (env.REDIS_URL) problems.push('REDIS_URL and REDIS_SENTINELS are both set: set one of them');
  const sentinels = parseSentinels(list);
  if (!sentinels) problems.push(`REDIS_SENTINELS: "${list}" is not a list of host:port (e.g. 10.0.0.1:26379,10.0.0.2:26379)`);
  if (!name) problems.push('REDIS_SENTINEL_NAME is required with REDIS_SENTINELS (the master name of `sentinel monitor <name> …`)');
  if (!sentinels || !name) return undefined;
  return { sentinels, name, ...(sentinelPassword ? { sentinelPassword } : {}), ...(password ? { password } : {}) };
}

/**
 * Reads `PORT`, `DATABASE_URL`, `REDIS_URL` (or `REDIS_SENTINELS`, `REDIS_SENTINEL_NAME`,
 * `REDIS_SENTINEL_PASSWORD`, `REDIS_PASSWORD`), `ALBUMKIT_SECRET`, `CLOUDINARY_URL`,
 * `ALBUMKIT_PUBLIC_URL` (and `ALBUMKIT_DATA_DIR`, `ALBUMKIT_WEBHOOK_PRIVATE_HOSTS`: comma-separated). Every error names its variable.
 */
export function configFromEnv(env: Record<string, string | undefined> = process.env, defaults: Partial<AlbumkitConfigInput> = {}): EnvConfig {
  const problems: string[] = [];
  const required = (name: string): string => {
    const value = env[name];
    if (!value) problems.push(`${name} is required`);
    return value ?? '';
  };

  const portText = env.PORT ?? '3000';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`PORT: "${portText}" is not a port number`);

  const secret = required('ALBUMKIT_SECRET');
  if (secret && secret.length < 16) problems.push('ALBUMKIT_SECRET must be at least 16 characters');

  let cloudinary: AlbumkitConfigInput['cloudinary'] | undefined;
  const cloudinaryUrl = required('CLOUDINARY_URL');
  if (cloudinaryUrl) {
    try {
      cloudinary = parseCloudinaryUrl(cloudinaryUrl);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }

  const publicUrl = env.ALBUMKIT_PUBLIC_URL ?? `http://localhost:${port}/api/v1`;
  if (!URL.canParse(publicUrl)) problems.push(`ALBUMKIT_PUBLIC_URL: "${publicUrl}" is not a URL`);

  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must be a postgres:// or postgresql:// connection string');
  }
  const redisUrl = env.REDIS_URL || undefined;
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) problems.push('REDIS_URL must be a redis:// or rediss:// URL');
  const redis = sentinelFromEnv(env, problems);

  if (problems.length > 0) {
    throw new ConfigError(`Invalid environment:\n  ${problems.join('\n  ')}`);
  }
  const config = parseConfig({
    ...defaults,
    secret,
    cloudinary: cloudinary!,
    publicUrl,
    ...(databaseUrl ? { databaseUrl } : {}),
    dataDir: env.ALBUMKIT_DATA_DIR || defaults.dataDir || (databaseUrl ? undefined : '.data/pglite'),
    ...(env.ALBUMKIT_WEBHOOK_PRIVATE_HOSTS ? { webhookPrivateHosts: env.ALBUMKIT_WEBHOOK_PRIVATE_HOSTS.split(',').map((h) => h.trim()).filter(Boolean) } : {}),
  });
  return { config, port, redisUrl, redis };
}
