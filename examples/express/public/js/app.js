// The albumkit demo page: sign in with a token, open or create an album, upload photos directly
// to Cloudinary, watch them get processed, look at one photo's renditions and EXIF.
import { api, session } from './api.js';
import { eachLimited, uploadFile } from './upload.js';
import { describeBytes, describeGps, describeTakenAt, el, mapUrl, $ } from './ui.js';

const ALBUM_KEY = 'albumkit-demo.album';
const POLL_MS = 1500;

const state = {
  album: null,
  images: [],
  /** Local previews of the photos uploaded from this page, by image id, shown until processed. */
  previews: new Map(),
  cards: new Map(),
  pollTimer: 0,
  viewerId: null,
  uploading: 0,
};

// ---------------------------------------------------------------------------------------------
// Notices and errors

function notify(message, kind = 'error') {
  const notices = $('#notices');
  for (const existing of notices.children) if (existing.dataset.message === message) return;
  const close = el('button', { type: 'button', class: 'icon-button', 'aria-label': 'Dismiss' }, '×');
  const notice = el('div', { class: `notice ${kind}`, 'data-message': message }, el('span', {}, message), close);
  const remove = () => {
    notice.remove();
    if (notices.children.length === 0 && notices.hidePopover && notices.matches(':popover-open')) notices.hidePopover();
  };
  close.addEventListener('click', remove);
  notices.append(notice);
  // A popover sits in the top layer: above an open photo dialog too (shown again to come last).
  if (notices.showPopover) {
    if (notices.matches(':popover-open')) notices.hidePopover();
    notices.showPopover();
  }
  if (kind !== 'error') setTimeout(remove, 4000);
}

function fail(error) {
  if (error?.sessionExpired) {
    stopPolling();
    session.token = null;
    showSignIn();
  }
  notify(error?.message ?? String(error));
}

// ---------------------------------------------------------------------------------------------
// Session

function tokenClaims(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(payload));
  } catch {
    return {};
  }
}

function showSignIn() {
  $('#workspace').hidden = true;
  $('#session').hidden = true;
  $('#sign-in').hidden = false;
  $('#token-input').focus();
}

function showWorkspace() {
  $('#sign-in').hidden = true;
  $('#workspace').hidden = false;
  $('#session').hidden = false;
  const claims = tokenClaims(session.token ?? '');
  $('#session-label').textContent = claims.admin ? 'Signed in · demo admin' : 'Signed in';
}

// ---------------------------------------------------------------------------------------------
// Album

async function openAlbum(id) {
  try {
    setAlbum(await api.album(id));
    await refresh();
  } catch (error) {
    fail(error);
  }
}

async function createAlbum() {
  const button = $('#new-album');
  button.disabled = true;
  try {
    setAlbum(await api.createAlbum());
    await refresh();
    notify('New album created. Drop some photos in it.', 'info');
  } catch (error) {
    fail(error);
  } finally {
    button.disabled = false;
  }
}

function setAlbum(album) {
  if (state.album?.id !== album.id) {
    state.images = [];
    state.cards.clear();
    $('#grid').replaceChildren();
    $('#events').replaceChildren();
  }
  state.album = album;
  localStorage.setItem(ALBUM_KEY, album.id);
  history.replaceState(null, '', `#album=${encodeURIComponent(album.id)}`);
  $('#album-title').replaceChildren('Album ', el('code', { class: 'album-id', title: album.id }, album.id));
  $('#album-view').hidden = false;
  $('#intro').hidden = true;
  renderAlbumMeta();
}

function renderAlbumMeta() {
  const count = state.images.length;
  const processing = state.images.filter((image) => !image.processed).length;
  $('#album-meta').textContent = `${count} photo${count === 1 ? '' : 's'}${processing ? ` · ${processing} processing` : ''} · share the id to open it again`;
  $('#images-count').textContent = count ? String(count) : '';
  $('#processing-note').textContent = processing ? `Processing ${processing} photo${processing === 1 ? '' : 's'}…` : '';
  $('#empty').hidden = count > 0 || state.uploading > 0;
}

/** Reloads the photos and the activity; polls again while something is still processing. */
async function refresh() {
  if (!state.album) return;
  clearTimeout(state.pollTimer);
  const albumId = state.album.id;
  try {
    const [images, events] = await Promise.all([api.images(albumId), api.events(albumId).catch(() => null)]);
    if (state.album?.id !== albumId) return;
    state.images = images;
    renderGrid();
    if (events) renderEvents(events);
    if (state.viewerId) {
      const shown = images.find((image) => image.id === state.viewerId);
      if (shown) renderViewer(shown);
    }
  } catch (error) {
    fail(error);
    if (error.sessionExpired) return;
  }
  if (state.images.some((image) => !image.processed) || state.uploading > 0) {
    state.pollTimer = setTimeout(refresh, POLL_MS);
  }
}

function stopPolling() {
  clearTimeout(state.pollTimer);
}

function upsertImage(image) {
  const index = state.images.findIndex((existing) => existing.id === image.id);
  if (index >= 0) state.images[index] = image;
  else state.images.push(image);
  renderGrid();
}

// ---------------------------------------------------------------------------------------------
// Grid

function renderGrid() {
  const grid = $('#grid');
  const seen = new Set();
  state.images.forEach((image, index) => {
    seen.add(image.id);
    const key = `${image.processed}|${image.taken_at}|${image.filename}`;
    let entry = state.cards.get(image.id);
    if (!entry || entry.key !== key) {
      const card = renderCard(image);
      if (entry) entry.node.replaceWith(card);
      entry = { node: card, key };
      state.cards.set(image.id, entry);
    }
    if (grid.children[index] !== entry.node) grid.insertBefore(entry.node, grid.children[index] ?? null);
  });
  for (const [id, entry] of state.cards) {
    if (!seen.has(id)) {
      entry.node.remove();
      state.cards.delete(id);
    }
  }
  renderAlbumMeta();
}

function statusBadge(image) {
  if (!image.processed) return el('span', { class: 'badge pending' }, el('span', { class: 'spinner small', 'aria-hidden': 'true' }), 'Processing');
  return el('span', { class: 'badge done', title: image.processing_error ?? 'EXIF read, renditions ready' }, 'Processed');
}

function thumbnail(image, rendition) {
  const holder = el('div', { class: 'thumb' });
  if (image.processed) {
    const img = el('img', { src: image.thumbnails[rendition], alt: image.filename ?? 'photo', loading: 'lazy', decoding: 'async' });
    img.addEventListener('load', () => holder.classList.add('loaded'));
    img.addEventListener('error', () => holder.classList.add('broken'));
    holder.append(img);
  } else {
    // While unprocessed the API gives placeholder URLs (`/assets/blank.jpg#…`): show the local
    // preview of a file uploaded from this page, or a neutral placeholder.
    holder.classList.add('placeholder');
    const preview = state.previews.get(image.id);
    if (preview) {
      const img = el('img', { src: preview, alt: '', class: 'preview' });
      img.addEventListener('error', () => img.remove()); // a format this browser cannot show (HEIC)
      holder.append(img);
    }
    holder.append(el('span', { class: 'spinner', 'aria-hidden': 'true' }));
  }
  return holder;
}

function renderCard(image) {
  const taken = describeTakenAt(image.taken_at);
  const button = el(
    'button',
    { type: 'button', class: 'photo', 'aria-label': `Open ${image.filename ?? 'photo'}` },
    thumbnail(image, 'large'),
    statusBadge(image),
  );
  button.addEventListener('click', () => openViewer(image.id));
  return el(
    'li',
    { class: 'photo-card', 'data-image-id': image.id, 'data-processed': String(image.processed) },
    button,
    el(
      'div',
      { class: 'photo-caption' },
      el('span', { class: 'filename', title: image.filename ?? '' }, image.filename ?? 'Untitled'),
      taken
        ? el('time', { class: 'taken', datetime: image.taken_at, title: `Taken ${taken}` }, taken)
        : el('span', { class: 'taken muted' }, image.processed ? 'No date taken' : 'Reading date…'),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Uploads

async function uploadFiles(fileList) {
  const files = [...fileList].filter((file) => file.type.startsWith('image/') || /\.(heic|heif|avif|tiff?)$/i.test(file.name));
  if (!state.album) return notify('Open or create an album first.');
  if (files.length === 0) return notify('Those are not photos: choose image files.');
  state.uploading += files.length;
  renderAlbumMeta();
  try {
    // The signed upload form is valid for days; fetch a fresh one when it is about to expire.
    if (state.album.upload_form.expires_at - Date.now() / 1000 < 300) setAlbum(await api.album(state.album.id));
  } catch (error) {
    state.uploading -= files.length;
    return fail(error);
  }
  const rows = files.map((file) => ({ file, row: uploadRow(file) }));
  await eachLimited(rows, 3, async ({ file, row }) => {
    try {
      const result = await uploadFile(state.album.upload_form, file, (fraction) => row.progress(fraction));
      row.status('Adding to the album…');
      const image = await api.addUpload(state.album.id, result);
      if (!image.processed) state.previews.set(image.id, URL.createObjectURL(file));
      upsertImage(image);
      row.done();
    } catch (error) {
      row.failed(error.message);
      fail(error);
    } finally {
      state.uploading -= 1;
    }
  });
  await refresh();
}

function uploadRow(file) {
  const bar = el('progress', { max: '1', value: '0', 'aria-label': `Upload of ${file.name}` });
  const status = el('span', { class: 'upload-status' }, 'Waiting…');
  const row = el(
    'li',
    { class: 'upload' },
    el('div', { class: 'upload-line' }, el('span', { class: 'upload-name' }, file.name), el('span', { class: 'muted small' }, describeBytes(file.size))),
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
    done: () => {
      bar.value = 1;
      finish('ok', 'Added', 2500);
    },
    failed: (message) => finish('failed', message, 12000),
  };
}

// ---------------------------------------------------------------------------------------------
// Activity

const EVENT_LABELS = { new_image: 'New photo', processed_image: 'Photo processed', upload_done: 'Upload done' };

function renderEvents(events) {
  const list = $('#events');
  if (events.length === 0) {
    list.replaceChildren(el('li', { class: 'muted small event-empty' }, 'Nothing yet: upload a photo.'));
    return;
  }
  list.replaceChildren(
    ...events.map((event) => {
      const image = event.image_id && state.images.find((candidate) => candidate.id === event.image_id);
      const detail =
        event.type === 'upload_done' ? `${event.count} photo${event.count === 1 ? '' : 's'} reported` : (image?.filename ?? event.image_id ?? '');
      return el(
        'li',
        { class: `event ${event.type}`, 'data-type': event.type },
        el('span', { class: 'event-dot', 'aria-hidden': 'true' }),
        el('div', {}, el('strong', {}, EVENT_LABELS[event.type] ?? event.type), el('span', { class: 'muted small event-detail' }, detail)),
        el('time', { class: 'muted small', datetime: event.created_at }, new Date(event.created_at).toLocaleTimeString()),
      );
    }),
  );
}

async function uploadDone() {
  const button = $('#upload-done');
  button.disabled = true;
  try {
    await api.uploadDone(state.album.id);
    await refresh();
    notify('Upload done: the new photos were reported.', 'info');
  } catch (error) {
    fail(error);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// One photo

async function openViewer(id) {
  state.viewerId = id;
  const cached = state.images.find((image) => image.id === id);
  if (cached) renderViewer(cached);
  const dialog = $('#viewer');
  if (!dialog.open) dialog.showModal();
  try {
    renderViewer(await api.image(id));
  } catch (error) {
    fail(error);
  }
}

function closeViewer() {
  state.viewerId = null;
  $('#viewer').close();
}

function renderViewer(image) {
  const dialog = $('#viewer');
  dialog.dataset.imageId = image.id;
  dialog.dataset.processed = String(image.processed);
  $('#viewer-title').textContent = image.filename ?? 'Photo';

  const img = $('#viewer-image');
  const src = image.processed ? image.thumbnails.full : state.previews.get(image.id);
  if (src && img.getAttribute('src') !== src) img.src = src;
  img.hidden = !src;
  img.onerror = () => (img.hidden = true);
  img.alt = image.filename ?? 'photo';
  $('#viewer-pending').hidden = image.processed;

  const gps = describeGps(image.gps);
  const taken = describeTakenAt(image.taken_at);
  const facts = [
    ['Taken', taken ? el('time', { datetime: image.taken_at }, taken) : image.processed ? 'Unknown' : 'Reading…'],
    [
      'Location',
      gps
        ? el('span', {}, el('span', { class: 'gps' }, gps), el('a', { class: 'map-link', href: mapUrl(image.gps), target: '_blank', rel: 'noopener' }, 'Open in OpenStreetMap ↗'))
        : image.processed ? 'No GPS coordinates' : 'Reading…',
    ],
    ['Size', `${image.width} × ${image.height} px${typeof image.size === 'number' ? ` · ${describeBytes(image.size)}` : ''}`],
    ['Format', (image.format ?? 'unknown').toUpperCase()],
    ['Status', image.processed ? (image.processing_error ? `Processed (${image.processing_error})` : 'Processed') : 'Processing…'],
    ['Image id', el('code', {}, image.id)],
  ];
  $('#viewer-facts').replaceChildren(...facts.flatMap(([term, value]) => [el('dt', {}, term), el('dd', { 'data-fact': term.toLowerCase().replace(/\s+/g, '-') }, value)]));
  $('#download').href = image.original_url;

  const rows = Object.entries(image.exifs && typeof image.exifs === 'object' ? image.exifs : {});
  const body = $('#viewer-exif tbody');
  body.replaceChildren(
    ...(rows.length
      ? rows.map(([name, value]) => el('tr', {}, el('th', { scope: 'row' }, name), el('td', {}, exifValue(value))))
      : [el('tr', {}, el('td', { class: 'muted', colspan: '2' }, image.processed ? 'No EXIF in this file.' : 'Read once processed.'))]),
  );
}

function exifValue(value) {
  const text = typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
  return text.length > 160 ? `${text.slice(0, 160)}…` : text;
}

async function duplicate() {
  const button = $('#duplicate');
  button.disabled = true;
  try {
    const copy = await api.duplicate(state.viewerId);
    upsertImage(copy);
    notify(`Duplicated as a new photo (${copy.id.slice(0, 8)}…).`, 'info');
    await refresh();
  } catch (error) {
    fail(error);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Wiring

function wire() {
  $('#sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    session.token = $('#token-input').value.trim();
    $('#token-input').value = '';
    start();
  });
  $('#sign-out').addEventListener('click', () => {
    session.token = null;
    stopPolling();
    showSignIn();
  });
  $('#new-album').addEventListener('click', createAlbum);
  $('#open-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = $('#album-id-input');
    const id = input.value.trim();
    if (id) openAlbum(id).then(() => (input.value = ''));
  });
  $('#upload-done').addEventListener('click', uploadDone);
  $('#duplicate').addEventListener('click', duplicate);
  $('#viewer-close').addEventListener('click', closeViewer);
  $('#viewer').addEventListener('close', () => (state.viewerId = null));
  $('#viewer').addEventListener('click', (event) => {
    if (event.target === event.currentTarget) closeViewer(); // the backdrop
  });

  const input = $('#file-input');
  input.addEventListener('change', () => {
    uploadFiles(input.files);
    input.value = '';
  });
  const zone = $('#dropzone');
  zone.addEventListener('click', () => input.click());
  for (const name of ['dragenter', 'dragover']) {
    zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add('dragging');
    });
  }
  for (const name of ['dragleave', 'drop']) zone.addEventListener(name, () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    uploadFiles(event.dataTransfer.files);
  });
  // A photo dropped next to the zone must not navigate away from the page.
  window.addEventListener('dragover', (event) => event.preventDefault());
  window.addEventListener('drop', (event) => event.preventDefault());
  // A pasted link on the open page (`#token=…` or `#album=…`) changes only the hash: no reload.
  window.addEventListener('hashchange', () => {
    const params = new URLSearchParams(location.hash.slice(1));
    if (params.has('token')) return void start();
    const album = params.get('album');
    if (album && album !== state.album?.id && session.token) openAlbum(album);
  });
}

async function start() {
  session.takeFromLocation();
  if (!session.token) return showSignIn();
  showWorkspace();
  const album = new URLSearchParams(location.hash.slice(1)).get('album') ?? localStorage.getItem(ALBUM_KEY);
  if (album) await openAlbum(album);
}

wire();
start();
