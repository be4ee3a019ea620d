import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECTS, type TestApp } from './support/app.js';
import { createTenant, postUpload, uploadResult, type Tenant } from './support/fixtures.js';

/** The public routes of delivery (#17): where the links of the image JSON lead. */
describe.each(DIALECTS)('delivery links on %s', (dialect) => {
  let app: TestApp;
  let acme: Tenant;
  let other: Tenant;

  beforeAll(async () => {
    // The default proxy: albumkit's own.
    app = await createTestApp(dialect, { proxy: {} });
    acme = await createTenant(app);
    other = await createTenant(app);
  });
  afterAll(() => app?.close());

  const open = (path: string, headers: Record<string, string> = {}) => app.albumkit.handle.public({ method: 'GET', path, headers });

  async function uploaded(tenant: Tenant, album = 'A1'): Promise<any> {
    const response = await postUpload((req) => app.request(req), await tenant.userToken(), album, { cloudinary: uploadResult({ width: 640, height: 480 }) });
    expect(response.status).toBe(200);
    return response.json;
  }

  it('names no foreign host by default: the proxied links go through albumkit, then to the thumbnail, then to the rendition', async () => {
    const image = await uploaded(acme);
    for (const kind of ['mini', 'large', 'full'] as const) {
      const proxied = new URL(image.external_urls[kind]);
      expect(proxied.origin).toBe('https://localhost:5001');
      const first = await open(proxied.pathname + proxied.search);
      expect(first.status).toBe(302);
      const thumbnail = new URL(first.headers.Location!);
      expect(thumbnail.pathname).toMatch(new RegExp(`^/images/${image.id}/thumbnails/(mini|thumbnail|full)-[0-9a-f]{11}\\.jpg$`));
      const second = await open(thumbnail.pathname);
      expect(second.status).toBe(302);
      // Not processed yet: the placeholder, absolute on the host, then the rendition of the JSON.
      expect(second.headers.Location).toBe(`https://localhost:5001${image.thumbnails[kind]}`);
      expect(second.body).toContain('You are being <a href=');
    }
  });

  it('serves the placeholder image the unprocessed thumbnails point to', async () => {
    const response = await open('/assets/blank.jpg');
    expect(response.status).toBe(200);
    expect(response.headers['Content-Type']).toBe('image/jpeg');
    const chunks = [...(response.stream as Iterable<Uint8Array>)];
    expect(Buffer.from(chunks[0]!).subarray(0, 2).toString('hex')).toBe('ffd8');
    expect(app.albumkit.handle.public.matches('GET', '/assets/blank.jpg')).toBe(true);
    expect(app.albumkit.handle.public.matches('GET', '/somewhere/else')).toBe(false);
  });

  it('answers 400 Invalid url to a tampered link, and 404 once the image is gone', async () => {
    const image = await uploaded(acme);
    const proxied = new URL(image.external_urls.mini);
    expect((await open(proxied.pathname + proxied.search.replace(/s=[0-9a-f]{7}/, 's=0000000'))).status).toBe(400);
    expect((await open(proxied.pathname + proxied.search.replace('mini-', 'full-'))).body).toBe('Invalid url');
    const thumbnail = new URL((await open(proxied.pathname + proxied.search)).headers.Location!).pathname;
    const bad = await open(thumbnail.replace(/-[0-9a-f]{11}\.jpg$/, '-00000000000.jpg'));
    expect(bad.status).toBe(400);
    expect(bad.headers['Content-Type']).toBe('text/plain; charset=utf-8');
    expect(bad.body).toBe('Invalid url');
    const deleted = await app.request({ method: 'DELETE', path: `/api/v1/images/${image.id}`, headers: { Authorization: `Token token="${await acme.userToken()}"` } });
    expect(deleted.status).toBeLessThan(300);
    expect((await open(thumbnail)).status).toBe(404);
  });

  it('redirects an image link as its token and the query shape it, and refuses without a valid token', async () => {
    const image = await uploaded(acme);
    const overlay = await uploaded(acme);
    const token = await acme.userToken({}, { transformations: [{ width: 200, overlay: overlay.id, flags: 'tiled', unknown: 'x' }, { width: 101, height: 102, crop: 'fit', flags: 'tiled' }] });
    const response = await open(`/images/${image.id}?token=${token}&width=50`);
    expect(response.status).toBe(302);
    expect(response.headers['Access-Control-Allow-Origin']).toBe('*');
    expect(response.headers['X-Frame-Options']).toBeUndefined();
    const overlayAsset = (await app.albumkit.images.find(acme.organization.id, overlay.id))!.cloudinary_public_id;
    expect(response.headers.Location).toContain(`/c_fit,h_1920,w_1920/fl_attachment/dpr_auto,q_auto,f_auto/fl_tiled,l_authenticated:${overlayAsset},w_200/c_fit,h_102,w_101/w_50/`);

    const named = await acme.userToken({}, { image_id: image.id, transformations: { angle: 90 } });
    const friendly = await open(`/images/holiday.jpg?token=${named}`);
    expect(friendly.status).toBe(302);
    expect(friendly.headers.Location).toContain('/a_90/');

    const none = await open(`/images/${image.id}`);
    expect(none.status).toBe(401);
    expect(none.headers['X-message']).toBe('Access denied');
    expect((await open(`/images/${image.id}?token=not.a.token`)).status).toBe(401);
    // Another organization's token does not reach the image.
    const foreign = await open(`/images/${image.id}?token=${await other.userToken()}`);
    expect(foreign.status).toBe(404);
    // Bad transformations are a 400 naming the field, never a 5xx.
    const bad = await open(`/images/${image.id}?token=${await acme.userToken({}, { transformations: [{ width: '1/../x' }] })}`);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).message).toMatch(/^transformations\.0\.width: /);
    expect((await open(`/images/${image.id}?token=${token}&crop=evil`)).status).toBe(400);
  });
});
