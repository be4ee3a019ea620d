import { apiSignature } from './signing.js';

export interface CloudinaryAdminConfig {
  cloudName: string;
  apiKey: string;
  apiSecret: string;
  /** Base of the API (`<uploadPrefix>/v1_1/<cloud>/image/destroy`); the only host requests go to. */
  uploadPrefix: string;
}

export interface CloudinaryAsset {
  publicId: string;
  /** The delivery type (`upload`, `authenticated`, `private`). */
  type: string;
}

/** What Cloudinary answered: the asset is gone, or there was none (both mean: nothing left to destroy). */
export type DestroyResult = 'ok' | 'not found';

/** A destroy Cloudinary refused or that did not reach it; the purge's outbox retries it. */
export class DestroyFailed extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * Cloudinary's signed upload API calls that remove assets: `destroy` (one asset, every version
 * and derived rendition, CDN copies invalidated). Requests go to the configured API host only,
 * redirects refused, with a timeout; the answer is checked, not assumed.
 */
export class CloudinaryAdmin {
  private readonly destroyUrl: string;

  constructor(
    private readonly config: CloudinaryAdminConfig,
    private readonly options: { timeoutMs?: number; now?: () => number } = {},
  ) {
    this.destroyUrl = `${config.uploadPrefix.replace(/\/+$/, '')}/v1_1/${encodeURIComponent(config.cloudName)}/image/destroy`;
  }

  async destroy(asset: CloudinaryAsset): Promise<DestroyResult> {
    const timestamp = Math.floor((this.options.now?.() ?? Date.now()) / 1000);
    const signed = { public_id: asset.publicId, type: asset.type, invalidate: 'true', timestamp };
    const body = new URLSearchParams({
      public_id: asset.publicId,
      type: asset.type,
      invalidate: 'true',
      timestamp: String(timestamp),
      api_key: this.config.apiKey,
      signature: apiSignature(signed, this.config.apiSecret),
    });
    let response: Response;
    try {
      response = await fetch(this.destroyUrl, {
        method: 'POST',
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      throw new DestroyFailed(`destroy of ${asset.type}/${asset.publicId}: ${(error as Error).message}`);
    }
    const text = await response.text().catch(() => '');
    let answer: { result?: unknown; error?: { message?: unknown } } | undefined;
    try {
      answer = JSON.parse(text) as typeof answer;
    } catch {
      answer = undefined;
    }
    if (response.status === 200 && (answer?.result === 'ok' || answer?.result === 'not found')) return answer.result;
    const reason = typeof answer?.error?.message === 'string' ? answer.error.message : text.slice(0, 200) || 'no body';
    throw new DestroyFailed(`destroy of ${asset.type}/${asset.publicId}: HTTP ${response.status} (${reason})`, response.status);
  }
}
