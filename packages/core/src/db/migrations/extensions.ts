import { sql, type Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * An extension is there, or can be created here: it ships with the server and the user is a
 * superuser, or (PostgreSQL 13 and later, for a trusted extension such as pg_trgm or btree_gin)
 * may create objects in the database. Migrations that use an extension leave out what needs it
 * when this says no, so that albumkit still installs where the extension cannot be had.
 */
export async function extensionUsable(db: Db, name: string): Promise<boolean> {
  const { rows } = await sql<{ usable: boolean }>`
    select exists (select 1 from pg_extension where extname = ${name})
      or (exists (select 1 from pg_available_extensions where name = ${name})
          and (coalesce((select rolsuper from pg_roles where rolname = current_user), false)
               or (current_setting('server_version_num')::int >= 130000 and has_database_privilege(current_database(), 'CREATE'))))
      as usable`.execute(db);
  return rows[0]?.usable === true;
}
