import { createAlbumkit, type Albumkit, type AlbumkitOptions } from '../../src/albumkit.js';
import { connectDatabase, type DatabaseHandle } from '../../src/db/connect.js';
import type { CoreRequest, CoreResponse } from '../../src/http/types.js';
import { createTestDatabase } from './postgres.js';

export type Dialect = 'postgres' | 'pglite';
export const DIALECTS: Dialect[] = ['postgres', 'pglite'];

/** The configuration of the recorded seeds: same cloud name, API key and host, test secrets. */
export const TEST_CONFIG = {
  secret: 'test-app-secret-for-albumkit-tests',
  cloudinary: { cloudName: 'sadaasdasd', apiKey: '123123123123', apiSecret: 'test-cloudinary-api-secret' },
  publicUrl: 'https://localhost:5001/api/v1',
  // The recordings' external proxy (albumkit's default is its own /proxy route).
  proxy: { url: 'https://sharinpix-proxy-dev.herokuapp.com' },
  // The tests' webhook receivers listen on loopback, which the remote policy refuses by default.
  webhookPrivateHosts: ['127.0.0.1:*'],
} satisfies Partial<AlbumkitOptions>;

const silent = { error() {}, warn() {} };

export interface TestApp {
  albumkit: Albumkit;
  database: DatabaseHandle;
  /** Connection string of the test database (PostgreSQL only), for other processes. */
  databaseUrl: string | undefined;
  request(req: Partial<CoreRequest> & { method: string; path: string }): Promise<CoreResponse & { json: any }>;
  close(): Promise<void>;
}

/** Albumkit on a fresh database of the given dialect (real PostgreSQL, or PGlite in memory). */
export async function createTestApp(dialect: Dialect, options: Partial<AlbumkitOptions> = {}): Promise<TestApp> {
  const database = dialect === 'postgres' ? await createTestDatabase() : await connectDatabase({});
  const albumkit = await createAlbumkit({ ...TEST_CONFIG, logger: silent, ...options, database });
  return {
    albumkit,
    database,
    databaseUrl: 'url' in database ? (database.url as string) : undefined,
    async request(req) {
      const response = await albumkit.handle({ headers: {}, ...req });
      return { ...response, json: response.body ? JSON.parse(response.body) : undefined };
    },
    async close() {
      await albumkit.close();
      await database.close();
    },
  };
}

export function authorization(token: string): Record<string, string> {
  return { Authorization: `Token token="${token}"` };
}
