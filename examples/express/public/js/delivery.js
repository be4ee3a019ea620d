// Delivery from the page: imports from a URL (POST /imports, then GET /imports/:id until the
// worker is done), zip downloads of the selected photos (POST /downloads: a signed link that
// expires), and lasting public links (POST /image_external_urls) to share a photo.
import { api } from './api.js';
import { notify } from './notices.js';
import { uploadRow } from './upload.js';
import { $ } from './ui.js';

const IMPORT_POLL_MS = 1000;
/** How long the page waits for an import (the worker retries a failing fetch with a backoff). */
const IMPORT_WAIT_MS = 3 * 60_000;

/** A short name for a URL: its last path segment, or its host. */
function urlName(url) {
  try {
    const parsed = new URL(url);
    const last = decodeURIComponent(parsed.pathname.split('/').filter(Boolean).pop() ?? '');
    return last || parsed.host;
  } catch {
    return url;
  }
}

/**
 * The import form under the drop zone. `album()` is the open album; `onImage(image)` gets the
 * image an import made (already processed or not); `fail(error)` shows an error of the API.
 */
export function importForm({ album, onImage, fail }) {
  const form = $('#import-form');
  const input = $('#import-url');
  const submit = $('#import-submit');

  $('#import-sample').addEventListener('click', () => {
    input.value = new URL('/samples/sample.jpg', location.origin).href;
    input.focus();
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const target = album();
    if (!target) return notify('Open or create an album first.');
    const url = input.value.trim();
    if (!/^https?:\/\//i.test(url)) return notify('Give the address of an image on the web: it starts with http:// or https://.');
    const row = uploadRow(urlName(url), new URL(url).host, { label: `Import of ${url}` });
    row.status('Asking the server…');
    submit.disabled = true;
    let made;
    try {
      made = await api.createImport(target.id, url);
      input.value = '';
    } catch (error) {
      row.failed(error.detail ? `Refused: ${error.detail}` : 'Refused');
      return fail(error);
    } finally {
      submit.disabled = false;
    }
    await follow(made, row, { onImage, fail });
  });
}

/** Polls an import until it is done or failed, telling its row. */
async function follow(made, row, { onImage, fail }) {
  const until = Date.now() + IMPORT_WAIT_MS;
  let current = made;
  while (current.status === 'pending') {
    row.status(current.error ? `Fetching again (${current.error})…` : 'Fetching…');
    if (Date.now() > until) return row.failed('Still fetching: look again later');
    await new Promise((resolve) => setTimeout(resolve, IMPORT_POLL_MS));
    try {
      current = await api.importStatus(current.id);
    } catch (error) {
      row.failed('Could not follow the import');
      return fail(error);
    }
  }
  if (current.status === 'failed') {
    row.failed(`Not imported: ${current.error ?? 'the file could not be fetched'}`);
    notify(`The import of “${urlName(current.params?.url ?? '')}” failed: ${current.error ?? 'the file could not be fetched'}.`);
    return;
  }
  try {
    onImage(await api.image(current.image_id));
    row.done(made.status === 'done' ? 'Already imported' : 'Imported');
  } catch (error) {
    row.failed('Imported, but it could not be shown');
    fail(error);
  }
}

/**
 * A zip of the images, downloaded by the browser from the signed link: the server streams the
 * originals one at a time, so a whole album is fine.
 */
export async function downloadZip(ids) {
  const { zip_url: zipUrl } = await api.createDownload(ids);
  const link = document.createElement('a');
  link.href = zipUrl;
  link.download = '';
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  return zipUrl;
}

/** The viewer's Share box: a lasting public link to the photo, with Copy and Open. */
export function shareBox() {
  const box = $('#share-box');
  const output = $('#share-url');
  const open = $('#share-open');
  const button = $('#share-link');
  let imageId = null;

  $('#share-copy').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(output.value);
      notify('Link copied.', 'info');
    } catch {
      output.select(); // the browser refused the clipboard: selected, for Ctrl+C
    }
  });

  return {
    /** The viewer shows another photo: the link of the previous one goes. */
    reset(id) {
      if (id === imageId) return;
      imageId = id;
      box.hidden = true;
      output.value = '';
    },
    async make() {
      const id = imageId;
      button.disabled = true;
      try {
        const link = await api.externalUrl(id);
        if (id !== imageId) return;
        output.value = link.url;
        open.href = link.url;
        box.hidden = false;
        output.focus();
        output.select();
      } finally {
        button.disabled = false;
      }
    },
  };
}
