import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IMAGE_FORMATS, type ImageFormat } from './formats.js';

export const DELIVERY_TYPES = ['upload', 'authenticated', 'private'] as const;
export type DeliveryType = (typeof DELIVERY_TYPES)[number];

/** What the server remembers about an asset; written as `asset.json` next to the file. */
export interface AssetRecord {
  public_id: string;
  type: DeliveryType;
  format: ImageFormat;
  version: number;
  asset_id: string;
  version_id: string;
  width: number;
  height: number;
  bytes: number;
  etag: string;
  created_at: string;
  tags: string[];
  original_filename: string;
  /** False when the file can be stored and served but not transformed (damaged, or too large to decode). */
  decodable: boolean;
}

export interface StoredAsset {
  record: AssetRecord;
  dir: string;
  originalPath: string;
}

/**
 * Assets on disk, one folder per (type, public_id):
 * `<root>/<cloud>/<type>/<sha256 of public_id>/{asset.json, original.<format>, renditions/}`.
 * Hashing the public id keeps untrusted names out of file paths.
 */
export class AssetStore {
  constructor(
    private readonly root: string,
    private readonly cloudName: string,
  ) {}

  private assetDir(type: DeliveryType, publicId: string): string {
    const key = createHash('sha256').update(publicId).digest('hex').slice(0, 40);
    return join(this.root, this.cloudName, type, key.slice(0, 2), key);
  }

  async save(record: AssetRecord, data: Buffer): Promise<StoredAsset> {
    const dir = this.assetDir(record.type, record.public_id);
    await mkdir(dir, { recursive: true });
    // An overwrite makes old renditions and a differently-named original stale.
    const previous = await this.get(record.type, record.public_id);
    await rm(join(dir, 'renditions'), { recursive: true, force: true });
    const originalPath = join(dir, `original.${record.format}`);
    await writeAtomically(originalPath, data);
    await writeAtomically(join(dir, 'asset.json'), JSON.stringify(record, null, 2));
    if (previous && previous.originalPath !== originalPath) await rm(previous.originalPath, { force: true });
    return { record, dir, originalPath };
  }

  async get(type: DeliveryType, publicId: string): Promise<StoredAsset | undefined> {
    const dir = this.assetDir(type, publicId);
    let record: AssetRecord;
    try {
      record = JSON.parse(await readFile(join(dir, 'asset.json'), 'utf8')) as AssetRecord;
    } catch {
      return undefined;
    }
    // Guard against a hand-edited or foreign asset.json pointing anywhere unexpected.
    if (record.public_id !== publicId || !(IMAGE_FORMATS as readonly string[]).includes(record.format)) return undefined;
    return { record, dir, originalPath: join(dir, `original.${record.format}`) };
  }

  /** Removes the asset with its renditions; false when there was none. */
  async remove(type: DeliveryType, publicId: string): Promise<boolean> {
    const asset = await this.get(type, publicId);
    if (!asset) return false;
    await rm(asset.dir, { recursive: true, force: true });
    return true;
  }

  renditionPath(asset: StoredAsset, key: string, format: ImageFormat): string {
    return join(asset.dir, 'renditions', `${key}.${format}`);
  }
}

/** Write then rename, so a reader never sees half a file. */
export async function writeAtomically(path: string, data: string | Buffer): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, data);
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

export function isDeliveryType(value: string): value is DeliveryType {
  return (DELIVERY_TYPES as readonly string[]).includes(value);
}
