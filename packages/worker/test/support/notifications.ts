import { setTimeout as sleep } from 'node:timers/promises';
import { signNotification, type Albumkit } from '@albumkit/core';
import { TEST_CONFIG } from '../../../core/test/support/app.js';
import { access, type Tenant } from '../../../core/test/support/fixtures.js';

/** Helpers of the tests that send Cloudinary notifications and wait for their images. */

export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 60_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The notification URL (path and query) of an album's upload form: what Cloudinary is told to call. */
export async function notificationPath(albumkit: Albumkit, tenant: Tenant, album: string): Promise<string> {
  const token = await tenant.userToken({ [album]: access('image_upload', 'image_list') });
  const response = await albumkit.handle({ method: 'GET', path: `/api/v1/albums/${album}`, headers: { Authorization: `Token token="${token}"` } });
  if (response.status !== 200) throw new Error(`album ${album}: ${response.status} ${response.body}`);
  const url = new URL(JSON.parse(response.body).upload_form.params.notification_url);
  return url.pathname + url.search;
}

/** A signed notification as Cloudinary sends it: body and headers. */
export function notificationRequest(upload: Record<string, unknown>): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({ notification_type: 'upload', ...upload });
  return { body, headers: { 'Content-Type': 'application/json', ...signNotification(body, TEST_CONFIG.cloudinary.apiSecret) } };
}

/** Posts a signed notification to the handler. */
export function notify(albumkit: Albumkit, path: string, upload: Record<string, unknown>) {
  const { body, headers } = notificationRequest(upload);
  return albumkit.handle({ method: 'POST', path, headers, rawBody: body });
}

export function albumImages(albumkit: Albumkit, organizationId: string, album: string) {
  return albumkit.database.db.selectFrom('images').selectAll().where('organization_id', '=', organizationId).where('album_id', '=', album).execute();
}
