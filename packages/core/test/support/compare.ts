/**
 * Compares a response with a recorded one: same keys in the same order, same JSON types, and
 * the same values once what depends on ids, clocks or secrets is masked.
 */

export type Shape = string | Shape[] | { [key: string]: Shape };

/** Keys (in order) and JSON types, recursively. */
export function shapeOf(value: unknown): unknown {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.map(shapeOf);
  if (typeof value === 'object') return Object.entries(value as object).map(([k, v]) => [k, shapeOf(v)]);
  return typeof value;
}

const MASKS: Array<[RegExp, string]> = [
  [/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>'],
  [/s--[A-Za-z0-9_-]{8}--/g, 's--SIG--'],
  [/([?&])s=[0-9a-f]{7}/g, '$1s=SIG'],
  [/-[0-9a-f]{11}\.jpg/g, '-HASH.jpg'],
  [/token=[\w-]+\.[\w-]+\.[\w-]+/g, 'token=<jwt>'],
];

/** Paths (dot-joined, array indices as `*`) whose values depend on clocks or secrets. */
const VOLATILE = new Set([
  'created_at',
  'updated_at',
  '*.created_at',
  '*.updated_at',
  'upload_form.expires_at',
  'upload_form.params.timestamp',
  'upload_form.params.signature',
  'infos.signature',
]);

export function mask(value: unknown, path = ''): unknown {
  if (VOLATILE.has(path)) return `<volatile ${typeof value}>`;
  if (typeof value === 'string') return MASKS.reduce((s, [re, to]) => s.replace(re, to), value);
  if (Array.isArray(value)) return value.map((v) => mask(v, path ? `${path}.*` : '*'));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mask(v, path ? `${path}.${k}` : k)]));
  }
  return value;
}
