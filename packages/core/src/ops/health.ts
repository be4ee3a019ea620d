import type { Logger } from '../logger.js';
import { describeFailure } from './dependencies.js';

/**
 * A readiness check: resolves when the dependency it looks at is usable, throws (with a message
 * saying what to do) when it is not. It should be cheap: probes call it every few seconds.
 */
export type ReadinessCheck = () => Promise<unknown> | unknown;

export interface CheckResult {
  ok: boolean;
  /** Why the check failed (absent when it passed). */
  error?: string;
  /** How long the check took, in milliseconds. */
  ms: number;
}

export interface ReadinessReport {
  status: 'ready' | 'not_ready';
  /** One entry per registered check, by name. */
  checks: Record<string, CheckResult>;
}

export interface HealthOptions {
  /** Longest a check may take before it counts as failed, in milliseconds (default 2000). */
  checkTimeoutMs?: number;
  logger?: Logger;
}

/** Logger methods used for recovery messages, when the host's logger has them. */
type InfoLogger = Logger & { info?(object: unknown, message?: string): void };

/**
 * Liveness (the process answers) and readiness (the registered checks pass). Core registers the
 * database; `@albumkit/worker` adds Redis and queue lag when BullMQ is used. Also the one place
 * that reports a dependency going down and coming back, once per outage.
 */
export class Health {
  private readonly checks = new Map<string, ReadinessCheck>();
  private readonly down = new Map<string, string>();
  private running: Promise<ReadinessReport> | undefined;
  private readonly timeoutMs: number;
  private readonly logger: InfoLogger | undefined;

  constructor(options: HealthOptions = {}) {
    this.timeoutMs = options.checkTimeoutMs ?? 2000;
    this.logger = options.logger;
  }

  /** Registers a readiness check; a second check of the same name replaces the first. Returns its removal. */
  addCheck(name: string, check: ReadinessCheck): () => void {
    this.checks.set(name, check);
    return () => {
      if (this.checks.get(name) === check) this.checks.delete(name);
    };
  }

  /** Names of the registered checks. */
  checkNames(): string[] {
    return [...this.checks.keys()];
  }

  /** The process is up and answering. */
  live(): { status: 'live' } {
    return { status: 'live' };
  }

  /** Runs every check at once (each bounded by the timeout); concurrent callers share one run. */
  ready(): Promise<ReadinessReport> {
    this.running ??= this.runChecks().finally(() => (this.running = undefined));
    return this.running;
  }

  /**
   * A dependency is unreachable: logged once (with `hint`, the setting to check) until `reportUp`.
   * Returns whether this call logged.
   */
  reportDown(dependency: string, error: unknown, hint: string): boolean {
    if (this.down.has(dependency)) return false;
    const reason = describeFailure(error);
    this.down.set(dependency, reason);
    this.logger?.error({ dependency, reason }, `${dependency} unreachable (${reason}): ${hint}; retrying with backoff`);
    return true;
  }

  /** The dependency answers again: logged once if it had been reported down. */
  reportUp(dependency: string): void {
    if (!this.down.delete(dependency)) return;
    const log = this.logger?.info ? this.logger.info.bind(this.logger) : this.logger?.warn.bind(this.logger);
    log?.({ dependency }, `${dependency} reachable again`);
  }

  /** Whether a dependency is currently reported down. */
  isDown(dependency: string): boolean {
    return this.down.has(dependency);
  }

  private async runChecks(): Promise<ReadinessReport> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]): Promise<[string, CheckResult]> => {
        const started = performance.now();
        let timer: NodeJS.Timeout | undefined;
        try {
          const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
          });
          await Promise.race([Promise.resolve().then(check), timeout]);
          return [name, { ok: true, ms: Math.round(performance.now() - started) }];
        } catch (error) {
          return [name, { ok: false, error: error instanceof Error ? error.message : String(error), ms: Math.round(performance.now() - started) }];
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const checks = Object.fromEntries(entries);
    return { status: entries.every(([, result]) => result.ok) ? 'ready' : 'not_ready', checks };
  }
}
