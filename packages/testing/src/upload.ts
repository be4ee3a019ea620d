import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { computeColors, computePhash, inspectImage, type ImageFacts } from './analysis.js';
import { verifySignedRequest, type ApiCredentials } from './auth.js';
import { readImageMetadata } from './exif.js';
import { readForm, type Fields } from './form.js';
import { HttpError, echo, sendJson } from './http.js';
import type { Notifier } from './notifications.js';
import { deliverySignature, uploadResultSignature } from './signatures.js';
import { isDeliveryType, type AssetRecord, type AssetStore, type DeliveryType } from './storage.js';

export interface ApiContext {
  credentials: ApiCredentials;
  /** `http://host:port`, the base of the URLs in upload results. */
  baseUrl: string;
  store: AssetStore;
  notifier: Notifier;
}

const MAX_PUBLIC_ID_LENGTH = 255;
const MAX_TAGS = 100;

/** `POST /v1_1/:cloud/:resource_type/upload`: signed upload of one image. */
export async function handleUpload(req: IncomingMessage, res: ServerResponse, context: ApiContext, cloud: string, resourceType: string): Promise<void> {
  const { fields, file } = await readForm(req);
  verifySignedRequest(cloud, fields, context.credentials);
  if (resourceType !== 'image' && resourceType !== 'auto') {
    throw new HttpError(400, `Unsupported resource type ${echo(resourceType)} (the local server stores images)`);
  }
  if (!file) throw new HttpError(400, 'Missing required parameter - file');

  const type = deliveryType(fields);
  const publicId = choosePublicId(fields, file.filename);
  const notificationUrl = optionalUrl(fields, 'notification_url');
  const tags = readTags(fields);
  const facts = await inspectImage(file.data);

  const version = Math.floor(Date.now() / 1000);
  const etag = createHash('md5').update(file.data).digest('hex');
  const record: AssetRecord = {
    public_id: publicId,
    type,
    format: facts.format,
    version,
    asset_id: randomHex(16),
    version_id: randomHex(16),
    width: facts.width,
    height: facts.height,
    bytes: file.data.length,
    etag,
    created_at: new Date(version * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    tags,
    original_filename: originalFilename(file.filename),
    decodable: facts.decodable,
  };
  const extras = await analyse(fields, file.data, facts);
  await context.store.save(record, file.data);

  const url = assetUrl(context, record);
  const result = {
    asset_id: record.asset_id,
    public_id: record.public_id,
    version: record.version,
    version_id: record.version_id,
    signature: uploadResultSignature(record.public_id, record.version, context.credentials.apiSecret),
    width: record.width,
    height: record.height,
    format: record.format,
    resource_type: 'image',
    created_at: record.created_at,
    tags: record.tags,
    bytes: record.bytes,
    type: record.type,
    etag: record.etag,
    placeholder: false,
    url,
    // The local server speaks plain HTTP only.
    secure_url: url,
    original_filename: record.original_filename,
    ...extras,
  };
  sendJson(res, 200, result);
  if (notificationUrl) context.notifier.send(notificationUrl, JSON.stringify({ notification_type: 'upload', ...result }));
}

/** `<base>/<cloud>/image/<type>/[s--SIG--/]v<version>/<public_id>.<format>`, as Cloudinary writes it. */
export function assetUrl(context: ApiContext, record: AssetRecord): string {
  const file = `${record.public_id.split('/').map(encodeURIComponent).join('/')}.${record.format}`;
  const signature = record.type === 'upload' ? '' : `s--${deliverySignature(file, context.credentials.apiSecret)}--/`;
  return `${context.baseUrl}/${context.credentials.cloudName}/image/${record.type}/${signature}v${record.version}/${file}`;
}

function isSet(fields: Fields, name: string): boolean {
  const value = fields[name];
  return value === '1' || value === 'true';
}

function text(fields: Fields, name: string): string | undefined {
  const value = fields[name];
  if (Array.isArray(value)) throw new HttpError(400, `Parameter ${name} must be a single value`);
  return value === '' ? undefined : value;
}

function deliveryType(fields: Fields): DeliveryType {
  const type = text(fields, 'type') ?? 'upload';
  if (!isDeliveryType(type)) throw new HttpError(400, `Invalid type ${echo(type)} (upload, authenticated or private)`);
  return type;
}

const ID_SEGMENT = /^[A-Za-z0-9_\-. @]+$/;

function validPath(value: string): boolean {
  return value.split('/').every((segment) => ID_SEGMENT.test(segment) && segment !== '.' && segment !== '..');
}

/** `public_id` (with `folder` in front), or a random id like Cloudinary's. */
function choosePublicId(fields: Fields, filename: string | undefined): string {
  const folder = text(fields, 'folder')?.replace(/^\/+|\/+$/g, '');
  let id = text(fields, 'public_id');
  if (id === undefined && isSet(fields, 'use_filename') && filename) {
    const base = originalFilename(filename).replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 100) || 'file';
    id = fields.unique_filename === '0' || fields.unique_filename === 'false' ? base : `${base}_${randomId(6)}`;
  }
  id ??= randomId(20);
  const publicId = folder ? `${folder}/${id}` : id;
  if (publicId.length > MAX_PUBLIC_ID_LENGTH || !validPath(publicId)) {
    throw new HttpError(400, `Invalid public_id ${echo(publicId)} (letters, digits, _ - . @ space, folders separated by /)`);
  }
  return publicId;
}

function randomId(length: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let id = '';
  // 252 = 7 * 36: bytes above it would bias the choice, so they are redrawn.
  for (let i = 0; id.length < length; i++) {
    const byte = i < bytes.length ? bytes[i]! : randomBytes(1)[0]!;
    if (byte < 252) id += alphabet[byte % 36];
  }
  return id;
}

function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

function readTags(fields: Fields): string[] {
  const raw = fields.tags;
  const list = (Array.isArray(raw) ? raw : (raw ?? '').split(',')).map((tag) => tag.trim()).filter((tag) => tag !== '');
  if (list.length > MAX_TAGS || list.some((tag) => tag.length > 255)) throw new HttpError(400, `Too many or too long tags (at most ${MAX_TAGS})`);
  return [...new Set(list)];
}

function optionalUrl(fields: Fields, name: string): string | undefined {
  const value = text(fields, name);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new HttpError(400, `Invalid ${name} ${echo(value)}`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || value.length > 2048) {
    throw new HttpError(400, `Invalid ${name} ${echo(value)}`);
  }
  return value;
}

function originalFilename(filename: string | undefined): string {
  if (!filename) return 'file';
  const base = filename.split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return (dot > 0 ? base.slice(0, dot) : base).slice(0, 255) || 'file';
}

/** The optional analyses asked for with `image_metadata`, `colors`, `phash` and `faces`. */
async function analyse(fields: Fields, data: Buffer, facts: ImageFacts): Promise<Record<string, unknown>> {
  // Colours and phash from the pixels: an HEIC's were decoded while inspecting it.
  const pixels = facts.decoded ?? data;
  const [metadata, colors, phash] = await Promise.all([
    isSet(fields, 'image_metadata') ? readImageMetadata(data) : undefined,
    isSet(fields, 'colors') && facts.decodable ? computeColors(pixels).catch(() => undefined) : undefined,
    isSet(fields, 'phash') && facts.decodable ? computePhash(pixels).catch(() => undefined) : undefined,
  ]);
  const extras: Record<string, unknown> = {};
  if (metadata) extras.image_metadata = metadata;
  if (isSet(fields, 'colors')) {
    extras.colors = colors?.colors ?? [];
    extras.predominant = colors?.predominant ?? { google: [] };
  }
  if (phash) extras.phash = phash;
  // Face detection is out of scope locally: an empty list is a valid answer.
  if (isSet(fields, 'faces')) extras.faces = [];
  return extras;
}
