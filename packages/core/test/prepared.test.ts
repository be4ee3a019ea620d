import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlbumkit } from '../src/albumkit.js';
import { connectDatabase } from '../src/db/connect.js';
import { authorization, createTestApp, TEST_CONFIG, type TestApp } from './support/app.js';
import { access, createTenant, postUpload } from './support/fixtures.js';

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
      for (let i = 0; i < 3; i++) expect((await postUpload(albumkit.handle, token, 'A')).status).toBe(200);
      const { rows } = await sql<{ n: string }>`select count(*) as n from pg_prepared_statements where name like 'albumkit_%'`.execute(database.db);
      expect(Number(rows[0]!.n)).toBe(preparedStatements ? 1 : 0);
    } finally {
      await albumkit.close();
      await database.close();
    }
  });

  it('keeps uploading when a migration changes the images table under the prepared statements', async () => {
    const database = await connectDatabase({ url: app.databaseUrl!, poolSize: 1 });
    const albumkit = await createAlbumkit({ ...TEST_CONFIG, logger: { error() {}, warn() {} }, database, migrate: false });
    try {
      const tenant = await createTenant({ ...app, albumkit });
      const token = await tenant.userToken({ A: access('image_upload', 'image_duplicate') });
      const upload = () => postUpload(albumkit.handle, token, 'A');
      const duplicate = (id: string) => albumkit.handle({ method: 'POST', path: `/api/v1/images/${id}/duplicate`, headers: authorization(token) });
      const first = await upload();
      expect(first.status).toBe(200);
      expect((await duplicate(JSON.parse(first.body).id)).status).toBe(200);
      // A new column, then a column whose type changes (the prepared plans' result no longer fits).
      await sql`alter table images add column extra text`.execute(database.db);
      expect((await upload()).status).toBe(200);
      await sql`alter table images alter column title type varchar(500)`.execute(database.db);
      const after = await upload();
      expect(after.status).toBe(200);
      expect((await duplicate(JSON.parse(after.body).id)).status).toBe(200);
    } finally {
      await albumkit.close();
      await database.close();
    }
  });
});
