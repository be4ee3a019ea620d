import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAlbumkit } from '@albumkit/core';
import { expect } from 'vitest';

/**
 * What a host app's user does, over HTTP only: create an album with a token, post a photo straight
 * to Cloudinary (here the local one) with the album's signed upload form, and wait for Cloudinary's
 * notification to make the image and its jobs to process it. Shared by the tests that run example
 * hosts and a host installed from the packed tarballs.
 */
const PHOTOS = new URL('../../fixtures/photos/', import.meta.url);
/** A phone photo with EXIF (sub-second capture time) and GPS. */
export const PHOTO = 'IMG_20180725_163423-tiny.jpg';
const facts = (JSON.parse(readFileSync(new URL('facts.json', PHOTOS), 'utf8')) as Record<string, Record<string, any>>)[PHOTO]!;

export interface ImageJson {
  id: string;
  processed: boolean;
  exifs: Record<string, string> | null;
  taken_at: string | null;
  gps: [number, number] | null;
  width: number;
  height: number;
  processing_error: string | null;
  [field: string]: unknown;
}

/**
 * A user of a fresh organization in the database a host uses, and a server token of theirs signed
 * with the host's secret: what a host sets up with `albumkit create-organization`/`create-user`.
 * The host must have migrated the database (it does before it listens).
 */
export async function userToken(databaseUrl: string, secret: string): Promise<string> {
  const albumkit = await createAlbumkit({
    secret,
    cloudinary: { cloudName: 'demo', apiKey: '123456789012345', apiSecret: 'unused-here' },
    publicUrl: 'http://127.0.0.1/api/v1',
    databaseUrl,
    migrate: false,
    logger: { error() {}, warn() {} },
  });
  try {
    const organization = await albumkit.setup.createOrganization('host upload test');
    const user = await albumkit.setup.createUser(organization.id, { sfid: '005host' });
    return await albumkit.issueToken(user.id);
  } finally {
    await albumkit.close();
  }
}

/** Uploads PHOTO through the host at `base` (its albumkit at /api/v1); resolves with the processed image's JSON. */
export async function uploadToProcessed(base: string, token: string, label: string): Promise<ImageJson> {
  const api = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${base}/api/v1${path}`, { ...init, headers: { Authorization: `Token token="${token}"`, ...init.headers } });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : undefined, text };
  };

  const album = await api('/albums', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: '' });
  expect(album.status, `${label}: POST /albums answered ${album.text}`).toBe(200);
  const form = album.json.upload_form as { url: string; params: Record<string, unknown> };
  expect(form, `${label}: the album has an upload form`).toBeTruthy();

  // What the browser does: the file and every parameter of the form, straight to Cloudinary.
  const body = new FormData();
  for (const [name, value] of Object.entries(form.params)) body.append(name, String(value));
  body.append('file', new Blob([readFileSync(new URL(PHOTO, PHOTOS))]), PHOTO);
  const uploaded = await fetch(form.url, { method: 'POST', body });
  expect(uploaded.status, `${label}: upload to Cloudinary`).toBe(200);

  // Cloudinary's notification reaches the host, whose job creates the image and processes it.
  for (let attempt = 0; attempt < 600; attempt++) {
    const listed = await api(`/albums/${album.json.id}/images`);
    expect(listed.status, `${label}: listing the album`).toBe(200);
    const id = (listed.json as ImageJson[])[0]?.id;
    if (id) {
      const image = await api(`/images/${id}`);
      expect(image.status, `${label}: GET /images/${id}`).toBe(200);
      if ((image.json as ImageJson).processed) return image.json as ImageJson;
    }
    await sleep(100);
  }
  throw new Error(`${label}: the upload never became a processed image`);
}

/** The photo's facts, as the demo reads them too: EXIF, capture time, GPS, displayed size. */
export function expectPhotoFacts(image: ImageJson, label: string): void {
  expect(image.processed, label).toBe(true);
  expect(image.processing_error, label).toBeNull();
  expect(image.exifs?.DateTimeOriginal, label).toBe(facts.DateTimeOriginal);
  expect(image.taken_at, label).toBe(String(facts.expected_taken_at_utc).replace('Z', '+00:00'));
  expect(image.gps?.[0], label).toBeCloseTo(facts.GPSLatitude, 4);
  expect(image.gps?.[1], label).toBeCloseTo(facts.GPSLongitude, 4);
  expect([image.width, image.height], label).toEqual([facts.ImageWidth, facts.ImageHeight]);
}
