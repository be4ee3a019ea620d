// Image JSON: albumkit's ImageSerializer against the same serializer built on the cloudinary SDK
// (`cloudinary.v2.url` with `raw_transformation`, analytics off: the same URLs), over 100 image
// rows shaped like the seed responses (seed 002/004: `infos` of an upload with browser location,
// processed or not, some with a crop and rotation). Both outputs are checked equal first.
// Measured: serialize() per image, and a 100-image album = serialize 100 rows + JSON.stringify.
// Variants alternate in rounds (ABBA) in the same process.
//
//   (cd packages/core && npx tsup) && node bench/serializer.bench.mjs
//
// Writes bench/results/serializer.md.
import { createHash, randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { mkdirSync, writeFileSync } from 'node:fs';
import cloudinary from 'cloudinary';
import { DeliveryUrlSigner, ImageSerializer, ProxyUrlSigner, RENDITIONS, formatTime } from '@albumkit/core';
import { machineLine, table } from './machine.mjs';

const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 500);
const ROUNDS = 4;
const cloudName = 'sadaasdasd';
const apiSecret = 'bench-cloudinary-api-secret';
const proxyUrl = 'https://sharinpix-proxy-dev.herokuapp.com';
const proxyKey = 'bench-proxy-key-0123456789';
const placeholder = '/assets/blank.jpg#';

const albumkitSerializer = new ImageSerializer(
  new DeliveryUrlSigner({ cloudName, apiSecret, deliveryPrefix: 'https://res.cloudinary.com' }),
  new ProxyUrlSigner(proxyUrl, 'localhost', proxyKey),
  placeholder,
);

// ---------------------------------------------------------------- the SDK-based equivalent
cloudinary.v2.config({ cloud_name: cloudName, api_key: '123123123123', api_secret: apiSecret, secure: true });
const proxy = new ProxyUrlSigner(proxyUrl, 'localhost', proxyKey);

class SdkImageSerializer {
  serialize(image) {
    const edit = editPrefix(image);
    const pending = image.processed ? '' : placeholder;
    const sign = (raw) =>
      cloudinary.v2.url(image.cloudinary_public_id, {
        type: image.cloudinary_type,
        sign_url: true,
        version: image.cloudinary_version,
        format: 'jpg',
        raw_transformation: raw,
        urlAnalytics: false,
      });
    // Proxy file names as core names renditions: 11 hex digits of the rendition's signature
    // (the 8 base64url characters of `s--…--` in its signed URL).
    const proxied = (kind, url) => {
      const at = url.indexOf('/s--') + 4;
      const name = Buffer.from(url.slice(at, at + 8), 'base64url').toString('hex').slice(0, 11);
      return proxy.url(image.filename ?? 'image', image.format ?? 'jpg', `/images/${image.id}/thumbnails/${kind}-${name}.jpg`);
    };
    const full = sign(edit + RENDITIONS.full);
    const large = sign(edit + RENDITIONS.large);
    const mini = sign(edit + RENDITIONS.mini);
    const thumbnails = {
      original: pending + sign(edit + RENDITIONS.original),
      full_no_sharinpix: pending + full,
      full: pending + full,
      large: pending + large,
      mini: pending + mini,
    };
    const infos = image.infos;
    return {
      id: image.id,
      public_id: image.id,
      infos: image.infos,
      exifs: image.exifs,
      gps: image.gps,
      gps_ip: image.gps_ip,
      gps_exifs: image.gps_exifs,
      gps_html: image.gps_html,
      created_at: formatTime(image.created_at),
      updated_at: formatTime(image.updated_at),
      taken_at: image.taken_at ? formatTime(image.taken_at) : null,
      width: image.width,
      height: image.height,
      rotation: image.rotation,
      crop_x: image.crop_x,
      crop_y: image.crop_y,
      crop_w: image.crop_w,
      crop_h: image.crop_h,
      metadatas: image.metadatas,
      original_url: sign(RENDITIONS.download),
      original_width: image.original_width,
      original_height: image.original_height,
      external_urls: {
        fill100: pending + sign(edit + RENDITIONS.fit300),
        fit2000: pending + sign(edit + RENDITIONS.fit2000),
        mini: proxied('mini', mini),
        large: proxied('thumbnail', large),
        full: proxied('full', full),
      },
      filename: image.filename,
      format: image.format,
      title: image.title,
      description: image.description,
      page: image.page,
      group_id: image.group_id,
      color: image.color,
      size: infos && typeof infos === 'object' && 'bytes' in infos ? infos.bytes : null,
      processed: image.processed,
      processing_error: image.processing_error,
      album_id: image.album_id,
      thumbnails,
    };
  }
}

function editPrefix(image) {
  let prefix = '';
  if (image.crop_w > 0 && image.crop_h > 0) prefix += `c_crop,h_${image.crop_h},w_${image.crop_w},x_${image.crop_x},y_${image.crop_y}/`;
  if (image.rotation) prefix += `a_${image.rotation}/`;
  return prefix;
}

// ---------------------------------------------------------------- rows (as the repository returns them)
const albumId = '00100000123BB124';
const rows = Array.from({ length: 100 }, (_, i) => {
  const publicId = createHash('sha1').update(`p${i}`).digest('hex').slice(0, 20);
  const created = new Date(Date.UTC(2019, 3, 8, 17, 38, 52, 108) + i * 1000);
  const edited = i % 4 === 3;
  const processed = i % 2 === 0;
  const gps = [48.861934399999996 + i / 1e4, 2.348967];
  return {
    id: randomUUID(),
    organization_id: randomUUID(),
    album_id: albumId,
    user_id: randomUUID(),
    upload_key: `${publicId}@1484586860`,
    cloudinary_public_id: publicId,
    cloudinary_version: '1484586860',
    cloudinary_type: 'authenticated',
    infos: {
      public_id: publicId,
      version: 1484586860,
      bytes: 3604 + i,
      created_at: '2015-09-25T13:32:55Z',
      etag: '5a98d4d3e5d39024abf237be55e99b15',
      format: 'png',
      height: 48,
      resource_type: 'image',
      tags: [albumId],
      type: 'authenticated',
      width: 48,
      original_filename: 'Super Image',
      location: { accuracy: 36, latitude: gps[0], longitude: gps[1] },
    },
    exifs: processed ? { DateTimeOriginal: '2018:01:01 08:00:00', Make: 'Canon', Model: 'EOS 80D', Orientation: 1 } : {},
    metadatas: i % 3 === 0 ? { meta: 'data' } : {},
    gps,
    gps_ip: null,
    gps_exifs: null,
    gps_html: gps,
    taken_at: processed ? new Date(Date.UTC(2018, 0, 1, 8)) : null,
    width: 48,
    height: 48,
    rotation: edited ? 90 : 0,
    crop_x: edited ? 4 : 0,
    crop_y: edited ? 2 : 0,
    crop_w: edited ? 40 : 0,
    crop_h: edited ? 30 : 0,
    original_width: 48,
    original_height: 48,
    filename: 'Super Image',
    format: 'png',
    title: null,
    description: null,
    page: 1,
    group_id: null,
    color: '#7D7D7D',
    processed,
    processing_error: null,
    reported_at: null,
    created_at: created,
    updated_at: created,
  };
});

const variants = { albumkit: albumkitSerializer, 'same serializer on cloudinary.v2.url': new SdkImageSerializer() };
const names = Object.keys(variants);

// Same output?
let same = 0;
for (const row of rows) {
  const a = variants[names[0]].serialize(row);
  const b = variants[names[1]].serialize(row);
  if (isDeepStrictEqual(a, b) && JSON.stringify(a) === JSON.stringify(b)) same++;
}
/** The JSON with the proxy URLs' rendition file names (and the `s` over them) blanked. */
const withoutProxyNames = (json) =>
  JSON.stringify(json).replace(/\?s=[0-9a-f]{7}&url=([^"]*?\/thumbnails\/[a-z]+)-[0-9a-f]+\.jpg/g, '?s=&url=$1-.jpg');
let sameButNames = 0;
for (const row of rows) if (withoutProxyNames(variants[names[0]].serialize(row)) === withoutProxyNames(variants[names[1]].serialize(row))) sameButNames++;
const differing = new Set();
for (const row of rows) {
  const a = variants[names[0]].serialize(row);
  const b = variants[names[1]].serialize(row);
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) differing.add(key);
}
const urlCount = JSON.stringify(albumkitSerializer.serialize(rows[0])).match(/https:\/\//g).length;

// ---------------------------------------------------------------- timing
let sink = 0;
const work = {
  image: (s) => {
    for (const row of rows) sink += s.serialize(row).id.length;
    return rows.length; // images
  },
  album: (s) => {
    const out = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = s.serialize(rows[i]);
    sink += JSON.stringify(out).length;
    return 1; // albums
  },
};
function runFor(kind, serializer, ms) {
  let units = 0;
  const started = performance.now();
  let elapsed = 0;
  do {
    units += work[kind](serializer);
    elapsed = performance.now() - started;
  } while (elapsed < ms);
  return { units, ms: elapsed };
}
const results = {};
for (const kind of Object.keys(work)) {
  for (const name of names) runFor(kind, variants[name], 300); // warm-up
  const totals = Object.fromEntries(names.map((n) => [n, { units: 0, ms: 0 }]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of round % 2 ? [...names].reverse() : names) {
      const r = runFor(kind, variants[name], ROUND_MS);
      totals[name].units += r.units;
      totals[name].ms += r.ms;
    }
  }
  results[kind] = Object.fromEntries(names.map((n) => [n, totals[n].ms / totals[n].units]));
}

const bytes = JSON.stringify(rows.map((r) => albumkitSerializer.serialize(r))).length;
const us = (name) => results.image[name] * 1000;
const albumMs = (name) => results.album[name];
const tableRows = names.map((name) => [name, us(name).toFixed(1), albumMs(name).toFixed(2), name === names[0] ? '1×' : `${(albumMs(name) / albumMs(names[0])).toFixed(1)}× slower`]);
const report = `## Image JSON (serializer)

${machineLine()}. 100 image rows shaped like the seed responses (half processed, a quarter with a crop and
rotation); each image JSON holds ${urlCount} URLs (7 distinct signed Cloudinary URLs, \`full\` twice, 3 signed proxy URLs).
Both serializers gave identical JSON for ${same} of ${rows.length} rows${differing.size ? ` (keys that differ: ${[...differing].join(', ')}; identical apart from the proxy URLs' rendition file names for ${sameButNames} rows: core's naming of renditions changed, update the bench's copy)` : ''}. Warm-up 0.3 s, then ${ROUNDS} interleaved rounds of ${ROUND_MS} ms per variant.
"100-image album" = serialize 100 rows + \`JSON.stringify\` of the array (${Math.round(bytes / 1024)} KB).

${table(['variant', 'µs / image (serialize)', 'ms / 100-image album (serialize + stringify)', 'album, relative'], tableRows)}

Targets: ≤ 25 µs per image — ${us(names[0]) <= 25 ? 'met' : 'missed'} (${us(names[0]).toFixed(1)} µs); 100-image album ≤ 3 ms — ${albumMs(names[0]) <= 3 ? 'met' : 'missed'} (${albumMs(names[0]).toFixed(2)} ms).
`;
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/serializer.md', import.meta.url), report);
console.log(report);
if (sink === 42) console.log('');
process.exit(0);
