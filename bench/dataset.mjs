// A large, realistic albumkit database for the benches that need one (search, scale): a temporary
// PostgreSQL database migrated with albumkit's own migrations, then seeded with COPY (text format,
// through pg-copy-streams), not row by row.
//
//   import { createDataset } from './dataset.mjs';
//   const dataset = await createDataset({ images: 1_000_000, albums: 10_000, organizations: 10 });
//   // dataset.url, dataset.samples (org ids, tag names, a metadata value, dates, a GPS box, …)
//   await dataset.drop();
//
//   node bench/dataset.mjs [images] [albums] [organizations]   # seeds, prints the samples, drops
//
// What it holds (deterministic for given sizes and seed: a seeded PRNG draws every choice, only
// the UUIDs are random):
// - organizations of skewed sizes (weights 1/rank^0.75: with 10, the largest holds 27% of the
//   images and the smallest 5%), 20 users each;
// - albums shared out in proportion, their sizes Zipf-like within an organization (1/rank: a few
//   albums of tens of thousands of images, most of a few dozen); each album is a building site
//   (a `site` name in a city of Europe, a project `ref`) active over a period of the 3 years
//   2023-12-03 → 2026-12-03, longer for large albums;
// - images created within their album's period, stored in creation order (as a live table is):
//   file names like IMG_1234.JPG, PXL_20240512_103422123.jpg, DSC_0042.JPG, screenshots, and
//   descriptive ones ("chantier facade nord.png"); jpg 70%, heic 20%, png 10%; widths and heights
//   of phones and cameras; taken_at for 70% (a little before the upload, with EXIF); GPS for 40%
//   around the album's site; title for 20% and description for 15% of them, French site words;
//   metadatas {"site", "ref", "status"} (sometimes "lot") for 60%, {} otherwise; 5% in the trash;
// - about 200 tags per organization, Zipf-like popularity (1/rank^1.1), 1.5 tags per image on
//   average (0 to 5) in tag_images; album_image_counts equal to each album's live images.
//
// Loading: the indexes and keys of images and tag_images are dropped (their definitions read
// from the catalog first), both tables are truncated and loaded with COPY … FREEZE in one
// transaction (rows written frozen and all-visible: no hint-bit writes on first read, as after
// autovacuum on a long-lived table), then the keys and indexes are rebuilt from the same
// definitions (two connections at a time), the foreign keys validated, and ANALYZE run.
//
// BENCH_DATASET_KEEP=1: the database is named after its sizes and kept after the run; the next
// run with the same sizes reuses it (migrated to the latest again, not reseeded). Drop it with
// BENCH_DATASET_KEEP=drop, or `DROP DATABASE albumkit_dataset_…`. By default it is dropped.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { connectDatabase, migrateToLatest } from '@albumkit/core';
import { ADMIN_URL, createTempDatabase } from './temp-database.mjs';

const copyFrom = copyStreams.from;
/** Bump when the generated data changes, so that a kept database of an older version is not reused. */
const VERSION = 1;
export const PERIOD = { from: '2023-12-03T00:00:00.000Z', to: '2026-12-03T00:00:00.000Z' };
const T0 = Date.parse(PERIOD.from);
const T1 = Date.parse(PERIOD.to);
const DAY = 86_400_000;

// ---------------------------------------------------------------- vocabulary
/** Cities of Europe, most frequent first (Zipf-like weights), with their centre. */
const CITIES = [
  ['Paris', 48.8566, 2.3522], ['Lyon', 45.764, 4.8357], ['Marseille', 43.2965, 5.3698], ['Toulouse', 43.6047, 1.4442],
  ['Nantes', 47.2184, -1.5536], ['Bordeaux', 44.8378, -0.5792], ['Lille', 50.6292, 3.0573], ['Bruxelles', 50.8503, 4.3517],
  ['Strasbourg', 48.5734, 7.7521], ['Nice', 43.7102, 7.262], ['Rennes', 48.1173, -1.6778], ['Genève', 46.2044, 6.1432],
  ['Montpellier', 43.6108, 3.8767], ['Grenoble', 45.1885, 5.7245], ['Madrid', 40.4168, -3.7038], ['Barcelona', 41.3874, 2.1686],
  ['Milano', 45.4642, 9.19], ['München', 48.1351, 11.582], ['Zürich', 47.3769, 8.5417], ['Lisboa', 38.7223, -9.1393],
  ['Amsterdam', 52.3676, 4.9041], ['London', 51.5072, -0.1276], ['Berlin', 52.52, 13.405], ['Frankfurt', 50.1109, 8.6821],
  ['Roma', 41.9028, 12.4964], ['Wien', 48.2082, 16.3738], ['Praha', 50.0755, 14.4378], ['Warszawa', 52.2297, 21.0122],
  ['København', 55.6761, 12.5683], ['Dublin', 53.3498, -6.2603],
];
const PLACES = [
  'Les Tilleuls', 'Le Clos Fleuri', 'Les Jardins du Parc', 'Résidence du Lac', 'Les Terrasses', 'Le Carré Saint-Louis', 'Les Hauts de Seine',
  'Îlot Gare', 'ZAC des Berges', 'Collège Jean Moulin', 'Groupe scolaire Pasteur', 'Hôpital Nord', 'Gymnase Municipal', 'Les Érables',
  'Le Belvédère', 'Parc des Expositions', 'Médiathèque', 'Campus Sud', 'Les Docks', 'Quai Ouest', 'Le Patio', 'Villa Sainte-Anne',
  'Les Charmilles', 'Le Verger', 'Cité Administrative', 'Halle Marchande', 'Les Ateliers', 'Pôle Santé', 'Maison de Retraite Les Pins',
  'Le Mail', 'Résidence Horizon', 'Les Coteaux', 'Centre Aquatique', 'Lycée Victor Hugo', 'Les Lilas', 'Bâtiment Tertiaire A',
  'Entrepôt Logistique', 'Le Square', 'Hôtel de Ville', 'Les Peupliers', 'Tour Panorama', 'Le Moulin', 'Îlot Central', 'Les Marronniers',
  'Clinique du Val', 'Les Glycines', 'Le Forum', 'Crèche Les Petits Pas', 'Parking Silo', 'Résidence Étudiante',
];
/** Words of descriptive file names, titles and descriptions (building sites), most frequent first. */
const WORDS = [
  'chantier', 'vue', 'facade', 'toiture', 'nord', 'sud', 'est', 'ouest', 'fissure', 'reserve', 'mur', 'dalle', 'avant', 'apres',
  'fenetre', 'porte', 'escalier', 'beton', 'reseau', 'electrique', 'plomberie', 'isolation', 'charpente', 'coffrage', 'ferraillage',
  'enduit', 'peinture', 'carrelage', 'sol', 'plafond', 'pignon', 'terrasse', 'balcon', 'garde-corps', 'ascenseur', 'parking', 'voirie',
  'reception', 'livraison', 'etage', 'rdc', 'sous-sol', 'local', 'technique', 'cuisine', 'salle', 'bain', 'menuiserie', 'etancheite',
  'gaine', 'cloison', 'reprise', 'infiltration', 'degradation', 'finition', 'controle', 'visite', 'levee', 'defaut', 'joint',
];
const FILLER = ['de', 'la', 'du', 'le', 'des', 'et', 'en', 'sur', 'au', 'avec', 'a', 'pour'];
const TAG_POOL = [...new Set([
  ...WORDS,
  ...'abcdefgh'.split('').map((l) => `batiment-${l}`),
  ...Array.from({ length: 40 }, (_, i) => `lot-${String(i + 1).padStart(2, '0')}`),
  ...Array.from({ length: 12 }, (_, i) => `etage-${i - 2}`),
  ...Array.from({ length: 52 }, (_, i) => `semaine-${i + 1}`),
  'urgent', 'a-valider', 'valide', 'refuse', 'sav', 'gros-oeuvre', 'second-oeuvre', 'vrd', 'cvc', 'electricite', 'securite', 'hygiene',
  'opr', 'gpa', 'dgd', 'pv', 'client', 'architecte', 'bet', 'sps', 'bureau-controle', 'echafaudage', 'grue', 'base-vie', 'dechets',
  'amiante', 'plomb', 'demolition', 'terrassement', 'fondations', 'espaces-verts', 'signaletique', 'mobilier', 'eclairage', 'photovoltaique',
])];
const MODELS = [['Apple', 'iPhone 13'], ['Apple', 'iPhone 14 Pro'], ['Apple', 'iPhone 12'], ['samsung', 'SM-G991B'], ['Google', 'Pixel 7'], ['Canon', 'Canon EOS 250D'], ['SONY', 'ILCE-6400']];
const SIZES = [[4032, 3024, 30], [3024, 4032, 25], [4000, 3000, 12], [1920, 1080, 8], [1080, 1920, 5], [2048, 1536, 6], [1280, 960, 6], [5472, 3648, 4], [6000, 4000, 4]];
const STATUSES = [['ok', 70], ['review', 10], ['todo', 15], ['ko', 5]];
/** How many tags an image has: 0 to 5, 1.53 on average. */
const TAG_COUNTS = [[0, 30], [1, 25], [2, 20], [3, 15], [4, 7], [5, 3]];
/** Samples that the data set holds by construction. */
const FIXED_SAMPLES = {
  /** A frequent word of descriptive file names. */
  filenameWord: 'facade',
  /** The least frequent word of descriptive file names (a few hundred images per organization). */
  rareFilenameWord: WORDS.at(-1),
  /** A bare term: a tag name, a file name word, a word of titles and descriptions. */
  term: 'fissure',
  dates: { from: PERIOD.from, to: PERIOD.to },
  month: { from: '2024-01-01', to: '2024-02-01' },
};
const USERS_PER_ORGANIZATION = 20;
const TAGS_PER_ORGANIZATION = 200;
const SITES_PER_ORGANIZATION = 100;

// ---------------------------------------------------------------- random draws
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
/** A draw among `n` ranks with weights 1/rank^s (0-based rank). */
function zipf(n, s) {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / (i + 1) ** s;
  for (let i = 0; i < n; i++) cdf[i] /= sum;
  return (r) => {
    const x = r();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}
/** A draw among `[value, weight]` pairs. */
function weighted(pairs) {
  const total = pairs.reduce((sum, p) => sum + p.at(-1), 0);
  return (r) => {
    let x = r() * total;
    for (const p of pairs) if ((x -= p.at(-1)) < 0) return p;
    return pairs.at(-1);
  };
}
const pad = (n, width) => String(n).padStart(width, '0');
const hex = (r, length) => {
  let s = '';
  while (s.length < length) s += Math.floor(r() * 4294967296).toString(16).padStart(8, '0');
  return s.slice(0, length);
};
/** `2024:05:12 10:34:22`, as EXIF writes it. */
const exifTime = (ms) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ').replace(/-/g, ':');
const compact = (ms) => new Date(ms).toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '_');
/** A text field of COPY's text format: backslash, tab and line ends escaped; null as \N. */
const field = (value) => {
  if (value === null || value === undefined) return '\\N';
  const s = String(value);
  return /[\\\t\n\r]/.test(s) ? s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : s;
};
const line = (values) => `${values.map(field).join('\t')}\n`;

// ---------------------------------------------------------------- the data set
/**
 * Creates (or, with BENCH_DATASET_KEEP=1, reuses) a seeded database. Returns `{ url, name, reused,
 * seedSeconds, sizeBytes, counts, organizations, samples, drop() }`; `samples` are picked in the
 * largest organization (see the end of this file).
 */
export async function createDataset({ images = 1_000_000, albums = 10_000, organizations = 10, seed = 20261203, log = (m) => console.log(`[dataset] ${m}`) } = {}) {
  const keepMode = process.env.BENCH_DATASET_KEEP ?? '';
  const keep = keepMode === '1' || keepMode === 'true';
  let database;
  if (keep || keepMode === 'drop') {
    const name = `albumkit_dataset_v${VERSION}_${images}_${albums}_${organizations}_${seed}`;
    const url = new URL(ADMIN_URL);
    url.pathname = `/${name}`;
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    try {
      const found = await admin.query(`SELECT shobj_description(oid, 'pg_database') AS info FROM pg_database WHERE datname = $1`, [name]);
      if (keepMode === 'drop') {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        log(`dropped ${name}`);
        return null;
      }
      const info = found.rows[0]?.info ? JSON.parse(found.rows[0].info) : null;
      if (info?.complete) {
        log(`reusing ${name} (BENCH_DATASET_KEEP=1; seeded ${info.seededAt} in ${info.seedSeconds.toFixed(1)} s)`);
        const handle = await connectDatabase({ url: url.toString(), poolSize: 1 });
        const report = await migrateToLatest(handle.db);
        await handle.close();
        if (report.applied?.length) log(`applied ${report.applied.join(', ')} to the kept database`);
        // Samples that do not depend on the drawn data come from this file, as it is now.
        return { ...info, samples: { ...info.samples, ...FIXED_SAMPLES }, url: url.toString(), name, reused: true, drop: async () => log(`kept ${name} (BENCH_DATASET_KEEP=1)`) };
      }
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    database = { url: url.toString(), name, drop: async () => log(`kept ${name} (BENCH_DATASET_KEEP=1; BENCH_DATASET_KEEP=drop drops it)`) };
  } else {
    const temp = await createTempDatabase();
    database = { url: temp.url, name: new URL(temp.url).pathname.slice(1), drop: temp.drop };
  }

  const started = performance.now();
  const phases = {};
  const phase = async (name, run) => {
    const t = performance.now();
    const result = await run();
    phases[name] = (performance.now() - t) / 1000;
    log(`${name}: ${phases[name].toFixed(1)} s`);
    return result;
  };

  await phase('migrate', async () => {
    const handle = await connectDatabase({ url: database.url, poolSize: 1 });
    await migrateToLatest(handle.db);
    await handle.close();
  });

  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const info = await seed_(client, database.url, { images, albums, organizations, seed }, phase, log);
    const seedSeconds = (performance.now() - started) / 1000;
    const size = (await client.query('SELECT pg_database_size(current_database()) AS bytes')).rows[0];
    const result = { ...info, seedSeconds, phases, sizeBytes: Number(size.bytes), seededAt: new Date().toISOString(), complete: true };
    await client.query(`COMMENT ON DATABASE ${database.name} IS ${client.escapeLiteral(JSON.stringify(result))}`);
    log(`seeded in ${seedSeconds.toFixed(1)} s, ${(result.sizeBytes / 2 ** 30).toFixed(2)} GiB`);
    return { ...result, url: database.url, name: database.name, reused: false, drop: database.drop };
  } catch (error) {
    await client.end().catch(() => {});
    await database.drop().catch(() => {});
    throw error;
  } finally {
    await client.end().catch(() => {});
  }
}

async function seed_(client, url, sizes, phase, log) {
  const r = prng(sizes.seed);
  const n = sizes.images;
  if (n < sizes.albums || sizes.albums < sizes.organizations) throw new Error('need at least one image per album and one album per organization');

  // -------------------------------------------------------------- organizations, users, albums, tags
  const orgWeights = Array.from({ length: sizes.organizations }, (_, o) => 1 / (o + 1) ** 0.75);
  const weightSum = orgWeights.reduce((a, b) => a + b, 0);
  const share = (total) => {
    const parts = orgWeights.map((w) => Math.floor((total * w) / weightSum));
    parts[0] += total - parts.reduce((a, b) => a + b, 0);
    return parts;
  };
  const orgImages = share(n);
  const orgAlbums = share(sizes.albums);
  const cityOf = zipf(CITIES.length, 1);
  const siteOf = zipf(SITES_PER_ORGANIZATION, 1);
  const tagCount = weighted(TAG_COUNTS);
  const tagRank = zipf(TAGS_PER_ORGANIZATION, 1.1);
  const sizeOf = weighted(SIZES);
  const statusOf = weighted(STATUSES);
  const modelOf = weighted(MODELS.map((m, i) => [...m, MODELS.length - i]));
  const wordOf = zipf(WORDS.length, 0.9);

  const orgs = orgImages.map((count, o) => {
    const id = randomUUID();
    const users = Array.from({ length: USERS_PER_ORGANIZATION }, (_, u) => ({ id: randomUUID(), sfid: `005${hex(r, 15)}`, name: `User ${o + 1}.${u + 1}` }));
    // Its sites: a place in a city (cities drawn Zipf-like: Paris, then Lyon, …).
    const sites = Array.from({ length: SITES_PER_ORGANIZATION }, (_, j) => {
      const city = CITIES[cityOf(r)];
      return { name: `${PLACES[j % PLACES.length]} ${city[0]}${j >= PLACES.length ? ` ${Math.floor(j / PLACES.length) + 1}` : ''}`, city };
    });
    const pool = [...TAG_POOL];
    for (let i = pool.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    const tags = pool.slice(0, TAGS_PER_ORGANIZATION).map((name) => ({ id: randomUUID(), name }));
    return { index: o, id, name: `Organization ${o + 1}`, images: count, albums: orgAlbums[o], users, sites, tags, liveImages: 0, tagImages: new Int32Array(tags.length), siteImages: new Int32Array(sites.length) };
  });
  if (TAG_POOL.length < TAGS_PER_ORGANIZATION) throw new Error('tag pool too small');

  /** Every album: organization, id, size (Zipf-like in its organization), period, site, centre. */
  const albumList = [];
  for (const org of orgs) {
    const weights = Array.from({ length: org.albums }, (_, a) => 1 / (a + 1));
    const total = weights.reduce((x, y) => x + y, 0);
    const counts = weights.map((w) => Math.max(1, Math.floor((org.images * w) / total)));
    let rest = org.images - counts.reduce((x, y) => x + y, 0);
    for (let a = counts.length - 1; rest !== 0; a = (a - 1 + counts.length) % counts.length) {
      if (rest > 0) (counts[a]++, rest--);
      else if (counts[a] > 1) (counts[a]--, rest++);
    }
    // Sizes in a random order of creation (the largest album is not always the oldest).
    for (let i = counts.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [counts[i], counts[j]] = [counts[j], counts[i]];
    }
    counts.forEach((size, a) => {
      const site = siteOf(r);
      const days = 7 + 30 * Math.log2(1 + size / 10);
      const start = T0 + r() * (T1 - T0 - 2 * DAY);
      const city = org.sites[site].city;
      albumList.push({
        org,
        id: `a0A${org.index}${pad(a, 5)}${hex(r, 9).toUpperCase()}`,
        size,
        start,
        end: Math.min(T1 - 60_000, start + days * DAY),
        site,
        ref: 1000 + Math.floor(r() * 9000),
        lat: city[1] + (r() - 0.5) * 0.16,
        lon: city[2] + (r() - 0.5) * 0.24,
        live: 0,
      });
    });
  }

  // -------------------------------------------------------------- images in creation order
  const albumOf = new Uint32Array(n);
  const createdAt = new Float64Array(n);
  {
    let i = 0;
    albumList.forEach((album, a) => {
      for (let k = 0; k < album.size; k++, i++) {
        albumOf[i] = a;
        createdAt[i] = Math.floor(album.start + r() * (album.end - album.start));
      }
    });
    if (i !== n) throw new Error(`${i} images placed, ${n} wanted`);
  }
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((x, y) => createdAt[x] - createdAt[y] || x - y);

  // Kept for tag_images: per image (in order) its id, user, tags.
  const ids = new Array(n);
  const userOf = new Uint8Array(n);
  const tagsOf = new Uint8Array(n * 5);
  const tagsCount = new Uint8Array(n);
  const liveOf = new Uint8Array(n);

  const target = orgs[0];
  const boxCity = CITIES[1];
  const box = { city: boxCity[0], south: +(boxCity[1] - 0.12).toFixed(2), west: +(boxCity[2] - 0.16).toFixed(2), north: +(boxCity[1] + 0.12).toFixed(2), east: +(boxCity[2] + 0.16).toFixed(2) };
  const stats = { boxImages: 0, gps: 0, takenAt: 0, titled: 0, described: 0, trashed: 0, metadatas: 0, tagLinks: 0 };

  const imageColumns = [
    'id', 'organization_id', 'album_id', 'user_id', 'upload_key', 'cloudinary_public_id', 'cloudinary_version', 'cloudinary_type',
    'infos', 'exifs', 'metadatas', 'gps', 'gps_exifs', 'taken_at', 'width', 'height', 'original_width', 'original_height',
    'filename', 'format', 'title', 'description', 'color', 'processed', 'reported_at', 'seq', 'created_at', 'updated_at', 'deleted_at',
  ];
  const words = (count) => Array.from({ length: count }, () => WORDS[wordOf(r)]);
  const sentence = (count) => Array.from({ length: count }, () => (r() < 0.3 ? FILLER[Math.floor(r() * FILLER.length)] : WORDS[wordOf(r)])).join(' ');

  function* imageRows() {
    let chunk = '';
    for (let k = 0; k < n; k++) {
      const i = order[k];
      const album = albumList[albumOf[i]];
      const org = album.org;
      const created = createdAt[i];
      const id = randomUUID();
      ids[k] = id;
      const user = Math.floor(r() * USERS_PER_ORGANIZATION);
      userOf[k] = user;
      const format = r() < 0.7 ? 'jpg' : r() < 0.667 ? 'heic' : 'png';
      const [width, height] = format === 'png' && r() < 0.5 ? (r() < 0.5 ? [1170, 2532] : [1920, 1080]) : sizeOf(r);
      const taken = r() < 0.7 ? created - Math.floor(r() * r() * 3 * DAY) : null;
      const stamp = taken ?? created;
      const ext = format === 'jpg' ? (r() < 0.5 ? 'JPG' : 'jpg') : format === 'heic' ? 'HEIC' : 'png';
      const style = r();
      let filename;
      if (style < 0.3) {
        const w = words(1 + Math.floor(r() * 3));
        const sep = r() < 0.6 ? ' ' : r() < 0.5 ? '_' : '-';
        filename = `${w.join(sep)}${r() < 0.4 ? `${sep}${1 + Math.floor(r() * 12)}` : ''}.${ext.toLowerCase()}`;
      } else if (format === 'png' && style < 0.6) filename = `Capture d’écran ${new Date(stamp).toISOString().slice(0, 10)} à ${new Date(stamp).toISOString().slice(11, 19).replace(/:/g, '.')}.png`;
      else if (style < 0.65) filename = `PXL_${compact(stamp)}${pad(Math.floor(r() * 1000), 3)}.${ext.toLowerCase()}`;
      else if (style < 0.75) filename = `IMG_${compact(stamp)}.${ext}`;
      else if (style < 0.85) filename = `DSC_${pad(Math.floor(r() * 10000), 4)}.${ext}`;
      else filename = `IMG_${pad(Math.floor(r() * 10000), 4)}.${ext}`;
      const hasGps = r() < 0.4;
      const lat = hasGps ? +(album.lat + (r() - 0.5) * 0.006).toFixed(6) : null;
      const lon = hasGps ? +(album.lon + (r() - 0.5) * 0.006).toFixed(6) : null;
      const gps = hasGps ? `[${lat},${lon}]` : null;
      const title = r() < 0.2 ? (() => { const t = sentence(2 + Math.floor(r() * 5)); return t[0].toUpperCase() + t.slice(1); })() : null;
      const description = r() < 0.15 ? `${sentence(6 + Math.floor(r() * 10))}.` : null;
      let metadatas = '{}';
      if (r() < 0.6) {
        const lot = r() < 0.15 ? `,"lot":"${'ABCDEFGH'[Math.floor(r() * 8)]}"` : '';
        metadatas = `{"site":${JSON.stringify(org.sites[album.site].name)},"ref":${album.ref},"status":"${statusOf(r)[0]}"${lot}}`;
      }
      const model = taken !== null ? modelOf(r) : null;
      const exifs = model ? `{"DateTimeOriginal":"${exifTime(taken)}","Make":"${model[0]}","Model":"${model[1]}","Orientation":1}` : '{}';
      const trashed = r() < 0.05;
      const deleted = trashed ? Math.min(T1, created + Math.floor(r() * 60 * DAY)) : null;
      const publicId = `ak/${album.id}/${k.toString(36)}${hex(r, 12)}`;
      const version = String(1_700_000_000 + Math.floor((created - T0) / 1000));
      const bytes = Math.floor(((width * height) / 12_000_000) * (800_000 + r() * 3_000_000));
      const infos = `{"public_id":"${publicId}","version":${version},"signature":"${hex(r, 40)}","width":${width},"height":${height},"format":"${format}","resource_type":"image","created_at":"${new Date(created).toISOString()}","tags":["${album.id}"],"bytes":${bytes},"type":"authenticated","etag":"${hex(r, 32)}","placeholder":false,"original_filename":${JSON.stringify(filename.replace(/\.[^.]+$/, ''))}}`;
      const createdIso = new Date(created).toISOString();

      // Tags: 0 to 5 distinct, Zipf-like over the organization's tags.
      const count = tagCount(r)[0];
      let got = 0;
      for (let tries = 0; got < count && tries < 20; tries++) {
        const t = tagRank(r);
        let seen = false;
        for (let j = 0; j < got; j++) if (tagsOf[k * 5 + j] === t) seen = true;
        if (!seen) tagsOf[k * 5 + got++] = t;
      }
      tagsCount[k] = got;
      stats.tagLinks += got;
      if (!trashed) {
        liveOf[k] = 1;
        album.live++;
        org.liveImages++;
        org.siteImages[album.site] += metadatas === '{}' ? 0 : 1;
        for (let j = 0; j < got; j++) org.tagImages[tagsOf[k * 5 + j]]++;
        if (org === target && hasGps && lat >= box.south && lat <= box.north && lon >= box.west && lon <= box.east) stats.boxImages++;
      }
      stats.gps += hasGps;
      stats.takenAt += taken !== null;
      stats.titled += title !== null;
      stats.described += description !== null;
      stats.trashed += trashed;
      stats.metadatas += metadatas !== '{}';

      chunk += line([
        id, org.id, album.id, org.users[user].id, `${publicId}@${version}`, publicId, version, 'authenticated',
        infos, exifs, metadatas, gps, taken !== null ? gps : null, taken === null ? null : new Date(taken).toISOString(), width, height, width, height,
        filename, format, title, description, `#${hex(r, 6).toUpperCase()}`, r() < 0.995 ? 't' : 'f', createdIso, k + 1, createdIso,
        deleted === null ? createdIso : new Date(deleted).toISOString(), deleted === null ? null : new Date(deleted).toISOString(),
      ]);
      if ((k & 1023) === 1023) {
        yield chunk;
        chunk = '';
      }
      if (k % 200_000 === 199_999) log(`  ${k + 1} images`);
    }
    if (chunk) yield chunk;
  }

  function* tagImageRows() {
    let chunk = '';
    for (let k = 0; k < n; k++) {
      const count = tagsCount[k];
      if (count === 0) continue;
      const i = order[k];
      const org = albumList[albumOf[i]].org;
      const at = new Date(createdAt[i] + 30_000).toISOString();
      for (let j = 0; j < count; j++) chunk += line([randomUUID(), org.id, org.tags[tagsOf[k * 5 + j]].id, ids[k], org.users[userOf[k]].id, at]);
      if ((k & 1023) === 1023) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk) yield chunk;
  }

  const copy = (table, columns, rows, freeze = false) =>
    pipeline(Readable.from(rows), client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN${freeze ? ' WITH (FREEZE)' : ''}`)));

  // -------------------------------------------------------------- load
  await phase('small tables (organizations, users, albums, tags)', async () => {
    await copy('organizations', ['id', 'name', 'created_at', 'updated_at'], (function* () {
      for (const org of orgs) yield line([org.id, org.name, PERIOD.from, PERIOD.from]);
    })());
    await copy('users', ['id', 'organization_id', 'sfid', 'email', 'name', 'created_at'], (function* () {
      for (const org of orgs) for (const [u, user] of org.users.entries()) yield line([user.id, org.id, user.sfid, `user${org.index + 1}.${u + 1}@example.com`, user.name, PERIOD.from]);
    })());
    await copy('albums', ['organization_id', 'id', 'images_count', 'views_count', 'created_at', 'updated_at'], (function* () {
      for (const album of albumList) {
        const at = new Date(album.start).toISOString();
        yield line([album.org.id, album.id, 0, Math.floor(r() * 500), at, at]);
      }
    })());
    await copy('tags', ['id', 'organization_id', 'name', 'labels', 'public', 'listed', 'visible', 'allow_download', 'color', 'created_at', 'updated_at'], (function* () {
      for (const org of orgs) for (const tag of org.tags) yield line([tag.id, org.id, tag.name, JSON.stringify({ en: tag.name, fr: tag.name }), 'f', 't', 'f', 'f', '#9E9E9E', PERIOD.from, PERIOD.from]);
    })());
  });

  // Keys and indexes of the two large tables, as the migrations made them.
  const { rows: constraints } = await client.query(`
    SELECT DISTINCT c.conrelid::regclass::text AS tbl, c.conname AS name, c.contype AS type, pg_get_constraintdef(c.oid) AS def
    FROM pg_constraint c
    WHERE c.contype IN ('p', 'u', 'f') AND (c.conrelid IN ('images'::regclass, 'tag_images'::regclass) OR c.confrelid IN ('images'::regclass, 'tag_images'::regclass))`);
  const { rows: indexes } = await client.query(`
    SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def, pg_relation_size(i.indrelid) AS size
    FROM pg_index i
    WHERE i.indrelid IN ('images'::regclass, 'tag_images'::regclass)
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u'))`);
  const foreign = constraints.filter((c) => c.type === 'f');
  const keys = constraints.filter((c) => c.type !== 'f');

  await phase('images and tag_images (COPY)', async () => {
    for (const c of foreign) await client.query(`ALTER TABLE ${c.tbl} DROP CONSTRAINT ${c.name}`);
    for (const c of keys) await client.query(`ALTER TABLE ${c.tbl} DROP CONSTRAINT ${c.name}`);
    for (const index of indexes) await client.query(`DROP INDEX ${index.name}`);
    await client.query('BEGIN');
    await client.query('TRUNCATE images, tag_images');
    await copy('images', imageColumns, imageRows(), true);
    log(`  images copied, ${stats.tagLinks} tag links next`);
    await copy('tag_images', ['id', 'organization_id', 'tag_id', 'image_id', 'user_id', 'created_at'], tagImageRows(), true);
    await client.query('COMMIT');
    await client.query(`SELECT setval('images_seq_seq', $1)`, [n]);
  });

  await phase('album_image_counts', () =>
    copy('album_image_counts', ['organization_id', 'album_id', 'shard', 'count'], (function* () {
      for (const album of albumList) if (album.live > 0) yield line([album.org.id, album.id, 0, album.live]);
    })()),
  );

  await phase('keys and indexes', async () => {
    const statements = [
      ...keys.map((c) => `ALTER TABLE ${c.tbl} ADD CONSTRAINT ${c.name} ${c.def}`),
      ...indexes.map((index) => index.def),
    ];
    // Two connections (two cores); the GIN indexes, the slowest, first.
    statements.sort((a, b) => Number(/USING gin/.test(b)) - Number(/USING gin/.test(a)));
    const workers = await Promise.all([0, 1].map(async () => {
      const worker = new pg.Client({ connectionString: url });
      await worker.connect();
      await worker.query(`SET maintenance_work_mem = '1GB'; SET max_parallel_maintenance_workers = 0`);
      return worker;
    }));
    let next = 0;
    await Promise.all(workers.map(async (worker) => {
      while (next < statements.length) {
        const statement = statements[next++];
        const t = performance.now();
        await worker.query(statement);
        log(`  ${((performance.now() - t) / 1000).toFixed(1)} s  ${statement.slice(0, 110)}`);
      }
    }));
    for (const c of foreign) await workers[0].query(`ALTER TABLE ${c.tbl} ADD CONSTRAINT ${c.name} ${c.def}`);
    await Promise.all(workers.map((w) => w.end()));
  });

  await phase('ANALYZE', () => client.query('ANALYZE'));

  // -------------------------------------------------------------- checks
  const { rows: [check] } = await client.query(`
    SELECT (SELECT count(*) FROM images)::int AS images, (SELECT count(*) FROM images WHERE deleted_at IS NULL)::int AS live,
           (SELECT count(*) FROM tag_images)::int AS tag_images, (SELECT count(*) FROM albums)::int AS albums, (SELECT count(*) FROM tags)::int AS tags,
           (SELECT count(*) FROM (
              SELECT a.organization_id, a.id FROM albums a
              LEFT JOIN (SELECT organization_id, album_id, count(*) AS n FROM images WHERE deleted_at IS NULL GROUP BY 1, 2) l ON l.organization_id = a.organization_id AND l.album_id = a.id
              LEFT JOIN (SELECT organization_id, album_id, sum(count) AS n FROM album_image_counts GROUP BY 1, 2) c ON c.organization_id = a.organization_id AND c.album_id = a.id
              WHERE a.images_count + coalesce(c.n, 0) <> coalesce(l.n, 0)) x)::int AS miscounted_albums`);
  if (check.images !== n || check.miscounted_albums !== 0 || check.tag_images !== stats.tagLinks) throw new Error(`dataset check failed: ${JSON.stringify(check)}`);

  // -------------------------------------------------------------- samples (largest organization)
  const rank = (counts) => [...counts].map((images, index) => ({ index, images })).sort((a, b) => b.images - a.images || a.index - b.index);
  const tagRanks = rank(target.tagImages).filter((t) => t.images > 0);
  const siteRanks = rank(target.siteImages);
  const site = siteRanks.reduce((best, s) => (Math.abs(s.images - target.liveImages / 100) < Math.abs(best.images - target.liveImages / 100) ? s : best));
  const albumSizes = albumList.map((a) => a.size).sort((a, b) => b - a);
  return {
    sizes: { images: n, albums: sizes.albums, organizations: sizes.organizations },
    counts: {
      images: check.images,
      liveImages: check.live,
      trashed: stats.trashed,
      tagImages: check.tag_images,
      tags: check.tags,
      albums: check.albums,
      users: orgs.length * USERS_PER_ORGANIZATION,
      withGps: stats.gps,
      withTakenAt: stats.takenAt,
      withTitle: stats.titled,
      withDescription: stats.described,
      withMetadatas: stats.metadatas,
      largestAlbums: albumSizes.slice(0, 5),
      medianAlbum: albumSizes[Math.floor(albumSizes.length / 2)],
      smallestAlbum: albumSizes.at(-1),
    },
    organizations: orgs.map((o) => ({ id: o.id, name: o.name, images: o.images, liveImages: o.liveImages, albums: o.albums, userIds: o.users.map((u) => u.id) })),
    samples: {
      organizationId: target.id,
      userId: target.users[0].id,
      liveImages: target.liveImages,
      tags: {
        popular: { name: target.tags[tagRanks[0].index].name, images: tagRanks[0].images },
        rare: { name: target.tags[tagRanks.at(-1).index].name, images: tagRanks.at(-1).images },
      },
      metadata: { key: 'site', value: target.sites[site.index].name, images: site.images },
      ...FIXED_SAMPLES,
      gpsBox: { ...box, images: stats.boxImages },
    },
  };
}

// `node bench/dataset.mjs [images] [albums] [organizations]`: seeds, prints what it made, drops it (unless BENCH_DATASET_KEEP=1).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [images, albums, organizations] = process.argv.slice(2).map(Number);
  const dataset = await createDataset({ ...(images && { images }), ...(albums && { albums }), ...(organizations && { organizations }) });
  if (dataset) {
    const { drop, ...shown } = dataset;
    console.log(JSON.stringify({ ...shown, organizations: shown.organizations.map(({ userIds, ...o }) => o) }, null, 2));
    await drop();
  }
}
