import { apiSignature, signNotification } from '@albumkit/core';

/**
 * Cloudinary's signing algorithms: the server checks requests with albumkit's own
 * implementation, which core's tests prove byte-identical to the `cloudinary` package (and
 * test/signatures.test.ts checks again here against the package).
 */
export { apiSignature, apiStringToSign, deliverySignature, safeEqual } from '@albumkit/core';

/** The `signature` of an upload result: the API signature of `{public_id, version}`. */
export function uploadResultSignature(publicId: string, version: number, apiSecret: string): string {
  return apiSignature({ public_id: publicId, version }, apiSecret);
}

/** `X-Cld-Signature` of a notification: hex SHA-1 of body + `X-Cld-Timestamp` + API secret. */
export function notificationSignature(body: string, timestamp: number, apiSecret: string): string {
  return signNotification(body, apiSecret, timestamp)['X-Cld-Signature'];
}
