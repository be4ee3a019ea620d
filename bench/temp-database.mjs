// A temporary PostgreSQL database for one benchmark run, dropped at the end.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function admin(sql) {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** `{ url, host, drop() }` of a fresh, empty database on the server of DATABASE_URL. */
export async function createTempDatabase() {
  const name = `albumkit_bench_${randomBytes(5).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), host: url.host, drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
