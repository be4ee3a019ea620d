// Talking to albumkit: the token (kept in localStorage, renewed from every response's X-token),
// JSON requests, and errors in plain words.

const TOKEN_KEY = 'albumkit-demo.token';
const API = '/api/v1';

export class ApiError extends Error {
  constructor(message, { status = 0, sessionExpired = false } = {}) {
    super(message);
    this.status = status;
    this.sessionExpired = sessionExpired;
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

/** `fetch` with the token; renews it from `X-token`; throws ApiError with a message for people. */
export async function request(path, { method = 'GET', json, base = API } = {}) {
  const headers = { Accept: 'application/json' };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(base + path, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
  } catch {
    throw new ApiError('Cannot reach the server. Is npm start still running?');
  }
  const renewed = response.headers.get('X-token');
  if (renewed) session.token = renewed;
  if (response.status === 401) throw new ApiError(SESSION_EXPIRED, { status: 401, sessionExpired: true });

  const text = await response.text();
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) throw new ApiError(describeFailure(response.status, body), { status: response.status });
  return { body, headers: response.headers };
}

function describeFailure(status, body) {
  const detail = typeof body?.message === 'string' ? body.message : '';
  if (status === 404) return detail ? `Not found: ${detail}.` : 'Not found.';
  if (status === 400 || status === 422) return detail ? `The server refused the request: ${detail}.` : 'The server refused the request.';
  if (status === 413) return 'That is too large for the server.';
  if (status === 503) return 'The server is busy or one of its services is down. Try again in a moment.';
  if (status >= 500) return `Something went wrong on the server (error ${status}). Check the terminal running npm start.`;
  return detail || `The server answered ${status}.`;
}

export const api = {
  createAlbum: () => request('/albums', { method: 'POST', json: {} }).then((r) => r.body),
  album: (id) => request(`/albums/${encodeURIComponent(id)}`).then((r) => r.body),
  /** Every image of the album, page by page (`limit` + `cursor`, next cursor in X-Next-Cursor). */
  async images(albumId) {
    const images = [];
    let cursor = null;
    for (let page = 0; page < 50; page++) {
      const query = new URLSearchParams({ limit: '100' });
      if (cursor) query.set('cursor', cursor);
      const { body, headers } = await request(`/albums/${encodeURIComponent(albumId)}/images?${query}`);
      images.push(...body);
      cursor = headers.get('X-Next-Cursor');
      if (!cursor) break;
    }
    return images;
  },
  image: (id) => request(`/images/${encodeURIComponent(id)}`).then((r) => r.body),
  addUpload: (albumId, result) =>
    request(`/albums/${encodeURIComponent(albumId)}/images`, { method: 'POST', json: { cloudinary: result } }).then((r) => r.body),
  duplicate: (id) => request(`/images/${encodeURIComponent(id)}/duplicate`, { method: 'POST', json: {} }).then((r) => r.body),
  uploadDone: (albumId) =>
    request(`/albums/${encodeURIComponent(albumId)}/upload_done`, { method: 'POST', json: { platform: 'web' } }).then((r) => r.body),
  /** The host app's demo-only route listing the album's events. */
  events: (albumId) => request(`/events?album=${encodeURIComponent(albumId)}`, { base: '/demo' }).then((r) => r.body),
};
