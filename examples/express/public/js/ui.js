// Small DOM and formatting helpers.

export const $ = (selector) => document.querySelector(selector);

/** `el('a', { href }, 'text', child)`: an element with attributes and children (strings are text). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value === true ? '' : String(value));
  }
  node.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

/** A random UUID; `crypto.randomUUID` exists only on secure pages (not on http://192.168.…). */
export function uuid() {
  if (globalThis.crypto.randomUUID) return globalThis.crypto.randomUUID();
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// Dates taken come from EXIF wall-clock times: shown as written, not shifted to this browser's zone.
const takenFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });

export function describeTakenAt(value) {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : takenFormat.format(date);
}

/** `[lat, lng]` (or `{lat, lng}`) as `50.2996° N, 14.8203° E`. */
export function latLng(gps) {
  if (!gps) return null;
  const [lat, lng] = Array.isArray(gps) ? gps : [gps.lat ?? gps.latitude, gps.lng ?? gps.lon ?? gps.longitude];
  if (typeof lat !== 'number' || typeof lng !== 'number' || !Number.isFinite(lat) || !Number.isFinite(lng)) return null;
  return [lat, lng];
}

export function describeGps(gps) {
  const point = latLng(gps);
  if (!point) return null;
  const [lat, lng] = point;
  return `${Math.abs(lat).toFixed(4)}° ${lat >= 0 ? 'N' : 'S'}, ${Math.abs(lng).toFixed(4)}° ${lng >= 0 ? 'E' : 'W'}`;
}

export function mapUrl(gps) {
  const [lat, lng] = latLng(gps).map((n) => n.toFixed(5));
  return `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lng}#map=14/${lat}/${lng}`;
}

export function describeBytes(bytes) {
  if (typeof bytes !== 'number') return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * Keeps `grid`'s children in the order of `items` (each with an `id`), re-rendering an item only
 * when `keyOf(item)` changed; `cards` (id → `{ node, key }`) carries the nodes between calls.
 * Answers the ids shown.
 */
export function syncGrid(grid, items, cards, { keyOf, render }) {
  const seen = new Set();
  items.forEach((item, index) => {
    seen.add(item.id);
    const key = keyOf(item);
    let entry = cards.get(item.id);
    if (!entry || entry.key !== key) {
      const node = render(item);
      if (entry) entry.node.replaceWith(node);
      entry = { node, key };
      cards.set(item.id, entry);
    }
    if (grid.children[index] !== entry.node) grid.insertBefore(entry.node, grid.children[index] ?? null);
  });
  for (const [id, entry] of cards) {
    if (!seen.has(id)) {
      entry.node.remove();
      cards.delete(id);
    }
  }
  return seen;
}
