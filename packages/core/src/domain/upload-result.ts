import { z } from 'zod';
import { BadRequest } from '../errors.js';
import { takenAtFromExif } from './exif-time.js';
import { toLatLng, type LatLng } from './gps.js';

/**
 * The fields albumkit reads from a Cloudinary upload result. Everything else is kept as
 * received in `infos`; values arrive as strings from form bodies and as numbers from JSON.
 */
const intLike = z.union([z.number().int().nonnegative().max(1_000_000), z.string().regex(/^\d{1,7}$/)]).transform(Number);

export const uploadResultSchema = z.looseObject({
  public_id: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\w\-./]+$/, 'letters, digits, "_", "-", "." and "/" only')
    .refine((v) => !v.split('/').includes('..'), 'no ".." segment'),
  version: z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,20}$/)]).transform(String),
  signature: z.string().max(128).optional(),
  width: intLike.optional(),
  height: intLike.optional(),
  format: z.string().regex(/^[a-zA-Z0-9]{1,16}$/).optional(),
  type: z.enum(['upload', 'authenticated', 'private']).optional(),
  original_filename: z.string().max(1024).optional(),
  image_metadata: z.record(z.string(), z.unknown()).optional(),
  location: z.looseObject({ latitude: z.unknown(), longitude: z.unknown() }).optional(),
});

export interface UploadFacts {
  publicId: string;
  version: string;
  signature: string | undefined;
  type: string;
  width: number;
  height: number;
  format: string | null;
  filename: string | null;
  exifs: Record<string, unknown>;
  takenAt: Date | null;
  gpsHtml: LatLng | null;
  /** `<public_id>@<version>`: the identity of the upload, for deduplication. */
  uploadKey: string;
}

/** Reads and checks an upload result; a bad one is a 400 naming the field. */
export function readUploadResult(value: unknown): UploadFacts {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BadRequest('cloudinary: the Cloudinary upload result is required');
  }
  const parsed = uploadResultSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BadRequest(`cloudinary.${issue.path.join('.')}: ${issue.message}`);
  }
  const r = parsed.data;
  const exifs = r.image_metadata ?? {};
  return {
    publicId: r.public_id,
    version: r.version,
    signature: r.signature,
    type: r.type ?? 'authenticated',
    width: r.width ?? 0,
    height: r.height ?? 0,
    format: r.format ?? null,
    filename: r.original_filename ?? null,
    exifs,
    takenAt: takenAtFromExif(exifs.DateTimeOriginal, exifs.SubSecTimeOriginal, exifs.OffsetTimeOriginal),
    gpsHtml: r.location ? toLatLng(r.location.latitude, r.location.longitude) : null,
    uploadKey: `${r.public_id}@${r.version}`,
  };
}
