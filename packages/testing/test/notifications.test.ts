import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalCloudinary, type LocalCloudinary } from '../src/index.js';
import { cloudinary, fixture, sdkOptions, sha1Hex, startReceiver, waitFor } from './helpers.js';

let server: LocalCloudinary | undefined;
let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;

afterEach(async () => {
  await server?.close();
  await receiver?.close();
  server = undefined;
  receiver = undefined;
});

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('upload notifications', () => {
  it('POSTs the signed upload result and retries after a 5xx', async () => {
    receiver = await startReceiver([500, 200]);
    server = await startLocalCloudinary({ notificationRetryDelaysMs: [20, 50] });
    const result = await cloudinary.uploader.upload(fixture('noexif.jpg'), {
      ...sdkOptions(server),
      type: 'authenticated',
      notification_url: receiver.url,
    });
    await waitFor(() => receiver!.requests.length >= 2 && server!.notifications.length >= 2);
    await new Promise((resolve) => setTimeout(resolve, 100)); // no third attempt after the 200

    expect(server.notifications.map(({ url, status, attempt }) => ({ url, status, attempt }))).toEqual([
      { url: receiver.url, status: 500, attempt: 1 },
      { url: receiver.url, status: 200, attempt: 2 },
    ]);
    expect(receiver.requests).toHaveLength(2);
    for (const { headers, body } of receiver.requests) {
      expect(headers['content-type']).toBe('application/json');
      const timestamp = headers['x-cld-timestamp'] as string;
      expect(timestamp).toMatch(/^\d+$/);
      expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(10);
      expect(headers['x-cld-signature']).toBe(sha1Hex(body + timestamp + server.apiSecret));
      // The cloudinary package's own verifier agrees.
      cloudinary.config({ api_secret: server.apiSecret });
      expect(cloudinary.utils.verifyNotificationSignature(body, Number(timestamp), headers['x-cld-signature'] as string)).toBe(true);
      const payload = JSON.parse(body);
      expect(payload).toEqual({ notification_type: 'upload', ...result });
    }
    expect(receiver.requests[1]!.body).toBe(receiver.requests[0]!.body);
    expect(server.notifications[1]!.body).toBe(receiver.requests[1]!.body);
  });

  it('records an unreachable receiver as errors, once per planned attempt', async () => {
    const url = `http://127.0.0.1:${await freePort()}/hook`;
    server = await startLocalCloudinary({ notificationRetryDelaysMs: [10, 10] });
    await cloudinary.uploader.upload(fixture('noexif.jpg'), { ...sdkOptions(server), notification_url: url });
    await waitFor(() => server!.notifications.length >= 3);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.notifications.map(({ status, attempt }) => [status, attempt])).toEqual([
      ['error', 1],
      ['error', 2],
      ['error', 3],
    ]);
  });

  it('cancels pending retries on close()', async () => {
    receiver = await startReceiver([503, 503, 503]);
    server = await startLocalCloudinary({ notificationRetryDelaysMs: [60_000] });
    await cloudinary.uploader.upload(fixture('noexif.jpg'), { ...sdkOptions(server), notification_url: receiver.url });
    await waitFor(() => server!.notifications.length >= 1);
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(server.notifications).toHaveLength(1);
    expect(receiver.requests).toHaveLength(1);
  });

  it('sends nothing without notification_url', async () => {
    server = await startLocalCloudinary();
    await cloudinary.uploader.upload(fixture('noexif.jpg'), sdkOptions(server));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.notifications).toEqual([]);
  });
});
