// The organization's albums by name (GET /albums, paged), and the dialog that asks for an album
// name to rename, merge or duplicate the open album.
import { api } from './api.js';
import { clearInformation, keepNoticesReachable } from './notices.js';
import { el, $ } from './ui.js';

/**
 * The album list. `onOpen(id)` opens an album; `onError(error)` reports a failure. A server
 * without `GET /albums` (404) hides the list and the album tools: the rest of the page works.
 */
export function albumList({ onOpen, onError }) {
  const list = { available: null, albums: [], next: null, current: null };

  async function load() {
    try {
      const page = await api.albums();
      list.available = true;
      list.albums = page.albums;
      list.next = page.next;
    } catch (error) {
      if (error.status === 404) list.available = false;
      else onError(error);
    }
    render();
  }

  async function more() {
    const button = $('#albums-more');
    button.disabled = true;
    try {
      const page = await api.albums(list.next);
      const known = new Set(list.albums.map((album) => album.id));
      list.albums.push(...page.albums.filter((album) => !known.has(album.id)));
      list.next = page.next;
      render();
    } catch (error) {
      onError(error);
    } finally {
      button.disabled = false;
    }
  }

  function render() {
    $('#albums').hidden = !list.available;
    $('#album-tools').hidden = !list.available || !list.current;
    $('#move').hidden = !list.available; // the album routes came together
    if (!list.available) return;
    $('#albums-count').textContent = list.albums.length ? `${list.albums.length}${list.next ? '+' : ''}` : '';
    $('#albums-empty').hidden = list.albums.length > 0;
    $('#albums-more').hidden = !list.next;
    $('#album-list').replaceChildren(...list.albums.map(tile));
    $('#album-names').replaceChildren(...list.albums.map((album) => el('option', { value: album.public_id })));
  }

  function tile(album) {
    const cover = album.thumbnails?.find((image) => image.processed)?.thumbnails?.large;
    const holder = el('span', { class: 'album-cover', 'aria-hidden': 'true' });
    if (cover) {
      const img = el('img', { src: cover, alt: '', loading: 'lazy', decoding: 'async' });
      img.addEventListener('error', () => img.remove());
      holder.append(img);
    }
    const count = album.images_count ?? 0;
    const button = el(
      'button',
      { type: 'button', class: 'album-tile', 'data-album-id': album.id, 'aria-current': album.id === list.current ? 'true' : null },
      holder,
      el('span', { class: 'album-name', title: album.public_id }, album.public_id),
      el('span', { class: 'album-count muted small' }, `${count} photo${count === 1 ? '' : 's'}`),
    );
    button.addEventListener('click', () => onOpen(album.id));
    return el('li', {}, button);
  }

  $('#albums-more').addEventListener('click', more);

  return {
    load,
    get available() {
      return list.available;
    },
    /** Marks the open album (and shows its tools). */
    setCurrent(id) {
      list.current = id;
      render();
    },
    /** The known album with this name, if any (the list may be one page of many). */
    find: (name) => list.albums.find((album) => album.public_id === name || album.id === name),
  };
}

/**
 * Opens the album dialog: `check(name)` answers an error message to show before any request (or
 * null), `run(name)` does the work; its failure is shown in the dialog, which stays open.
 */
export function askAlbumName({ title, help, label, submit, value = '', check, run }) {
  const dialog = $('#album-dialog');
  const input = $('#album-name-input');
  const error = $('#album-dialog-error');
  const button = $('#album-dialog-submit');
  $('#album-dialog-title').textContent = title;
  $('#album-dialog-help').textContent = help;
  $('#album-name-label').textContent = label;
  button.textContent = submit;
  input.value = value;
  error.hidden = true;
  const show = (message) => {
    error.textContent = message;
    error.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  };
  input.removeAttribute('aria-invalid');

  const form = $('#album-form');
  const onSubmit = async (event) => {
    event.preventDefault();
    const name = input.value.trim();
    const problem = name ? check(name) : 'Enter a name.';
    if (problem) return show(problem);
    button.disabled = true;
    try {
      await run(name);
      dialog.close();
    } catch (failure) {
      show(failure?.message ?? String(failure));
    } finally {
      button.disabled = false;
    }
  };
  const cancel = () => dialog.close();
  const edited = () => {
    error.hidden = true;
    input.removeAttribute('aria-invalid');
  };
  form.addEventListener('submit', onSubmit);
  input.addEventListener('input', edited);
  $('#album-dialog-cancel').addEventListener('click', cancel);
  dialog.addEventListener(
    'close',
    () => {
      form.removeEventListener('submit', onSubmit);
      input.removeEventListener('input', edited);
      $('#album-dialog-cancel').removeEventListener('click', cancel);
    },
    { once: true },
  );
  dialog.showModal();
  clearInformation(); // what was done before: out of the way of the dialog's buttons
  keepNoticesReachable();
  input.focus();
  input.select();
}
