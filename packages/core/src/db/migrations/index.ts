import type { Migration } from 'kysely';
import * as initial from './0001_initial.js';
import * as webhooks from './0002_webhooks.js';

/** Every migration, in order. Names never change once released. */
export const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_webhooks': webhooks,
};
