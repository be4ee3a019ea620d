/** What to check when a dependency is unreachable: the setting that names it, in the environment and in code. */
export const DATABASE_HINT = 'check DATABASE_URL (the databaseUrl option) and that PostgreSQL accepts connections';
export const REDIS_HINT = 'check REDIS_URL (the redisUrl option of BullMqJobs / startWorker) or REDIS_SENTINELS (the redis option) and that Redis accepts connections';

/** Socket errors and PostgreSQL states that mean "not reachable now", which retrying can fix. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down, in recovery)
  '53300', // too_many_connections
]);

const TRANSIENT_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /connection is closed/i,
  /enableOfflineQueue/i,
  /max retries per request/i,
  /command timed out/i, // ioredis's commandTimeout: no answer on a connection that seems open (half-open)
  /all sentinels are unreachable/i, // ioredis with Sentinel, while it cannot ask where the master is
  /the database system is (starting up|shutting down)/i,
];

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, errors } = error as { code?: unknown; errors?: unknown };
  if (typeof code === 'string') return code;
  // Node reports a refused connection to every address of a name (happy eyeballs) as an AggregateError.
  if (Array.isArray(errors)) return errors.map(codeOf).find(Boolean);
  return undefined;
}

/** Whether the error says a dependency cannot be reached right now (as opposed to refusing what was asked). */
export function isConnectionError(error: unknown): boolean {
  const code = codeOf(error);
  if (code && TRANSIENT_CODES.has(code)) return true;
  const message = error instanceof Error ? error.message : String(error);
  if (TRANSIENT_MESSAGES.some((pattern) => pattern.test(message))) return true;
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause !== undefined && cause !== error && isConnectionError(cause);
}

/** One line about a failure, without a stack: `ECONNREFUSED 127.0.0.1:5432`, else the message. */
export function describeFailure(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const first = Array.isArray((error as { errors?: unknown }).errors) ? ((error as { errors: unknown[] }).errors[0] as object) : error;
  const { code, address, port } = (first ?? error) as { code?: unknown; address?: unknown; port?: unknown };
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
    return typeof address === 'string' ? `${code} ${address}${port === undefined ? '' : `:${String(port)}`}` : code;
  }
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' && message ? message : String(error);
}

/** Delay before the n-th retry (1-based): doubling from `baseMs` up to `maxMs`, with ±25 % jitter. */
export function backoffDelay(attempt: number, baseMs = 200, maxMs = 10_000): number {
  const delay = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(delay * (0.75 + Math.random() * 0.5));
}
