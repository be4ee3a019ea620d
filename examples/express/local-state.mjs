// What the demo keeps between runs, all in one folder (ALBUMKIT_HOME, default ./.data):
//   pglite/      the embedded database (unless DATABASE_URL; ALBUMKIT_DATA_DIR overrides the folder)
//   cloudinary/  the files of the local Cloudinary-compatible server (unless CLOUDINARY_URL)
//   dev-secret   the token key used when ALBUMKIT_SECRET is not set (development only)
//   demo.json    the ids of the demo organization and user, and its integrator secret (development only)
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

const demoPath = (home) => join(home, 'demo.json');

function readDemo(home) {
  return JSON.parse(readText(demoPath(home)) ?? '{}');
}

/** demo.json holds a secret: readable by its owner only (chmod too, for a file written before). */
function writeDemo(home, demo) {
  const path = demoPath(home);
  writeFileSync(path, `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/**
 * The demo organization and its user, created on the first run and remembered in
 * `<home>/demo.json`; created again when the database no longer knows them (a new database).
 */
export async function demoUser(albumkit, home) {
  const saved = readDemo(home);
  if (saved.userId) {
    const user = await albumkit.repositories.organizations.findUser(saved.userId);
    if (user && user.organization_id === saved.organizationId) return { organizationId: saved.organizationId, userId: saved.userId, created: false };
  }
  const organization = await albumkit.setup.createOrganization('Demo organization');
  const user = await albumkit.setup.createUser(organization.id, { name: 'Demo user', email: 'demo@example.com' });
  const demo = { organizationId: organization.id, userId: user.id };
  writeDemo(home, demo); // a new organization: an integrator secret of the old one is dropped
  return { ...demo, created: true };
}

/**
 * DEVELOPMENT ONLY: an integrator secret of the demo organization, created once
 * (`albumkit.setup.createSecret()`) and kept in `<home>/demo.json`, so that an integrator client
 * configured with its URL keeps working across restarts. Created again when the database no longer
 * knows it, it was revoked, or it belongs to another organization. The URL is built for
 * `publicUrl` of this run, as `createSecret()` builds it: `sharinpix://<id>:<secret>@<host>/api/v1`.
 */
export async function demoIntegratorSecret(albumkit, home, demo, publicUrl) {
  const saved = readDemo(home);
  const kept = saved.integratorSecret;
  if (kept?.id && kept.secret) {
    const stored = await albumkit.repositories.organizations.findSecret(kept.id);
    if (stored && !stored.revoked_at && stored.organization_id === demo.organizationId && stored.secret === kept.secret) {
      const api = new URL(publicUrl);
      const url = `sharinpix://${kept.id}:${kept.secret}@${api.host}${api.pathname.replace(/\/+$/, '')}`;
      return { id: kept.id, url, path: demoPath(home), created: false };
    }
  }
  const issued = await albumkit.setup.createSecret(demo.organizationId, 'albumkit demo (development only)');
  writeDemo(home, { ...saved, organizationId: demo.organizationId, userId: demo.userId, integratorSecret: { id: issued.id, secret: issued.secret } });
  return { id: issued.id, url: issued.url, path: demoPath(home), created: true };
}
