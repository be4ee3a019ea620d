// Talking to albumkit: the token (kept in localStorage, renewed from every response's X-token),
// JSON requests, and errors in plain words.

const TOKEN_KEY = 'albumkit-demo.token';
const API = '/api/v1';

export class ApiError extends Error {
  /** `detail`: the API's own message (`{error, message}` bodies), when it gave one. */
  constructor(message, { status = 0, sessionExpired = false, detail = null } = {}) {
    super(message);
    this.status = status;
    this.sessionExpired = sessionExpired;
    this.detail = detail;
  }
}

export const session = {
  get token() {
    return localStorage.getItem(TOKEN_KEY);
  },
  set token(value) {
    if (value) localStorage.setItem(TOKEN_KEY, value);
    else localStorage.removeItem(TOKEN_KEY);
  },
  /** The token of a `#token=…` link, moved out of the address bar. */
  takeFromLocation() {
    const params = new URLSearchParams(location.hash.slice(1));
    const token = params.get('token');
    if (!token) return;
    this.token = token.trim();
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', location.pathname + location.search + (rest ? `#${rest}` : ''));
  },
};

export const SESSION_EXPIRED = 'Your session expired or the token is not valid. Sign in again with a fresh token (restarting npm start prints one).';

/** The claims of a token (not verified: only to tell an expired session from a refused action). */
export function tokenClaims(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(payload));
  } catch {
    return {};
  }
}

function sessionStillValid() {
  const { exp } = tokenClaims(session.token ?? '');
  return typeof exp === 'number' && exp * 1000 > Date.now() + 5000;
}

/**
 * `fetch` with the token; renews it from `X-token`; throws ApiError with a message for people.
 * `json` sends a JSON body, `form` a form-encoded one (as the API's own clients do, e.g.
 * `album[public_id]=…&merge=true`; an array of pairs repeats a key: `image_ids[]=…`). `action` words a refusal (401 while the token is still
 * valid: the token lacks that right) instead of signing out.
 */
export async function request(path, { method = 'GET', json, form, base = API, action } = {}) {
  const headers = { Accept: 'application/json' };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  let payload;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(json);
  } else if (form !== undefined) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    payload = new URLSearchParams(form).toString();
  }
  let response;
  try {
    response = await fetch(base + path, { method, headers, body: payload });
  } catch {
    throw new ApiError('Cannot reach the server. Is npm start still running?');
  }
  const renewed = response.headers.get('X-token');
  if (renewed) session.token = renewed;
  if (response.status === 401) {
    if (action && sessionStillValid()) throw new ApiError(`You may not ${action} with this sign-in.`, { status: 401 });
    throw new ApiError(SESSION_EXPIRED, { status: 401, sessionExpired: true });
  }

  const text = await response.text();
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const detail = typeof body?.message === 'string' ? body.message : null;
    throw new ApiError(describeFailure(response.status, body), { status: response.status, detail });
  }
  return { body, headers: response.headers };
}

function describeFailure(status, body) {
  const detail = typeof body?.message === 'string' ? body.message : '';
  if (status === 404) return detail ? `Not found: ${detail}.` : 'Not found.';
  if (status === 409) return detail ? `${detail[0].toUpperCase()}${detail.slice(1)}.` : 'That conflicts with what the server holds.';
  if (status === 400 || status === 422) return detail ? `The server refused the request: ${detail}.` : 'The server refused the request.';
  if (status === 413) return 'That is too large for the server.';
  if (status === 503) return 'The server is busy or one of its services is down. Try again in a moment.';
  if (status >= 500) return `Something went wrong on the server (error ${status}). Check the terminal running npm start.`;
  return detail || `The server answered ${status}.`;
}

const idPath = (...parts) => parts.map((part) => encodeURIComponent(part)).join('/');

/** Every page of a listing (`limit` + `cursor`, next cursor in X-Next-Cursor). */
async function allPages(route, query = {}) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < 50; page++) {
    const params = new URLSearchParams({ ...query, limit: '100' });
    if (cursor) params.set('cursor', cursor);
    const { body, headers } = await request(`${route}?${params}`);
    items.push(...body);
    cursor = headers.get('X-Next-Cursor');
    if (!cursor) break;
  }
  return items;
}

export const api = {
  createAlbum: () => request('/albums', { method: 'POST', json: {} }).then((r) => r.body),
  album: (id) => request(`/albums/${encodeURIComponent(id)}`).then((r) => r.body),
  /** Every image of the album, page by page. */
  images: (albumId) => allPages(`/albums/${idPath(albumId)}/images`),
  /** One page of the organization's albums, and the cursor of the next one. */
  async albums(cursor) {
    const params = new URLSearchParams({ limit: '50' });
    if (cursor) params.set('cursor', cursor);
    const { body, headers } = await request(`/albums?${params}`);
    return { albums: body, next: headers.get('X-Next-Cursor') };
  },
  renameAlbum: (id, name) =>
    request(`/albums/${idPath(id)}`, { method: 'PUT', form: { 'album[public_id]': name }, action: 'rename this album' }).then((r) => r.body),
  /** Moves every photo of `id` into the existing album `into`; `id` is removed. */
  mergeAlbum: (id, into) =>
    request(`/albums/${idPath(id)}`, { method: 'PUT', form: { 'album[public_id]': into, merge: 'true' }, action: 'merge this album' }).then((r) => r.body),
  duplicateAlbum: (id, destination) =>
    request(`/albums/${idPath(id)}/duplicate`, { method: 'POST', form: { destination_id: destination }, action: 'duplicate this album' }).then((r) => r.body),
  /** `{ [imageId]: albumId }`: each image into its album (created when missing); answers the moved ids. */
  moveImages: (operations) =>
    request('/images/move', {
      method: 'POST',
      form: Object.fromEntries(Object.entries(operations).map(([image, album]) => [`move_operations[${image}]`, album])),
      action: 'move this photo',
    }).then((r) => r.body),
  editImage: (id, fields, action) => request(`/images/${idPath(id)}`, { method: 'PUT', json: fields, action }).then((r) => r.body),
  deleteImage: (id) => request(`/images/${idPath(id)}`, { method: 'DELETE', action: 'delete this photo' }),
  /** Several images to the trash, all or nothing: answers their ids. */
  deleteImages: (ids) =>
    request('/images', { method: 'DELETE', form: ids.map((id) => ['image_ids[]', id]), action: 'delete these photos' }).then((r) => r.body),
  /** A clipboard of the images (`id`: a UUID chosen here); `image_copy` on their album. */
  createClipboard: (id, imageIds) =>
    request('/clipboards', { method: 'POST', form: [['id', id], ...imageIds.map((image) => ['image_ids[]', image])], action: 'copy these photos' }).then((r) => r.body),
  /** The copies made in `albumId` (sharing the stored files), in clipboard order. */
  paste: (clipboardId, albumId) =>
    request(`/clipboards/${idPath(clipboardId)}/paste`, { method: 'POST', form: { album_id: albumId }, action: 'paste into this album' }).then((r) => r.body),
  /** The album's trash, latest deletion first. */
  trash: (albumId) => allPages('/trashed_images', { album_id: albumId }),
  restore: (id) => request(`/trashed_images/${idPath(id)}`, { method: 'DELETE', action: 'restore this photo' }).then((r) => r.body),
  image: (id) => request(`/images/${encodeURIComponent(id)}`).then((r) => r.body),
  addUpload: (albumId, result) =>
    request(`/albums/${encodeURIComponent(albumId)}/images`, { method: 'POST', json: { cloudinary: result } }).then((r) => r.body),
  duplicate: (id) => request(`/images/${encodeURIComponent(id)}/duplicate`, { method: 'POST', json: {} }).then((r) => r.body),
  uploadDone: (albumId) =>
    request(`/albums/${encodeURIComponent(albumId)}/upload_done`, { method: 'POST', json: { platform: 'web' } }).then((r) => r.body),
  /** Tags whose name or label holds `q` (any case), listed ones only, at most 20. */
  suggestTags: (q) => request(`/tags/autocomplete?${new URLSearchParams({ q, filters: JSON.stringify({ listed: true }) })}`).then((r) => r.body),
  /** The tag of that name: created (with a colour chosen by the server), or the existing one. */
  createTag: (name) => request('/tags', { method: 'POST', json: { name }, action: 'create tags' }).then((r) => r.body),
  /** Puts the tag (its id, or its name) on every image, all or nothing: answers the links. */
  tagImages: (tag, imageIds) =>
    request(`/tags/${idPath(tag)}/tag_images`, { method: 'POST', form: imageIds.map((id) => ['image_ids[]', id]), action: 'tag these photos' }).then((r) => r.body),
  /** The links of tags to the image, oldest first: `[{id (the link), tag, image}]`. */
  imageTags: (imageId) => allPages('/tag_images', { image_id: imageId }),
  untag: (linkId) => request(`/tag_images/${idPath(linkId)}`, { method: 'DELETE', action: 'remove this tag' }),
  /** One page of a search, newest first, and the cursor of the next one. */
  async search(q, { cursor, limit } = {}) {
    const params = new URLSearchParams({ q, limit: String(limit) });
    if (cursor) params.set('cursor', cursor);
    const { body, headers } = await request(`/search?${params}`);
    return { images: body, next: headers.get('X-Next-Cursor') };
  },
  /** An import of the file at `url` into the album; the same submission again answers the same import. */
  createImport: (albumId, url) => request('/imports', { method: 'POST', json: { album_id: albumId, url }, action: 'import into this album' }).then((r) => r.body),
  /** An import: `status` pending, done (with `image_id`) or failed (with `error`). */
  importStatus: (id) => request(`/imports/${idPath(id)}`).then((r) => r.body),
  /** A zip of the images: `{id, zip_url}`, a signed link that expires. */
  createDownload: (imageIds) =>
    request('/downloads', { method: 'POST', form: imageIds.map((id) => ['image_ids[]', id]), action: 'download these photos' }).then((r) => r.body),
  /** A lasting public link to the image (`url`): it keeps working, and shows a placeholder once the image is deleted. */
  externalUrl: (imageId) =>
    request('/image_external_urls', { method: 'POST', json: { image_external_url: { image_id: imageId } }, action: 'share this photo' }).then((r) => r.body),
  /** The host app's demo-only route listing the album's events. */
  events: (albumId) => request(`/events?album=${encodeURIComponent(albumId)}`, { base: '/demo' }).then((r) => r.body),
};
