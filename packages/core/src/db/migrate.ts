import { Migrator, type Kysely, type MigrationResultSet } from 'kysely';
import { DATABASE_HINT, describeFailure, isConnectionError } from '../ops/dependencies.js';
import { connectionRefusal, withoutQueryTimeout } from './connect.js';
import { migrations } from './migrations/index.js';

export interface MigrationReport {
  applied: string[];
}

/**
 * Brings the schema to the latest version; throws with the failing migration's name, or, when the
 * database could not be reached or refused the connection, with the setting to check.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationReport> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'albumkit_migration',
    migrationLockTableName: 'albumkit_migration_lock',
  });
  // Building an index, or waiting for another process's migration lock, may take long: no statement time limit.
  const result: MigrationResultSet = await withoutQueryTimeout(() => migrator.migrateToLatest());
  if (result.error) {
    const error = result.error;
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName;
    if (failed) throw new Error(`albumkit migration ${failed} failed: ${describeFailure(error)}`, { cause: error });
    // No migration ran: the database was not reachable, or turned the connection down.
    if (isConnectionError(error)) {
      throw new Error(`albumkit migrations could not run: PostgreSQL unreachable (${describeFailure(error)}): ${DATABASE_HINT}`, { cause: error });
    }
    const refusal = connectionRefusal(error);
    throw refusal === error ? new Error(`albumkit migrations could not run: ${describeFailure(error)}`, { cause: error }) : refusal;
  }
  return { applied: (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}
