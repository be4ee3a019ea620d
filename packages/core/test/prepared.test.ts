import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlbumkit } from '../src/albumkit.js';
import { connectDatabase } from '../src/db/connect.js';
import { authorization, createTestApp, TEST_CONFIG, type TestApp } from './support/app.js';
import { access, createTenant, uploadResult } from './support/fixtures.js';

describe('prepared statements (PostgreSQL)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp('postgres');
  });
  afterAll(() => app?.close());

  it.each([true, false])('uploads work with preparedStatements: %s, prepared on the connection only when on', async (preparedStatements) => {
    // One connection, so that the statements it prepared can be seen from it.
    const database = await connectDatabase({ url: app.databaseUrl!, poolSize: 1, preparedStatements });
    const albumkit = await createAlbumkit({ ...TEST_CONFIG, logger: { error() {}, warn() {} }, database, migrate: false });
    try {
      const tenant = await createTenant({ ...app, albumkit });
      const token = await tenant.userToken({ A: access('image_upload') });
      for (let i = 0; i < 3; i++) {
        const response = await albumkit.handle({
          method: 'POST',
          path: '/api/v1/albums/A/images',
          headers: { ...authorization(token), 'Content-Type': 'application/json' },
          rawBody: JSON.stringify({ cloudinary: uploadResult() }),
        });
        expect(response.status).toBe(200);
      }
      const { rows } = await sql<{ n: string }>`select count(*) as n from pg_prepared_statements where name like 'albumkit_%'`.execute(database.db);
      expect(Number(rows[0]!.n)).toBe(preparedStatements ? 1 : 0);
    } finally {
      await albumkit.close();
      await database.close();
    }
  });
});
