import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../route.js';
import { BadRequest, PayloadTooLarge } from '../../errors.js';
import type { RouteDeps } from './common.js';

/** Cloudinary's upload notifications. */
export function cloudinaryRoutes(deps: RouteDeps): AnyRoute[] {
  const { config, notifications } = deps;
  const limits = config.limits;
  return [
    defineRoute({
      method: 'POST',
      path: '/cloudinary',
      operationId: 'cloudinaryNotification',
      summary: "Cloudinary's upload notification (the upload form's `notification_url`)",
      description: 'Signed by Cloudinary (`X-Cld-Timestamp`, `X-Cld-Signature` over the raw body); recorded before the answer, processed by a job.',
      tag: 'Cloudinary',
      auth: 'none',
      query: z.looseObject({ token: z.string().max(limits.tokenLength).optional().describe('The notification token of the upload form') }),
      body: z.looseObject({ public_id: z.string(), version: z.union([z.number(), z.string()]), notification_type: z.string().optional() }),
      bodyValidation: 'describe',
      bodyTypes: ['application/json'],
      responses: {
        201: { description: 'Recorded; `X-token` is the notification token renewed', contentType: 'text/html', headers: { 'X-token': 'The notification token, renewed' } },
        400: { description: 'A notification that cannot be read (bad signature time, bad upload result)' },
        401: { description: 'Bad token or signature: empty body', contentType: 'text/html' },
      },
      async run({ request, headers, query }) {
        if (request.rawBody === undefined) throw new BadRequest('notification: the raw request body is required to check its signature');
        const raw = typeof request.rawBody === 'string' ? Buffer.from(request.rawBody) : request.rawBody;
        if (raw.byteLength > limits.bodyBytes) throw new PayloadTooLarge('notification body too large');
        const renewed = await notifications.accept({
          token: query.token,
          rawBody: raw,
          timestamp: headers.get('x-cld-timestamp'),
          signature: headers.get('x-cld-signature'),
        });
        return { status: 201, headers: { 'Content-Type': 'text/html', ...(renewed ? { 'X-token': renewed } : {}) } };
      },
    }),
  ];
}
