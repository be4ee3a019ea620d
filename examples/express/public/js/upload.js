// Direct upload: the file goes from the browser straight to Cloudinary (here, the local
// Cloudinary-compatible server) with the album's signed upload form; never through the host app.

import { el, $ } from './ui.js';

export class UploadError extends Error {}

/** A photo by its type, or by its name for the formats browsers often give no image type (HEIC, AVIF, TIFF). */
export function isImageFile(file) {
  return file.type.startsWith('image/') || /\.(heic|heif|avif|tiff?)$/i.test(file.name);
}

/**
 * POSTs `file` with every field of `form.params` to `form.url` (multipart), reporting progress
 * from 0 to 1. Resolves with Cloudinary's upload result.
 */
export function uploadFile(form, file, onProgress) {
  return new Promise((resolve, reject) => {
    const data = new FormData();
    for (const [name, value] of Object.entries(form.params)) data.append(name, String(value));
    data.append('file', file, file.name);

    const xhr = new XMLHttpRequest();
    xhr.open('POST', form.url);
    xhr.responseType = 'json';
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300 && xhr.response) return resolve(xhr.response);
      const reason = xhr.response?.error?.message;
      reject(new UploadError(reason ? `Upload refused: ${reason}` : `Upload refused (error ${xhr.status}).`));
    });
    xhr.addEventListener('error', () => reject(new UploadError('Cannot reach the upload server. Is npm start still running?')));
    xhr.addEventListener('timeout', () => reject(new UploadError('The upload took too long.')));
    xhr.send(data);
  });
}

/** Runs `work` over `items`, at most `limit` at a time. */
export async function eachLimited(items, limit, work) {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      await work(item);
    }
  });
  await Promise.all(runners);
}

/**
 * A row of the uploads list (a file uploading, or a URL being imported): `name`, a detail (its
 * size), a progress bar and a status; `done` and `failed` fade it out after a while.
 */
export function uploadRow(name, detail, { label = `Upload of ${name}` } = {}) {
  const bar = el('progress', { max: '1', value: '0', 'aria-label': label });
  const status = el('span', { class: 'upload-status' }, 'Waiting…');
  const row = el(
    'li',
    { class: 'upload' },
    el('div', { class: 'upload-line' }, el('span', { class: 'upload-name' }, name), detail ? el('span', { class: 'muted small' }, detail) : null),
    bar,
    status,
  );
  $('#uploads').append(row);
  const finish = (kind, text, ms) => {
    row.classList.add(kind);
    status.textContent = text;
    setTimeout(() => row.remove(), ms);
  };
  return {
    progress(fraction) {
      bar.value = fraction;
      status.textContent = fraction < 1 ? `Uploading ${Math.round(fraction * 100)}%` : 'Uploaded';
    },
    status: (text) => (status.textContent = text),
    done: (text = 'Added') => {
      bar.value = 1;
      finish('ok', text, 2500);
    },
    failed: (message) => finish('failed', message, 12000),
  };
}
