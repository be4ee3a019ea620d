#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { Tokens } from './auth/tokens.js';
import { CloudinaryAdmin } from './cloudinary/admin.js';
import { configSchema, parseCloudinaryUrl } from './config.js';
import { connectDatabase } from './db/connect.js';
import { migrateToLatest } from './db/migrate.js';
import { OrganizationRepository } from './repositories/organizations.js';
import { PurgeRepository } from './repositories/purge.js';
import { WebhookRepository } from './repositories/webhooks.js';
import { PurgeService } from './services/purge.js';
import { SetupService } from './services/setup.js';

const USAGE = `albumkit <command>

  migrate                                  bring the database schema up to date
  create-organization <name>               prints the organization id
  create-user <organization_id> [--sfid ID] [--email E] [--name N]
                                           prints the user id
  create-secret <organization_id> [--description D]
                                           prints sharinpix://<id>:<secret>@<host>/api/v1
  token <user_id> [--admin] [--abilities JSON] [--ttl SECONDS]
                                           prints a server token for the user
  trash purge [--older-than DAYS]          destroys images trashed at least DAYS ago (default 30),
                                           their Cloudinary assets unless another image uses them

Environment: DATABASE_URL (absent: embedded PGlite in ALBUMKIT_DATA_DIR, default .data/pglite),
ALBUMKIT_PUBLIC_URL (for create-secret), ALBUMKIT_SECRET (for token), CLOUDINARY_URL (for trash purge).`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      sfid: { type: 'string' },
      email: { type: 'string' },
      name: { type: 'string' },
      description: { type: 'string' },
      admin: { type: 'boolean' },
      abilities: { type: 'string' },
      ttl: { type: 'string' },
      'older-than': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, argument] = positionals;
  if (!command || values.help) {
    console.log(USAGE);
    return command || values.help ? 0 : 1;
  }
  const needs = (what: string): string => {
    if (!argument) throw new UsageError(`${command}: ${what} is required`);
    return argument;
  };

  if (command === 'token') {
    const secret = process.env.ALBUMKIT_SECRET;
    if (!secret) throw new UsageError('ALBUMKIT_SECRET is required to sign tokens');
    const tokens = new Tokens(secret, { findSecret: async () => undefined, findUserOrganization: async () => undefined });
    const abilities = values.abilities ? JSON.parse(values.abilities) : {};
    const ttl = values.ttl ? Number(values.ttl) : undefined;
    console.log(await tokens.issueUserToken(needs('a user id'), abilities, { admin: values.admin, ...(ttl ? { ttlSeconds: ttl } : {}) }));
    return 0;
  }

  const url = process.env.DATABASE_URL || undefined;
  const database = await connectDatabase({ url, dataDir: url ? undefined : process.env.ALBUMKIT_DATA_DIR || '.data/pglite' });
  try {
    const setup = new SetupService(new OrganizationRepository(database.db), new WebhookRepository(database.db), process.env.ALBUMKIT_PUBLIC_URL ?? 'http://localhost:3000/api/v1');
    switch (command) {
      case 'migrate': {
        const { applied } = await migrateToLatest(database.db);
        console.log(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
        return 0;
      }
      case 'create-organization':
        await migrateToLatest(database.db);
        console.log((await setup.createOrganization(needs('a name'))).id);
        return 0;
      case 'create-user':
        console.log((await setup.createUser(needs('an organization id'), { sfid: values.sfid, email: values.email, name: values.name })).id);
        return 0;
      case 'trash': {
        if (argument !== 'purge') throw new UsageError(`trash: expected "trash purge"\n\n${USAGE}`);
        const olderThan = values['older-than'];
        const days = olderThan === undefined ? configSchema.shape.trashRetentionDays.parse(undefined) : Number(olderThan);
        if (olderThan !== undefined && (olderThan.trim() === '' || !Number.isFinite(days) || days < 0)) {
          throw new UsageError(`--older-than: a number of days, 0 or more, is expected (got "${olderThan}")`);
        }
        const cloudinaryUrl = process.env.CLOUDINARY_URL;
        if (!cloudinaryUrl) throw new UsageError('CLOUDINARY_URL is required to destroy assets');
        const cloudinary = configSchema.shape.cloudinary.parse(parseCloudinaryUrl(cloudinaryUrl));
        await migrateToLatest(database.db);
        const purge = new PurgeService({
          db: database.db,
          purge: new PurgeRepository(database.db),
          cloudinary: new CloudinaryAdmin(cloudinary),
          retentionDays: days,
          logger: { error: (o, m) => console.error(m ?? '', o), warn: (o, m) => console.error(m ?? '', o) },
        });
        const { images, assets } = await purge.run();
        console.log(`purged ${images} images, ${assets} assets`);
        return 0;
      }
      case 'create-secret':
        console.log((await setup.createSecret(needs('an organization id'), values.description)).url);
        return 0;
      default:
        throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
    }
  } finally {
    await database.close();
  }
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`albumkit: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
