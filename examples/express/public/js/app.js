// The albumkit demo page: sign in with a token, pick an album from the organization's list (or
// create, rename, merge, duplicate one), upload photos directly to Cloudinary, watch them get
// processed; in the viewer, go through the photos, caption, rotate, duplicate or delete one
// (undo restores it from the trash, which has its own view), tag it (coloured chips, an input
// with suggestions); in the grid, select several photos to tag them, copy them (a clipboard,
// pasted into another album) or delete them together (with undo); the header's box searches
// every album (a tag chip searches its tag).
import { albumList, askAlbumName } from './albums.js';
import { downloadZip, importForm, shareBox } from './delivery.js';
import { api, session, tokenClaims } from './api.js';
import { keepNoticesReachable, notify } from './notices.js';
import { searchView } from './search.js';
import { askTag, resolveTag, tagChip, tagLabel, tagNameProblem, tagPicker, tagQuery } from './tags.js';
import { eachLimited, isImageFile, uploadFile, uploadRow } from './upload.js';
import { describeBytes, describeGps, describeTakenAt, el, mapUrl, syncGrid, uuid, $ } from './ui.js';

const ALBUM_KEY = 'albumkit-demo.album';
/** The last copy: `{ id, count, from, fromName, pasted: [albumId…] }` (the clipboard is on the server). */
const CLIPBOARD_KEY = 'albumkit-demo.clipboard';
const POLL_MS = 1500;

const state = {
  album: null,
  images: [],
  /** Local previews of the photos uploaded from this page, by image id, shown until processed. */
  previews: new Map(),
  cards: new Map(),
  pollTimer: 0,
  viewerId: null,
  /** The photos the viewer goes through: the open album's (`album`) or the search results (`search`). */
  viewerList: 'album',
  /** The tags of the photo in the viewer: its links (`[{id, tag}]`), null while they load. */
  viewerTags: { imageId: null, links: null },
  uploading: 0,
  /** Filenames of the photos seen, by id: the trash lists ids and thumbnails only. */
  names: new Map(),
  trashOpen: false,
  /** Select mode, and the ids of the photos selected in the open album. */
  selecting: false,
  selected: new Set(),
  /** A copy or delete of the selection is under way. */
  busy: false,
};

const clipboard = {
  get() {
    try {
      return JSON.parse(localStorage.getItem(CLIPBOARD_KEY) ?? 'null');
    } catch {
      return null;
    }
  },
  set(value) {
    if (value) localStorage.setItem(CLIPBOARD_KEY, JSON.stringify(value));
    else localStorage.removeItem(CLIPBOARD_KEY);
  },
};

const albums = albumList({ onOpen: (id) => openAlbum(id), onError: (error) => fail(error) });

const share = shareBox();

const search = searchView({
  card: (image) => renderCard(image, { inSearch: true }),
  keyOf: (image) => `${cardKey(image)}|${image.album_id}`,
  onError: (error) => fail(error),
  // The results take the album's place (the album list stays, to go back to one).
  onToggle: (open) => $('#workspace').classList.toggle('searching', open),
});

// ---------------------------------------------------------------------------------------------
// Notices and errors

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

function showSignIn() {
  $('#workspace').hidden = true;
  $('#session').hidden = true;
  $('#search-form').hidden = true;
  search.close();
  $('#sign-in').hidden = false;
  $('#token-input').focus();
}

function showWorkspace() {
  $('#sign-in').hidden = true;
  $('#workspace').hidden = false;
  $('#session').hidden = false;
  $('#search-form').hidden = false;
  const claims = tokenClaims(session.token ?? '');
  $('#session-label').textContent = claims.admin ? 'Signed in · demo admin' : 'Signed in';
}

// ---------------------------------------------------------------------------------------------
// Album

async function openAlbum(id) {
  search.close();
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
  search.close();
  try {
    setAlbum(await api.createAlbum());
    await Promise.all([refresh(), albums.load()]);
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
    state.selecting = false;
    state.selected.clear();
    showTrash(false);
  }
  state.album = album;
  albums.setCurrent(album.id);
  localStorage.setItem(ALBUM_KEY, album.id);
  history.replaceState(null, '', `#album=${encodeURIComponent(album.id)}`);
  // An album's name is its id (a UUID from New album, or the name it was renamed to).
  $('#album-title').replaceChildren(el('span', { class: 'album-name-heading', title: album.id }, album.public_id ?? album.id));
  $('#album-view').hidden = false;
  $('#intro').hidden = true;
  renderAlbumMeta();
  renderSelection();
  renderClipboard();
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
    for (const image of images) state.names.set(image.id, image.filename);
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

/** An image made or edited here: in the album's grid (when it is the open album's), and in the search results. */
function upsertImage(image) {
  state.names.set(image.id, image.filename);
  search.update(image);
  const index = state.images.findIndex((existing) => existing.id === image.id);
  if (index >= 0) state.images[index] = image;
  else if (image.album_id === state.album?.id) state.images.push(image);
  else return;
  renderGrid();
}

// ---------------------------------------------------------------------------------------------
// Grid

/** What a card shows: when it changes, the card is rendered again. */
const cardKey = (image) => `${image.processed}|${image.taken_at}|${image.filename}|${image.title}|${image.thumbnails.large}`;

function renderGrid() {
  const seen = syncGrid($('#grid'), state.images, state.cards, { keyOf: cardKey, render: (image) => renderCard(image) });
  // A selected photo gone (deleted, moved, from here or elsewhere) leaves the selection.
  for (const id of state.selected) if (!seen.has(id)) state.selected.delete(id);
  if (state.images.length === 0) state.selecting = false;
  renderSelection();
  renderAlbumMeta();
  if (state.viewerId) renderNavigation();
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

/** A photo of the grid; `inSearch`: a search result (its album named, no tick box, the viewer goes through the results). */
function renderCard(image, { inSearch = false } = {}) {
  const taken = describeTakenAt(image.taken_at);
  const button = el(
    'button',
    { type: 'button', class: 'photo', 'aria-label': `Open ${image.filename ?? 'photo'}` },
    thumbnail(image, 'large'),
    statusBadge(image),
  );
  button.addEventListener('click', () => openViewer(image.id, inSearch ? 'search' : 'album'));
  // The tick box; in select mode its label covers the photo, so a tap anywhere on it selects.
  let box = null;
  if (!inSearch) {
    box = el('input', { type: 'checkbox', class: 'select-input', 'aria-label': `Select ${image.filename ?? 'photo'}` });
    box.addEventListener('change', () => toggleSelected(image.id, box.checked));
  }
  const card = el(
    'li',
    { class: 'photo-card', 'data-image-id': image.id, 'data-processed': String(image.processed) },
    el('div', { class: 'photo-frame' }, button, box ? el('label', { class: 'select-box' }, box) : null),
    el(
      'div',
      { class: 'photo-caption' },
      el('span', { class: 'filename', title: image.filename ?? '' }, image.filename ?? 'Untitled'),
      image.title ? el('span', { class: 'photo-title', title: image.title }, image.title) : null,
      taken
        ? el('time', { class: 'taken', datetime: image.taken_at, title: `Taken ${taken}` }, taken)
        : el('span', { class: 'taken muted' }, image.processed ? 'No date taken' : 'Reading date…'),
      inSearch ? el('span', { class: 'photo-album muted small', title: `Album ${image.album_id}` }, `in ${image.album_id}`) : null,
    ),
  );
  if (!inSearch) paintSelection(card, image.id);
  return card;
}

// ---------------------------------------------------------------------------------------------
// Uploads

/** The message for files that are not images: named, so that nothing is dropped silently. */
function notImagesMessage(rejected) {
  const names = rejected.map((file) => `“${file.name}”`);
  const listed = names.length <= 3 ? names.join(', ') : `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`;
  return rejected.length === 1
    ? `${listed} is not an image, so it was not uploaded. Only photos can be added: JPEG, PNG, HEIC, TIFF, AVIF…`
    : `${listed} are not images, so they were not uploaded. Only photos can be added: JPEG, PNG, HEIC, TIFF, AVIF…`;
}

async function uploadFiles(fileList) {
  if (!state.album) return notify('Open or create an album first.');
  const all = [...fileList];
  const files = all.filter(isImageFile);
  const rejected = all.filter((file) => !isImageFile(file));
  if (rejected.length) {
    for (const file of rejected) uploadRow(file.name, describeBytes(file.size)).failed('Not an image: not uploaded');
    notify(notImagesMessage(rejected));
  }
  if (files.length === 0) return;
  state.uploading += files.length;
  renderAlbumMeta();
  try {
    // The signed upload form is valid for days; fetch a fresh one when it is about to expire.
    if (state.album.upload_form.expires_at - Date.now() / 1000 < 300) setAlbum(await api.album(state.album.id));
  } catch (error) {
    state.uploading -= files.length;
    return fail(error);
  }
  const rows = files.map((file) => ({ file, row: uploadRow(file.name, describeBytes(file.size)) }));
  await eachLimited(rows, 3, async ({ file, row }) => {
    try {
      const result = await uploadFile(state.album.upload_form, file, (fraction) => row.progress(fraction));
      row.status('Adding to the album…');
      const image = await api.addUpload(state.album.id, result);
      if (!image.processed) state.previews.set(image.id, URL.createObjectURL(file));
      upsertImage(image);
      row.done();
    } catch (error) {
      // The storage server reads the file: one that only looks like a photo is refused there.
      const unreadable = /invalid image file/i.test(error.message);
      row.failed(unreadable ? 'Not an image the server can read: not uploaded' : error.message);
      if (unreadable) notify(`“${file.name}” is not an image the server can read, so it was not uploaded.`);
      else fail(error);
    } finally {
      state.uploading -= 1;
    }
  });
  await Promise.all([refresh(), albums.load()]);
}

// ---------------------------------------------------------------------------------------------
// Activity

const EVENT_LABELS = {
  new_image: 'New photo',
  processed_image: 'Photo processed',
  upload_done: 'Upload done',
  update_image: 'Photo edited',
  delete_image: 'Moved to the trash',
  restore_image: 'Restored from the trash',
  move_image: 'Photo moved',
  copy_image: 'Photo copied',
  tag_image: 'Tagged',
  untag_image: 'Tag removed',
};

/** The activity read again (after tagging: the photos themselves did not change). */
async function refreshEvents() {
  const albumId = state.album?.id;
  if (!albumId) return;
  const events = await api.events(albumId).catch(() => null);
  if (events && state.album?.id === albumId) renderEvents(events);
}

function renderEvents(events) {
  const list = $('#events');
  if (events.length === 0) {
    list.replaceChildren(el('li', { class: 'muted small event-empty' }, 'Nothing yet: upload a photo.'));
    return;
  }
  list.replaceChildren(
    ...events.map((event) => {
      const image = event.image_id && state.images.find((candidate) => candidate.id === event.image_id);
      const name = image?.filename ?? state.names.get(event.image_id) ?? event.image_id ?? '';
      const detail =
        event.type === 'upload_done' ? `${event.count} photo${event.count === 1 ? '' : 's'} reported` : event.tag_name ? `${event.tag_name} · ${name}` : name;
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

/** The photos the viewer goes through, in their grid's order. */
const shownList = () => (state.viewerList === 'search' ? search.images : state.images);

/** Opens the photo; `list`: the grid it was opened from (`album` or `search`), for previous/next. */
async function openViewer(id, list = state.viewerList) {
  const changed = state.viewerId !== id;
  state.viewerId = id;
  state.viewerList = list;
  const cached = shownList().find((image) => image.id === id) ?? state.images.find((image) => image.id === id);
  if (changed || state.viewerTags.imageId !== id) loadViewerTags(id);
  if (cached) renderViewer(cached, { fresh: changed });
  const dialog = $('#viewer');
  if (!dialog.open) {
    dialog.showModal();
    keepNoticesReachable();
  }
  try {
    const image = await api.image(id);
    if (state.viewerId === id) renderViewer(image, { fresh: changed && !cached });
  } catch (error) {
    fail(error);
  }
}

/** Previous (-1) or next (+1) photo of the album, in the grid's order. */
function step(offset) {
  const images = shownList();
  const index = images.findIndex((image) => image.id === state.viewerId);
  const target = images[index + offset];
  if (index >= 0 && target) openViewer(target.id);
}

function renderNavigation() {
  const images = shownList();
  const index = images.findIndex((image) => image.id === state.viewerId);
  const prev = $('#viewer-prev');
  const next = $('#viewer-next');
  prev.disabled = index <= 0;
  next.disabled = index < 0 || index >= images.length - 1;
  $('#viewer-position').textContent = index >= 0 ? `${index + 1} of ${images.length}` : '';
}

function closeViewer() {
  state.viewerId = null;
  $('#viewer').close();
}

/** Shows `image`; `fresh`: another photo than the one shown, so its caption fields are filled again. */
function renderViewer(image, { fresh = false } = {}) {
  const dialog = $('#viewer');
  dialog.dataset.imageId = image.id;
  dialog.dataset.processed = String(image.processed);
  dialog.dataset.albumId = image.album_id;
  $('#viewer-title').textContent = image.filename ?? 'Photo';
  share.reset(image.id);

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
    ['Caption', image.title || image.description ? [image.title, image.description].filter(Boolean).join(' · ') : 'None'],
    ['Rotation', `${image.rotation ?? 0}°`],
    ['Size', `${image.width} × ${image.height} px${typeof image.size === 'number' ? ` · ${describeBytes(image.size)}` : ''}`],
    ['Format', (image.format ?? 'unknown').toUpperCase()],
    ['Status', image.processed ? (image.processing_error ? `Processed (${image.processing_error})` : 'Processed') : 'Processing…'],
    ['Image id', el('code', {}, image.id)],
  ];
  $('#viewer-facts').replaceChildren(...facts.flatMap(([term, value]) => [el('dt', {}, term), el('dd', { 'data-fact': term.toLowerCase().replace(/\s+/g, '-') }, value)]));
  $('#download').href = image.original_url;
  dialog.dataset.rotation = String(image.rotation ?? 0);
  renderNavigation();
  renderCaption(image, fresh);

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

/** The caption fields: filled from the image when another photo is shown or nothing was typed. */
function renderCaption(image, fresh) {
  const form = $('#caption-form');
  const title = $('#caption-title');
  const description = $('#caption-description');
  if (fresh || !form.dataset.dirty) {
    title.value = image.title ?? '';
    description.value = image.description ?? '';
    delete form.dataset.dirty;
    if (fresh) $('#caption-status').textContent = '';
  }
}

// ---------------------------------------------------------------------------------------------
// The viewer's tags: chips (a click searches the tag, × takes it off), an input that adds one

/** Reads the photo's tags (its links: the link id is what DELETE /tag_images takes). */
async function loadViewerTags(id) {
  state.viewerTags = { imageId: id, links: null };
  $('#tag-input').value = '';
  viewerPicker.close();
  renderViewerTags();
  try {
    const links = await api.imageTags(id);
    if (state.viewerTags.imageId === id) {
      state.viewerTags.links = links;
      renderViewerTags();
    }
  } catch (error) {
    if (state.viewerTags.imageId === id) fail(error);
  }
}

function renderViewerTags() {
  const { links } = state.viewerTags;
  $('#viewer-tags').setAttribute('aria-busy', String(links === null));
  $('#viewer-tags-empty').hidden = links === null || links.length > 0;
  $('#viewer-tags').replaceChildren(
    ...(links ?? []).map((link) => tagChip(link.tag, { onSearch: searchTag, onRemove: (button) => removeTag(link, button) })),
  );
}

/** The tag ids the photo has: not suggested again. */
const viewerTagIds = () => new Set((state.viewerTags.links ?? []).map((link) => link.tag.id));

/** Tags the photo with the tag picked (or named: created when new); the input stays, for the next one. */
async function addTag(choice) {
  const id = state.viewerTags.imageId;
  const input = $('#tag-input');
  if (!id || (!choice.tag && !choice.name)) return;
  const problem = choice.tag ? null : tagNameProblem(choice.name);
  if (problem) return notify(problem);
  const button = $('#tag-add');
  button.disabled = true;
  try {
    const tag = await resolveTag(choice);
    const [link] = await api.tagImages(tag.id, [id]);
    if (state.viewerTags.imageId !== id) return;
    if (input.value.trim() === (choice.tag?.name ?? choice.name)) input.value = '';
    const links = state.viewerTags.links ?? [];
    if (link && !links.some((known) => known.id === link.id)) state.viewerTags.links = [...links, link];
    renderViewerTags();
    refreshEvents();
  } catch (error) {
    // The photo deleted or moved meanwhile refuses with a bare 401: tell it apart from a missing right.
    if (error.status === 401 && !error.sessionExpired && (await api.image(id).then(() => false, () => true))) {
      notify('The photo was not tagged: it was deleted or moved meanwhile.');
    } else {
      fail(error);
    }
  } finally {
    button.disabled = false;
  }
}

async function removeTag(link, button) {
  const id = state.viewerTags.imageId;
  button.disabled = true;
  try {
    await api.untag(link.id);
  } catch (error) {
    // Already gone (taken off elsewhere): the chip goes all the same.
    if (error.status !== 404) {
      button.disabled = false;
      return fail(error);
    }
  }
  if (state.viewerTags.imageId !== id) return;
  const chips = [...$('#viewer-tags').children];
  const at = chips.findIndex((chip) => chip.contains(button));
  state.viewerTags.links = (state.viewerTags.links ?? []).filter((known) => known.id !== link.id);
  renderViewerTags();
  refreshEvents();
  // The focus goes to the next chip's ×, or the input.
  const after = $('#viewer-tags').children[Math.min(at, $('#viewer-tags').children.length - 1)];
  (after?.querySelector('.chip-remove') ?? $('#tag-input')).focus();
}

/** A chip clicked: the photos with this tag, from every album. */
function searchTag(tag) {
  closeViewer();
  search.run(tagQuery(tag.name));
}

const viewerPicker = tagPicker($('#tag-input'), $('#tag-suggestions'), {
  onPick: addTag,
  onError: (error) => fail(error),
  exclude: viewerTagIds,
});

async function saveCaption(event) {
  event.preventDefault();
  const id = state.viewerId;
  const button = $('#caption-save');
  const status = $('#caption-status');
  const title = $('#caption-title').value.trim();
  const description = $('#caption-description').value.trim();
  button.disabled = true;
  status.textContent = 'Saving…';
  try {
    const image = await api.editImage(id, { title: title || null, description: description || null }, 'caption this photo');
    delete $('#caption-form').dataset.dirty;
    upsertImage(image);
    if (state.viewerId === id) renderViewer(image, { fresh: false });
    status.textContent = 'Caption saved';
  } catch (error) {
    status.textContent = '';
    fail(error);
  } finally {
    button.disabled = false;
  }
}

/** Turns the photo a quarter clockwise (90) or anticlockwise (-90): every rendition follows. */
async function rotate(degrees) {
  const id = state.viewerId;
  const current = shownList().find((image) => image.id === id)?.rotation ?? Number($('#viewer').dataset.rotation ?? 0);
  const buttons = [$('#rotate-left'), $('#rotate-right')];
  for (const button of buttons) button.disabled = true;
  try {
    const image = await api.editImage(id, { rotation: (((current + degrees) % 360) + 360) % 360 }, 'rotate this photo');
    upsertImage(image);
    if (state.viewerId === id) renderViewer(image);
  } catch (error) {
    fail(error);
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}

/** To the trash, with an Undo that restores it; the viewer goes on to the next photo. */
async function deleteShown() {
  const id = state.viewerId;
  const index = shownList().findIndex((image) => image.id === id);
  const name = state.names.get(id) ?? 'The photo';
  const button = $('#delete');
  button.disabled = true;
  try {
    await api.deleteImage(id);
  } catch (error) {
    button.disabled = false;
    return fail(error);
  }
  button.disabled = false;
  state.images = state.images.filter((image) => image.id !== id);
  search.remove(id);
  renderGrid();
  const following = shownList()[index] ?? shownList()[index - 1];
  if (state.viewerId === id) {
    if (following) openViewer(following.id);
    else closeViewer();
  }
  notify(`${name} was moved to the trash.`, 'info', { action: { label: 'Undo', run: () => restore(id) } });
  albums.load();
  if (state.trashOpen) loadTrash();
}

/** Into another album of the organization (created when missing); the viewer goes on. */
function moveShown() {
  const id = state.viewerId;
  // From a search, the photo's own album (not necessarily the open one).
  const from = $('#viewer').dataset.albumId || state.album.id;
  const name = state.names.get(id) ?? 'The photo';
  askAlbumName({
    title: 'Move to another album',
    help: `${name} leaves “${from}” for the album you name (a new name creates that album).`,
    label: 'Album to move it to',
    submit: 'Move',
    check: (target) => (target === from ? 'It is already in this album: choose another one.' : null),
    async run(target) {
      await api.moveImages({ [id]: target });
      if (state.viewerList === 'search') {
        // Still a result (in its new album): read again.
        state.images = state.images.filter((image) => image.id !== id);
        renderGrid();
        api.image(id).then(upsertImage, () => {});
        if (state.viewerId === id) $('#viewer').dataset.albumId = target;
      } else {
        const index = state.images.findIndex((image) => image.id === id);
        state.images = state.images.filter((image) => image.id !== id);
        renderGrid();
        const following = state.images[index] ?? state.images[index - 1];
        if (state.viewerId === id) {
          if (following) openViewer(following.id);
          else closeViewer();
        }
      }
      notify(`${name} was moved to “${target}”.`, 'info');
      await albums.load();
    },
  });
}

async function restore(id) {
  try {
    const image = await api.restore(id);
    if (image.album_id === state.album?.id) upsertImage(image); // not into another album opened since
    else state.names.set(image.id, image.filename);
    notify(`${state.names.get(id) ?? 'The photo'} is back in the album.`, 'info');
    await Promise.all([refresh(), albums.load(), state.trashOpen ? loadTrash() : null]);
  } catch (error) {
    fail(error);
  }
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
// Selecting photos: copy (a clipboard on the server), paste into another album, delete together

const photos = (count) => `${count} photo${count === 1 ? '' : 's'}`;

/** “canon-dslr” for one photo, “3 photos” for more. */
function describeSelection(ids) {
  return ids.length === 1 ? (state.names.get(ids[0]) ?? 'The photo') : photos(ids.length);
}

/** The selected ids, in the grid's order. */
function selectedIds() {
  return state.images.filter((image) => state.selected.has(image.id)).map((image) => image.id);
}

function paintSelection(card, id) {
  const selected = state.selected.has(id);
  card.classList.toggle('selected', selected);
  card.querySelector('.select-input').checked = selected;
  // While selecting, a tap selects: the photo's own button (open the viewer) is out of the way.
  card.querySelector('.photo').inert = state.selecting;
}

function renderSelection() {
  const count = state.selected.size;
  const total = state.images.length;
  $('#grid').classList.toggle('selecting', state.selecting);
  $('#selection-bar').hidden = !state.selecting;
  $('#select-mode').hidden = state.selecting || total === 0;
  $('#selection-count').textContent = count ? `${count} selected` : 'No photo selected';
  $('#select-all').textContent = total > 0 && count === total ? 'Select none' : 'Select all';
  $('#copy-selected').disabled = count === 0 || state.busy;
  $('#download-selected').disabled = count === 0 || state.busy;
  $('#tag-selected').disabled = count === 0 || state.busy;
  $('#delete-selected').disabled = count === 0 || state.busy;
  for (const [id, entry] of state.cards) paintSelection(entry.node, id);
}

function toggleSelected(id, selected) {
  if (selected) state.selected.add(id);
  else state.selected.delete(id);
  if (selected) state.selecting = true; // a tick outside select mode starts it
  renderSelection();
}

function startSelecting() {
  state.selecting = true;
  renderSelection();
  $('#grid .select-input')?.focus({ preventScroll: true });
}

function stopSelecting() {
  const hadFocus = $('#selection-bar').contains(document.activeElement);
  state.selecting = false;
  state.selected.clear();
  renderSelection();
  if (hadFocus && !$('#select-mode').hidden) $('#select-mode').focus();
}

function selectAll() {
  const all = state.images.length > 0 && state.selected.size === state.images.length;
  state.selected = new Set(all ? [] : state.images.map((image) => image.id));
  renderSelection();
}

function setBusy(busy) {
  state.busy = busy;
  renderSelection();
}

/**
 * A refused copy or delete. Both are all or nothing: a photo deleted or moved meanwhile (in
 * another tab, by someone else) refuses the whole request with a bare 401, so the album is read
 * again to tell that apart from a missing right; the photos still here stay selected.
 */
async function explainRefusal(error, ids, verb) {
  const message = await refusalMessage(error, ids, verb);
  if (message) notify(message);
  else fail(error);
}

/** The words for a refusal caused by photos gone meanwhile; null when it is something else. */
async function refusalMessage(error, ids, verb) {
  if (error.status === 401 && !error.sessionExpired && state.album) {
    await refresh();
    const live = new Set(state.images.map((image) => image.id));
    const gone = ids.filter((id) => !live.has(id)).length;
    if (gone > 0) {
      const which = gone === ids.length ? (ids.length === 1 ? 'the selected photo was' : 'the selected photos were') : `${gone} of the ${ids.length} selected photos ${gone === 1 ? 'was' : 'were'}`;
      const rest = gone < ids.length ? ' The others are still selected: try again.' : '';
      return `Nothing was ${verb}: ${which} deleted or moved meanwhile.${rest}`;
    }
  }
  return null;
}

/** One tag on every selected photo, in one request (all or nothing); a refusal stays in the dialog. */
function tagSelected() {
  const ids = selectedIds();
  if (ids.length === 0 || state.busy) return;
  const what = describeSelection(ids);
  askTag({
    title: ids.length === 1 ? 'Tag the selected photo' : `Tag ${photos(ids.length)}`,
    help: `${what} ${ids.length === 1 ? 'gets' : 'get'} the tag you pick, or the one you type (a new name creates it): all of them or none.`,
    submit: 'Tag',
    onFatal: fail,
    async run(tag) {
      setBusy(true);
      try {
        await api.tagImages(tag.id, ids);
      } catch (error) {
        if (error.sessionExpired) throw error;
        throw new Error((await refusalMessage(error, ids, 'tagged')) ?? error.message);
      } finally {
        setBusy(false);
      }
      stopSelecting();
      notify(`${what} ${ids.length === 1 ? 'was' : 'were'} tagged “${tagLabel(tag)}”.`, 'info', {
        action: { label: 'Show', run: () => search.run(tagQuery(tag.name)) },
      });
      if (ids.includes(state.viewerTags.imageId)) loadViewerTags(state.viewerTags.imageId);
      refreshEvents();
    },
  });
}

async function copySelected() {
  const ids = selectedIds();
  if (ids.length === 0 || state.busy) return;
  const from = state.album;
  setBusy(true);
  try {
    const id = uuid(); // the client names the clipboard
    await api.createClipboard(id, ids);
    clipboard.set({ id, count: ids.length, from: from.id, fromName: from.public_id ?? from.id, pasted: [] });
    stopSelecting();
    renderClipboard();
    notify(`${describeSelection(ids)} copied. Open another album and choose “Paste here”.`, 'info');
  } catch (error) {
    await explainRefusal(error, ids, 'copied');
  } finally {
    setBusy(false);
  }
}

function renderClipboard() {
  const copied = clipboard.get();
  const bar = $('#clipboard-bar');
  bar.hidden = !copied || !state.album;
  if (bar.hidden) return;
  const what = photos(copied.count);
  const source = state.album.id === copied.from;
  const pasted = copied.pasted?.includes(state.album.id);
  $('#clipboard-label').textContent = source
    ? `${what} copied from this album: open another album to paste ${copied.count === 1 ? 'it' : 'them'}.`
    : `${what} copied from “${copied.fromName}”${pasted ? ', pasted here' : ''}.`;
  const paste = $('#paste');
  paste.hidden = source;
  paste.textContent = pasted ? 'Paste again' : `Paste ${what} here`;
}

/** Pastes the clipboard into the open album: the copies (sharing the stored files) join the grid. */
async function pasteClipboard() {
  const copied = clipboard.get();
  if (!copied || !state.album) return;
  const album = state.album;
  const button = $('#paste');
  button.disabled = true;
  let copies;
  try {
    copies = await api.paste(copied.id, album.id);
  } catch (error) {
    if (error.status === 404) {
      // The only thing that can be missing: the album is created on demand.
      clipboard.set(null);
      renderClipboard();
      return notify('The copied photos are no longer on the server’s clipboard: nothing was pasted. Copy them again.');
    }
    return fail(error);
  } finally {
    button.disabled = false;
  }
  clipboard.set({ ...copied, pasted: [...new Set([...(copied.pasted ?? []), album.id])] });
  if (state.album?.id === album.id) {
    for (const copy of copies) {
      state.names.set(copy.id, copy.filename);
      if (!state.images.some((image) => image.id === copy.id)) state.images.push(copy);
    }
    renderGrid();
  }
  renderClipboard();
  const name = album.public_id ?? album.id;
  const left = copied.count - copies.length;
  if (copies.length === 0) notify(`Nothing was pasted: the ${copied.count === 1 ? 'copied photo was' : 'copied photos were'} deleted since the copy.`);
  else if (left > 0) notify(`Pasted ${photos(copies.length)} into “${name}”; ${photos(left)} deleted since the copy ${left === 1 ? 'was' : 'were'} left out.`, 'info');
  else notify(`Pasted ${photos(copies.length)} into “${name}”.`, 'info');
  await Promise.all([refresh(), albums.load()]);
}

/** To the trash together (all or nothing), with an Undo that restores every one of them. */
/** A zip of the selected photos, which the browser downloads from its signed link. */
async function downloadSelected() {
  const ids = selectedIds();
  if (ids.length === 0 || state.busy) return;
  setBusy(true);
  try {
    await downloadZip(ids);
    notify(`Downloading ${describeSelection(ids)} as a zip.`, 'info');
  } catch (error) {
    await explainRefusal(error, ids, 'downloaded');
  } finally {
    setBusy(false);
  }
}

async function deleteSelected() {
  const ids = selectedIds();
  if (ids.length === 0 || state.busy) return;
  const what = describeSelection(ids);
  setBusy(true);
  try {
    await api.deleteImages(ids);
  } catch (error) {
    setBusy(false);
    return explainRefusal(error, ids, 'deleted');
  }
  setBusy(false);
  const gone = new Set(ids);
  state.images = state.images.filter((image) => !gone.has(image.id));
  stopSelecting();
  renderGrid();
  notify(`${what} ${ids.length === 1 ? 'was' : 'were'} moved to the trash.`, 'info', { action: { label: 'Undo', run: () => restoreAll(ids) } });
  albums.load();
  if (state.trashOpen) loadTrash();
}

/** Restores the photos one by one (the API restores one per request); tells any left in the trash. */
async function restoreAll(ids) {
  const failures = [];
  const restored = [];
  await eachLimited(ids, 4, async (id) => {
    try {
      restored.push(await api.restore(id));
    } catch (error) {
      failures.push(error);
    }
  });
  for (const image of restored) {
    state.names.set(image.id, image.filename);
    if (image.album_id === state.album?.id && !state.images.some((shown) => shown.id === image.id)) state.images.push(image);
  }
  if (restored.length) renderGrid();
  const expired = failures.find((error) => error.sessionExpired);
  if (expired) fail(expired);
  else if (failures.length) notify(`${failures.length} of the ${photos(ids.length)} could not be restored and ${failures.length === 1 ? 'is' : 'are'} still in the trash: ${failures[0].message}`);
  else notify(`${describeSelection(ids)} ${ids.length === 1 ? 'is' : 'are'} back in the album.`, 'info');
  await Promise.all([refresh(), albums.load(), state.trashOpen ? loadTrash() : null]);
}

// ---------------------------------------------------------------------------------------------
// Trash

function showTrash(open) {
  state.trashOpen = open;
  if (open && state.selecting) stopSelecting();
  $('#trash-view').hidden = !open;
  $('#photos-view').hidden = open;
  if (open) {
    loadTrash().then(() => $('#hide-trash').focus());
  }
}

const deletedFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

async function loadTrash() {
  if (!state.album) return;
  const albumId = state.album.id;
  let trashed;
  try {
    trashed = await api.trash(albumId);
  } catch (error) {
    return fail(error);
  }
  if (state.album?.id !== albumId) return;
  $('#trash-count').textContent = trashed.length ? String(trashed.length) : '';
  $('#trash-empty').hidden = trashed.length > 0;
  $('#trash-grid').replaceChildren(...trashed.map(trashCard));
}

function trashCard(entry) {
  const name = state.names.get(entry.id) ?? `Photo ${entry.id.slice(0, 8)}`;
  const holder = el('div', { class: 'thumb' });
  // An unprocessed image's URL is a placeholder (`/assets/blank.jpg#…`): a neutral tile instead.
  if (!entry.thumbnail_url.includes('#')) {
    const img = el('img', { src: entry.thumbnail_url, alt: name, loading: 'lazy', decoding: 'async' });
    img.addEventListener('load', () => holder.classList.add('loaded'));
    img.addEventListener('error', () => holder.classList.add('broken'));
    holder.append(img);
  }
  const deleted = entry.deleted_at ? new Date(entry.deleted_at) : null;
  const button = el('button', { type: 'button', class: 'button small', 'aria-label': `Restore ${name}` }, 'Restore');
  button.addEventListener('click', async () => {
    button.disabled = true;
    await restore(entry.id);
    button.disabled = false;
  });
  return el(
    'li',
    { class: 'photo-card trashed', 'data-image-id': entry.id },
    el('div', { class: 'photo' }, holder),
    el(
      'div',
      { class: 'photo-caption' },
      el('span', { class: 'filename', title: name }, name),
      deleted ? el('time', { class: 'taken', datetime: entry.deleted_at }, `Deleted ${deletedFormat.format(deleted)}`) : null,
      button,
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Album names: rename, merge, duplicate

function renameAlbum() {
  const from = state.album.id;
  askAlbumName({
    title: 'Rename the album',
    help: `The album “${from}” keeps its photos under its new name.`,
    label: 'New name',
    submit: 'Rename',
    value: from,
    check: (name) =>
      name === from ? 'That is already its name.' : albums.find(name) ? `An album named “${name}” already exists: use “Merge into…” to move the photos into it.` : null,
    async run(name) {
      const renamed = await api.renameAlbum(from, name);
      // The answer carries no upload form: the album's own read gives it.
      await openAlbum(renamed.id ?? name);
      await albums.load();
      notify(`Renamed to “${name}”.`, 'info');
    },
  });
}

function mergeAlbum() {
  const from = state.album.id;
  askAlbumName({
    title: 'Merge into another album',
    help: `Every photo of “${from}” moves into the album you choose, and “${from}” is removed.`,
    label: 'Album to merge into',
    submit: 'Merge',
    check: (name) =>
      name === from ? 'Choose another album than this one.' : albums.find(name) ? null : `No album named “${name}”: choose one of the list (to give this album a new name, rename it).`,
    async run(name) {
      const merged = await api.mergeAlbum(from, name);
      await openAlbum(merged?.id ?? name);
      await albums.load();
      notify(`Merged “${from}” into “${name}”.`, 'info');
    },
  });
}

function duplicateAlbum() {
  const from = state.album.id;
  askAlbumName({
    title: 'Duplicate the album',
    help: `A new album with a copy of every photo of “${from}” (the copies share the stored files).`,
    label: 'Name of the copy',
    submit: 'Duplicate',
    value: `${from}-copy`,
    check: (name) => (name === from ? 'Choose another name than this album’s.' : albums.find(name) ? `An album named “${name}” already exists: choose a new name.` : null),
    async run(name) {
      const copy = await api.duplicateAlbum(from, name);
      await openAlbum(copy?.id ?? name);
      await albums.load();
      notify(`Duplicated as “${name}”.`, 'info');
    },
  });
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
    clipboard.set(null); // the next sign-in may be another organization's
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
  $('#viewer-prev').addEventListener('click', () => step(-1));
  $('#viewer-next').addEventListener('click', () => step(1));
  // On the document: a button that gets disabled (the first or last photo) drops the focus to the body.
  document.addEventListener('keydown', (event) => {
    if (!$('#viewer').open || $('#album-dialog').open || $('#tag-dialog').open) return;
    if (event.target.closest?.('input, textarea, select') || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === 'ArrowLeft') step(-1);
    else if (event.key === 'ArrowRight') step(1);
    else return;
    event.preventDefault();
  });
  $('#rotate-left').addEventListener('click', () => rotate(-90));
  $('#rotate-right').addEventListener('click', () => rotate(90));
  $('#delete').addEventListener('click', deleteShown);
  $('#move').addEventListener('click', moveShown);
  $('#caption-form').addEventListener('submit', saveCaption);
  $('#caption-form').addEventListener('input', () => ($('#caption-form').dataset.dirty = '1'));
  $('#show-trash').addEventListener('click', () => showTrash(true));
  $('#hide-trash').addEventListener('click', () => {
    showTrash(false);
    $('#show-trash').focus();
  });
  $('#select-mode').addEventListener('click', startSelecting);
  $('#select-cancel').addEventListener('click', stopSelecting);
  $('#select-all').addEventListener('click', selectAll);
  $('#copy-selected').addEventListener('click', copySelected);
  $('#download-selected').addEventListener('click', downloadSelected);
  $('#share-link').addEventListener('click', () => share.make().catch(fail));
  importForm({
    album: () => state.album,
    onImage: (image) => {
      upsertImage(image);
      refresh();
      albums.load();
    },
    fail,
  });
  $('#tag-selected').addEventListener('click', tagSelected);
  $('#tag-form').addEventListener('submit', (event) => {
    event.preventDefault();
    addTag(viewerPicker.typed());
  });
  $('#delete-selected').addEventListener('click', deleteSelected);
  $('#paste').addEventListener('click', pasteClipboard);
  $('#clear-clipboard').addEventListener('click', () => {
    clipboard.set(null);
    renderClipboard();
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && state.selecting && !document.querySelector('dialog[open]')) stopSelecting();
  });
  // A copy made in another tab of the demo can be pasted here.
  window.addEventListener('storage', (event) => {
    if (event.key === CLIPBOARD_KEY) renderClipboard();
  });
  $('#rename-album').addEventListener('click', renameAlbum);
  $('#merge-album').addEventListener('click', mergeAlbum);
  $('#duplicate-album').addEventListener('click', duplicateAlbum);
  $('#viewer').addEventListener('close', () => {
    state.viewerId = null;
    state.viewerTags = { imageId: null, links: null };
    viewerPicker.close();
    keepNoticesReachable();
  });
  $('#album-dialog').addEventListener('close', keepNoticesReachable);
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
  await Promise.all([albums.load(), album ? openAlbum(album) : null]);
}

wire();
start();
