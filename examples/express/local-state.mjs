// What the demo keeps between runs, all in one folder (ALBUMKIT_HOME, default ./.data):
//   pglite/      the embedded database (unless DATABASE_URL; ALBUMKIT_DATA_DIR overrides the folder)
//   cloudinary/  the files of the local Cloudinary-compatible server (unless CLOUDINARY_URL)
//   dev-secret   the token key used when ALBUMKIT_SECRET is not set (development only)
//   demo.json    the ids of the demo organization and user
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export function localHome(env = process.env) {
  const home = resolve(env.ALBUMKIT_HOME || '.data');
  mkdirSync(home, { recursive: true });
  return home;
}

function readText(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  }
}

/** DEVELOPMENT ONLY: a token key generated once and kept in `<home>/dev-secret`. */
export function developmentSecret(home) {
  const path = join(home, 'dev-secret');
  const existing = readText(path)?.trim();
  if (existing && existing.length >= 16) return { secret: existing, path };
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return { secret, path };
}

/**
 * The demo organization and its user, created on the first run and remembered in
 * `<home>/demo.json`; created again when the database no longer knows them (a new database).
 */
export async function demoUser(albumkit, home) {
  const path = join(home, 'demo.json');
  const saved = JSON.parse(readText(path) ?? '{}');
  if (saved.userId) {
    const user = await albumkit.repositories.organizations.findUser(saved.userId);
    if (user && user.organization_id === saved.organizationId) return { ...saved, created: false };
  }
  const organization = await albumkit.setup.createOrganization('Demo organization');
  const user = await albumkit.setup.createUser(organization.id, { name: 'Demo user', email: 'demo@example.com' });
  const demo = { organizationId: organization.id, userId: user.id };
  writeFileSync(path, `${JSON.stringify(demo, null, 2)}\n`);
  return { ...demo, created: true };
}
