import { sql, type Kysely } from 'kysely';
import type { Logger } from '../logger.js';
import { DATABASE_HINT, describeFailure, isConnectionError } from './dependencies.js';
import type { Health } from './health.js';
import type { Telemetry } from './telemetry.js';

export { Health, type CheckResult, type HealthOptions, type ReadinessCheck, type ReadinessReport } from './health.js';
export {
  Telemetry,
  observedProcessors,
  type JobObservation,
  type QueueDepth,
  type QueueDepthSource,
  type RequestObservation,
  type TelemetryObserver,
} from './telemetry.js';
export { DATABASE_HINT, REDIS_HINT, backoffDelay, describeFailure, isConnectionError } from './dependencies.js';

/** What a job port (or anything else) gets to report its own health and measurements. */
export interface OpsContext {
  health: Health;
  telemetry: Telemetry;
  logger: Logger;
}

/** A job port that registers readiness checks and metrics when albumkit starts it (BullMQ does). */
export interface OpsAware {
  attachOps(context: OpsContext): void;
}

export function isOpsAware(value: unknown): value is OpsAware {
  return typeof (value as Partial<OpsAware> | null)?.attachOps === 'function';
}

/** The database readiness check: one `select 1`; an unreachable server is also reported (once) on the log. */
export function databaseCheck(db: Kysely<any>, health: Health): () => Promise<void> {
  return async () => {
    try {
      await sql`select 1`.execute(db);
      health.reportUp('database');
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      health.reportDown('database', error, DATABASE_HINT);
      throw new Error(`PostgreSQL unreachable (${describeFailure(error)}): ${DATABASE_HINT}`);
    }
  };
}
