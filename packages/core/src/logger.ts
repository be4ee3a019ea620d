/** What albumkit logs through: pino's shape, so a host may pass its own pino (or any object with these methods). */
export interface Logger {
  error(object: unknown, message?: string): void;
  warn(object: unknown, message?: string): void;
}
