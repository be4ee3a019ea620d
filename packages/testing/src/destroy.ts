import type { IncomingMessage, ServerResponse } from 'node:http';
import { verifySignedRequest } from './auth.js';
import { readForm } from './form.js';
import { HttpError, echo, sendJson } from './http.js';
import { isDeliveryType } from './storage.js';
import type { ApiContext } from './upload.js';

/** `POST /v1_1/:cloud/image/destroy`: removes an asset and its renditions. */
export async function handleDestroy(req: IncomingMessage, res: ServerResponse, context: ApiContext, cloud: string, resourceType: string): Promise<void> {
  const { fields, file } = await readForm(req);
  verifySignedRequest(cloud, fields, context.credentials);
  if (resourceType !== 'image') throw new HttpError(400, `Unsupported resource type ${echo(resourceType)}`);
  if (file) throw new HttpError(400, 'Unexpected parameter - file');
  const publicId = fields.public_id;
  if (typeof publicId !== 'string' || publicId === '') throw new HttpError(400, 'Missing required parameter - public_id');
  const type = typeof fields.type === 'string' && fields.type !== '' ? fields.type : 'upload';
  if (!isDeliveryType(type)) throw new HttpError(400, `Invalid type ${echo(type)}`);
  // `invalidate` needs no work: the local server has no CDN cache to purge.
  const removed = await context.store.remove(type, publicId);
  sendJson(res, 200, { result: removed ? 'ok' : 'not found' });
}
