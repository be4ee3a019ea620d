import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { CORS_HEADERS, HttpError } from './http.js';
import { contentType, formatFromExtension, isOutputFormat, type ImageFormat, type OutputFormat } from './formats.js';
import { MAX_HEIC_PIXELS } from './heic.js';
import { renderImage } from './render.js';
import { deliverySignature, safeEqual } from './signatures.js';
import { isDeliveryType, writeAtomically, type AssetRecord, type AssetStore, type DeliveryType, type StoredAsset } from './storage.js';
import { looksLikeTransformation, parseTransformation, type Transformation } from './transformations.js';
import { parseRange } from './range.js';

export interface DeliveryContext {
  apiSecret: string;
  store: AssetStore;
}

/** A parsed `/<cloud>/image/<type>/[s--SIG--/][transformations/][v<version>/]<public_id>[.<ext>]`. */
interface DeliveryRequest {
  type: DeliveryType;
  signature: string | undefined;
  transformationPath: string[];
  /** `<transformations>/<public_id>.<ext>` as written in the URL: what the signature covers. */
  signedPath: string;
  publicId: string;
  extension: ImageFormat | undefined;
}

const notFound = () => new HttpError(404, 'Resource not found');

function assertType(type: string): DeliveryType {
  if (!isDeliveryType(type)) throw notFound();
  return type;
}

/** Splits a delivery path (still percent-encoded, without the query) into its parts. */
export function parseDeliveryPath(segments: readonly string[]): DeliveryRequest {
  // segments: [resource_type, type, ...rest]
  const [resourceType, rawType, ...rest] = segments;
  if (resourceType !== 'image' || rawType === undefined || rest.length === 0) throw notFound();
  const type = assertType(rawType);
  if (rest.some((segment) => segment === '' || segment === '.' || segment === '..')) throw notFound();

  let signature: string | undefined;
  const signatureMatch = /^s--([A-Za-z0-9_-]{8,32})--$/.exec(rest[0]!);
  if (signatureMatch) {
    signature = signatureMatch[1];
    rest.shift();
  }

  // The version segment, when present, ends the transformations; otherwise leading segments
  // that read as transformations are taken as such, the way Cloudinary disambiguates folders.
  const versionIndex = rest.findIndex((segment) => /^v\d{1,12}$/.test(segment));
  let transformationPath: string[];
  let idSegments: string[];
  if (versionIndex >= 0) {
    transformationPath = rest.slice(0, versionIndex);
    idSegments = rest.slice(versionIndex + 1);
  } else {
    let split = 0;
    while (split < rest.length - 1 && looksLikeTransformation(rest[split]!)) split++;
    transformationPath = rest.slice(0, split);
    idSegments = rest.slice(split);
  }
  if (idSegments.length === 0) throw notFound();

  const file = idSegments.join('/');
  const dot = file.lastIndexOf('.');
  // An unknown extension is part of the public id (`photo.v2`), as on Cloudinary.
  const extension = dot > file.lastIndexOf('/') + 1 ? formatFromExtension(file.slice(dot + 1)) : undefined;
  const encodedId = extension ? file.slice(0, dot) : file;
  let publicId: string;
  try {
    publicId = decodeURIComponent(encodedId);
  } catch {
    throw notFound();
  }
  return {
    type,
    signature,
    transformationPath,
    signedPath: [...transformationPath, file].join('/'),
    publicId,
    extension,
  };
}

/** GET/HEAD of an original or a derived image. */
export async function handleDelivery(
  req: IncomingMessage,
  res: ServerResponse,
  context: DeliveryContext,
  segments: readonly string[],
): Promise<void> {
  const request = parseDeliveryPath(segments);
  checkSignature(request, context.apiSecret);
  const transformation = parseTransformation(request.transformationPath);
  const asset = await context.store.get(request.type, request.publicId);
  if (!asset) throw notFound();

  const plan = planOutput(asset, request, transformation);
  const disposition = transformation.attachment
    ? attachmentHeader(transformation.attachment.filename ?? request.publicId.split('/').pop()!, plan.format)
    : undefined;
  if (plan.kind === 'original') {
    await serveFile(req, res, asset.originalPath, {
      format: asset.record.format,
      etag: `"${asset.record.etag}"`,
      disposition,
    });
    return;
  }
  const key = renditionKey(asset, request.transformationPath, plan.format);
  const path = context.store.renditionPath(asset, key, plan.format);
  await ensureRendition(asset, path, transformation, plan.format);
  await serveFile(req, res, path, { format: plan.format, etag: `"${asset.record.etag}-${key.slice(0, 16)}"`, disposition });
}

function checkSignature(request: DeliveryRequest, apiSecret: string): void {
  // Public `upload` assets need no signature, but a wrong one is still refused, like Cloudinary.
  if (request.signature === undefined) {
    if (request.type === 'upload') return;
    throw new HttpError(403, 'Missing URL signature for a restricted resource');
  }
  if (!safeEqual(request.signature, deliverySignature(request.signedPath, apiSecret))) {
    throw new HttpError(403, 'Invalid URL signature');
  }
}

type Plan = { kind: 'original'; format: ImageFormat } | { kind: 'render'; format: OutputFormat };

/** Serve the stored bytes when nothing would change them; otherwise render with sharp. */
function planOutput(asset: StoredAsset, request: DeliveryRequest, transformation: Transformation): Plan {
  const stored = asset.record.format;
  const decodable = canTransform(asset.record);
  const explicit = transformation.format === 'auto' ? undefined : transformation.format;
  let format: ImageFormat = explicit ?? request.extension ?? stored;
  // f_auto picks a format the client can show: HEIC becomes JPEG when it can be decoded.
  if (transformation.format === 'auto' && !explicit && format === 'heic' && decodable) format = 'jpg';

  const changesPixels = transformation.steps.length > 0 || typeof transformation.quality === 'number';
  if (format === stored && !changesPixels) return { kind: 'original', format };
  if (!isOutputFormat(format)) {
    throw new HttpError(400, `Cannot write ${format} locally (sharp has no encoder for it); ask for jpg, png, webp or avif`);
  }
  if (!decodable) {
    const { width, height } = asset.record;
    const reason = stored === 'heic' ? `${width}x${height} is more than ${MAX_HEIC_PIXELS} pixels` : 'it cannot be decoded';
    throw new HttpError(400, `Cannot transform this ${stored} image locally (${reason}); ask for the original .${stored}`);
  }
  return { kind: 'render', format };
}

/**
 * Whether renditions can be made. An HEIC is decoded whenever its announced size is within the
 * limit, whatever its record says: servers before libheif recorded every HEIC as undecodable.
 */
function canTransform(record: AssetRecord): boolean {
  if (record.decodable) return true;
  return record.format === 'heic' && record.width * record.height <= MAX_HEIC_PIXELS;
}

function renditionKey(asset: StoredAsset, transformationPath: readonly string[], format: ImageFormat): string {
  return createHash('sha1')
    .update(`${asset.record.version_id}\n${asset.record.etag}\n${transformationPath.join('/')}\n${format}`)
    .digest('hex');
}

/** Renders at most once per rendition, even under concurrent requests; later requests read the file. */
const inFlight = new Map<string, Promise<void>>();

async function ensureRendition(asset: StoredAsset, path: string, transformation: Transformation, format: OutputFormat): Promise<void> {
  if (await exists(path)) return;
  let job = inFlight.get(path);
  if (!job) {
    job = (async () => {
      let data: Buffer;
      try {
        data = await renderImage(asset.originalPath, asset.record.format, transformation, format);
      } catch (error) {
        throw new HttpError(400, `Cannot render this transformation: ${(error as Error).message}`);
      }
      await mkdir(dirname(path), { recursive: true });
      await writeAtomically(path, data);
    })().finally(() => inFlight.delete(path));
    inFlight.set(path, job);
  }
  await job;
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function attachmentHeader(name: string, format: ImageFormat): string {
  const safe = name.replace(/[^\w.-]+/g, '_').slice(0, 100) || 'image';
  return `attachment; filename="${safe}.${format}"`;
}

interface ServeOptions {
  format: ImageFormat;
  etag: string;
  disposition: string | undefined;
}

/** Streams a file with ETag, Range (single range) and HEAD support. */
async function serveFile(req: IncomingMessage, res: ServerResponse, path: string, options: ServeOptions): Promise<void> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    throw notFound(); // removed between lookup and read (a concurrent destroy)
  }
  const headers: Record<string, string | number> = {
    ...CORS_HEADERS,
    'Content-Type': contentType(options.format),
    'Accept-Ranges': 'bytes',
    ETag: options.etag,
    'Cache-Control': 'public, max-age=31536000, immutable',
  };
  if (options.disposition) headers['Content-Disposition'] = options.disposition;

  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim() === options.etag || tag.trim() === '*')) {
    res.writeHead(304, headers);
    res.end();
    return;
  }

  // If-Range with a different validator asks for the whole (changed) resource.
  const ifRange = req.headers['if-range'];
  const range = ifRange && ifRange !== options.etag ? { kind: 'full' as const } : parseRange(req.headers.range, size);
  if (range.kind === 'unsatisfiable') {
    res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}`, 'Content-Length': 0 });
    res.end();
    return;
  }
  const start = range.kind === 'partial' ? range.start : 0;
  const end = range.kind === 'partial' ? range.end : size - 1;
  if (range.kind === 'partial') headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  headers['Content-Length'] = end - start + 1;
  res.writeHead(range.kind === 'partial' ? 206 : 200, headers);
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return;
  }
  await pipeline(createReadStream(path, { start, end }), res);
}
