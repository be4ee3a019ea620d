// Notices: errors stay until dismissed; information fades after a few seconds, and one with an
// action (Undo) stays longer, and not while the pointer or the keyboard focus is on it.
import { el, $ } from './ui.js';

const INFO_MS = 4000;
const ACTION_MS = 10000;
/** At most this many at once: the oldest plain information goes first (on a phone they stack up). */
const MOST = 3;

/**
 * Shows `message`; `kind` is `error` or `info`. `action: { label, run }` adds a button that runs
 * once and dismisses the notice. Returns a function that dismisses it.
 */
export function notify(message, kind = 'error', { action } = {}) {
  const notices = $('#notices');
  if (!action) for (const existing of notices.children) if (existing.dataset.message === message) return () => {};
  const close = el('button', { type: 'button', class: 'icon-button', 'aria-label': 'Dismiss' }, '×');
  const text = el('span', { class: 'notice-text' }, message);
  const notice = el('div', { class: `notice ${kind}`, 'data-message': message }, text);
  const remove = () => {
    clearTimeout(timer);
    notice.remove();
    if (notices.children.length === 0 && notices.hidePopover && notices.matches(':popover-open')) notices.hidePopover();
  };
  if (action) {
    const button = el('button', { type: 'button', class: 'button small notice-action' }, action.label);
    button.addEventListener('click', () => {
      remove();
      action.run();
    });
    notice.append(button);
  }
  notice.append(close);
  close.addEventListener('click', remove);
  notices.append(notice);
  while (notices.children.length > MOST) {
    const oldest = [...notices.children].find((shown) => shown.classList.contains('info') && !shown.querySelector('.notice-action'));
    if (!oldest) break;
    oldest.remove();
  }
  keepNoticesReachable();
  let timer = 0;
  if (kind !== 'error') {
    const ms = action ? ACTION_MS : INFO_MS;
    const later = () => {
      clearTimeout(timer);
      timer = setTimeout(() => (notice.matches(':hover, :focus-within') ? later() : remove()), ms);
    };
    later();
  }
  return remove;
}

/**
 * A popover sits in the top layer, above an open dialog too (shown again to come last); but a
 * modal dialog makes everything outside it inert, so the notices live inside the open dialog
 * (their Undo and Dismiss stay clickable) and go back to the page when it closes.
 */
/** Removes the plain information notices (not the errors, not those with an Undo). */
export function clearInformation() {
  for (const shown of [...$('#notices').children]) {
    if (shown.classList.contains('info') && !shown.querySelector('.notice-action')) shown.remove();
  }
}

export function keepNoticesReachable() {
  const notices = $('#notices');
  const host = [...document.querySelectorAll('dialog[open]')].pop() ?? document.body; // the topmost
  if (notices.parentElement !== host) host.append(notices);
  if (!notices.showPopover) return;
  if (notices.matches(':popover-open')) notices.hidePopover();
  if (notices.children.length > 0) notices.showPopover();
}
