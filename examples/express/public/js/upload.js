// Direct upload: the file goes from the browser straight to Cloudinary (here, the local
// Cloudinary-compatible server) with the album's signed upload form; never through the host app.

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
