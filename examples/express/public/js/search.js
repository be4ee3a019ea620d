// Search: the header's box runs GET /search (albumkit's query language: words, field:value,
// "phrases", AND/OR/NOT, parentheses, wildcards, ranges) over every album of the organization;
// the photos found show as a grid, newest first, a page at a time (More); a query the API
// refuses is told with the part at fault marked, in the box and under it.
import { api } from './api.js';
import { el, syncGrid, $ } from './ui.js';

/** Photos per page of results. */
export const SEARCH_PAGE = 12;

/** `q: unbalanced parentheses: ( without ) at position 0` → `{ reason, position }` (0-based, UTF-16). */
export function queryError(message) {
  const match = /^q: (.*) at position (\d+)$/s.exec(message ?? '');
  return match ? { reason: match[1], position: Number(match[2]) } : null;
}

const DELIMITER = /[()"[\]{}]/;

/**
 * The part of `q` to mark for an error at `position`: a parenthesis, quote or bracket alone, or
 * the word starting there; at the end of the query (a term expected after AND), its last word.
 */
export function faultRange(q, position) {
  if (position >= q.length) {
    const end = q.trimEnd().length;
    let start = end;
    while (start > 0 && !/\s/.test(q[start - 1])) start--;
    return [start, end];
  }
  if (DELIMITER.test(q[position])) return [position, position + 1];
  let end = position;
  while (end < q.length && !/\s/.test(q[end]) && !DELIMITER.test(q[end])) end++;
  return [position, Math.max(end, position + 1)];
}

/**
 * The search view. `card(image)` renders a result (opening it is the card's business), `keyOf`
 * says when a card must be rendered again; `onError(error)` reports a failure other than a bad
 * query; `onToggle(open)` is told when the results show or hide.
 */
export function searchView({ card, keyOf, onError, onToggle }) {
  const view = { open: false, q: '', images: [], next: null, cards: new Map(), loading: false, failed: false, ticket: 0 };
  const input = $('#search-input');

  function show(open) {
    if (view.open === open) return;
    view.open = open;
    $('#search-view').hidden = !open;
    onToggle?.(open);
  }

  function render() {
    syncGrid($('#search-grid'), view.images, view.cards, { keyOf, render: card });
    const count = view.images.length;
    $('#search-count').textContent = view.loading && count === 0 ? '' : `${count}${view.next ? '+' : ''}`;
    $('#search-summary').textContent = view.loading ? 'Searching…' : view.q.trim() ? `for ${view.q.trim()}` : 'every photo';
    $('#search-empty').hidden = view.loading || view.failed || count > 0;
    const more = $('#search-more');
    more.hidden = !view.next;
    more.disabled = view.loading;
    $('#search-view').setAttribute('aria-busy', String(view.loading));
  }

  function clearError() {
    $('#search-error').hidden = true;
    $('#search-error').replaceChildren();
    input.removeAttribute('aria-invalid');
    input.removeAttribute('aria-describedby');
  }

  /** A refused query: the API's message, the part at fault marked below and selected in the box. */
  function showError(q, error) {
    const box = $('#search-error');
    const fault = queryError(error.detail);
    if (!fault) {
      box.replaceChildren(el('p', {}, error.message));
    } else {
      const [start, end] = faultRange(q, fault.position);
      box.replaceChildren(
        el('p', {}, el('strong', {}, 'This search cannot be run: '), `${fault.reason} at position ${fault.position}.`),
        el('code', { class: 'search-excerpt', 'aria-hidden': 'true' }, q.slice(0, start), el('mark', {}, q.slice(start, end) || ' '), q.slice(end)),
      );
      input.focus();
      input.setSelectionRange(start, end);
    }
    box.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', 'search-error');
  }

  /** Runs `q` as typed (the positions of errors are in it); blank: every photo. */
  async function run(q) {
    if (input.value !== q) input.value = q;
    clearError();
    show(true);
    const mine = ++view.ticket;
    Object.assign(view, { q, images: [], next: null, loading: true, failed: false });
    render();
    try {
      const page = await api.search(q.trim() ? q : '*', { limit: SEARCH_PAGE });
      if (mine !== view.ticket) return;
      view.images = page.images;
      view.next = page.images.length > 0 ? page.next : null;
    } catch (error) {
      if (mine !== view.ticket) return;
      view.failed = true;
      if (error.status === 400) showError(q, error);
      else onError(error);
    } finally {
      if (mine === view.ticket) {
        view.loading = false;
        render();
      }
    }
  }

  /** The next page, after the ones shown; the focus goes to its first photo. */
  async function more() {
    if (!view.next || view.loading) return;
    const mine = view.ticket;
    view.loading = true;
    render();
    let added = [];
    try {
      const page = await api.search(view.q.trim() ? view.q : '*', { cursor: view.next, limit: SEARCH_PAGE });
      if (mine !== view.ticket) return;
      const known = new Set(view.images.map((image) => image.id));
      added = page.images.filter((image) => !known.has(image.id));
      view.images.push(...added);
      view.next = page.images.length > 0 ? page.next : null;
    } catch (error) {
      if (mine === view.ticket) onError(error);
    } finally {
      if (mine === view.ticket) {
        view.loading = false;
        render();
      }
    }
    if (added.length) view.cards.get(added[0].id)?.node.querySelector('.photo')?.focus({ preventScroll: false });
  }

  function close() {
    view.ticket++;
    view.loading = false;
    show(false);
  }

  $('#search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    run(input.value);
  });
  input.addEventListener('input', clearError);
  $('#search-more').addEventListener('click', more);
  $('#close-search').addEventListener('click', close);

  return {
    run,
    close,
    get open() {
      return view.open;
    },
    get images() {
      return view.images;
    },
    /** A result edited elsewhere (caption, rotation): shown again. */
    update(image) {
      const index = view.images.findIndex((shown) => shown.id === image.id);
      if (index < 0) return;
      view.images[index] = image;
      render();
    },
    /** A result deleted: out of the list. */
    remove(id) {
      const before = view.images.length;
      view.images = view.images.filter((image) => image.id !== id);
      if (view.images.length !== before) render();
    },
  };
}
