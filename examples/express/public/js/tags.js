// Tags: coloured chips (the tag's colour, its contrasting text colour from the API), a tag picker
// (an input with suggestions from GET /tags/autocomplete: arrows and Enter, or a tap), and the
// dialog that picks one tag for the selected photos.
import { api } from './api.js';
import { clearInformation, keepNoticesReachable } from './notices.js';
import { el, $ } from './ui.js';

const SUGGEST_MS = 150;

/** What a tag shows: its English label (the name when it has none). */
export const tagLabel = (tag) => tag.label_en || tag.name;

/** The query that finds a tag's photos: `tags:"<name>"`, quotes and backslashes escaped. */
export const tagQuery = (name) => `tags:"${name.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

/** A name the API takes: 1 to 255 characters, none of them control characters; else the reason. */
export function tagNameProblem(name) {
  if (!name) return 'Type a tag.';
  if (name.length > 255) return 'A tag has at most 255 characters.';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'A tag cannot hold control characters.';
  return null;
}

/**
 * Paints `node` in the tag's colours. Through the CSSOM (custom properties read by styles.css):
 * the page's Content-Security-Policy refuses style attributes, not this.
 */
export function paintTag(node, tag) {
  if (/^#[0-9a-f]{6}$/i.test(tag.color ?? '')) node.style.setProperty('--chip-bg', tag.color);
  if (/^#[0-9a-f]{6}$/i.test(tag.color_contrast ?? '')) node.style.setProperty('--chip-fg', tag.color_contrast);
}

/** A tag's chip: its label (a button when `onSearch`), and a × button when `onRemove(button)`. */
export function tagChip(tag, { onSearch, onRemove } = {}) {
  const label = tagLabel(tag);
  const chip = el('li', { class: 'chip', 'data-tag-id': tag.id, 'data-tag-name': tag.name });
  paintTag(chip, tag);
  if (onSearch) {
    const button = el('button', { type: 'button', class: 'chip-label', title: `Photos tagged “${label}”` }, label);
    button.addEventListener('click', () => onSearch(tag));
    chip.append(button);
  } else {
    chip.append(el('span', { class: 'chip-label' }, label));
  }
  if (onRemove) {
    const remove = el('button', { type: 'button', class: 'chip-remove', 'aria-label': `Remove tag ${label}`, title: 'Remove this tag' }, '×');
    remove.addEventListener('click', () => onRemove(remove));
    chip.append(remove);
  }
  return chip;
}

/**
 * A combobox on `input` with its listbox `list`: the listed tags whose name or label holds what
 * is typed (all of them, 20 at most, on focus), without those `exclude()` names (a set of ids),
 * and a last option creating the typed name when no tag has it. ↑/↓ move through them, Enter or
 * a tap picks one (`onPick({ tag })` or `onPick({ name })`), Escape closes the list. Enter with
 * no option active is left to the input's form.
 */
export function tagPicker(input, list, { onPick, onError, exclude = () => new Set() }) {
  let options = [];
  let active = -1;
  let timer = 0;
  let ticket = 0;

  function close() {
    ticket++;
    clearTimeout(timer);
    options = [];
    active = -1;
    list.hidden = true;
    list.replaceChildren();
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
  }

  async function suggest() {
    clearTimeout(timer);
    const typed = input.value.trim();
    const mine = ++ticket;
    let found;
    try {
      found = await api.suggestTags(typed);
    } catch (error) {
      if (mine === ticket) close();
      return onError?.(error);
    }
    // A late answer (to an older text, or after the input was left) is dropped.
    if (mine !== ticket || document.activeElement !== input) return;
    const skip = exclude();
    options = found.filter((tag) => !skip.has(tag.id)).map((tag) => ({ tag }));
    if (typed && !tagNameProblem(typed) && !found.some((tag) => tag.name === typed)) options.push({ name: typed });
    active = -1;
    render();
  }

  function render() {
    if (options.length === 0) {
      list.hidden = true;
      list.replaceChildren();
      input.setAttribute('aria-expanded', 'false');
      input.removeAttribute('aria-activedescendant');
      return;
    }
    list.replaceChildren(
      ...options.map((option, index) => {
        const item = el(
          'li',
          {
            role: 'option',
            id: `${list.id}-${index}`,
            class: option.tag ? 'suggestion' : 'suggestion create',
            'aria-selected': String(index === active),
            'data-tag-name': option.tag?.name ?? option.name,
          },
          ...(option.tag
            ? [paintedSwatch(option.tag), el('span', { class: 'suggestion-label' }, tagLabel(option.tag)), option.tag.label_en !== option.tag.name ? el('span', { class: 'muted small' }, option.tag.name) : null]
            : [el('span', { class: 'suggestion-plus', 'aria-hidden': 'true' }, '+'), el('span', { class: 'suggestion-label' }, `Create “${option.name}”`)]),
        );
        // The focus stays in the input (a click, or a tap, picks without leaving it).
        item.addEventListener('mousedown', (event) => event.preventDefault());
        item.addEventListener('click', () => pick(index));
        return item;
      }),
    );
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    if (active >= 0) {
      input.setAttribute('aria-activedescendant', `${list.id}-${active}`);
      list.children[active]?.scrollIntoView({ block: 'nearest' });
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  }

  function pick(index) {
    const option = options[index];
    close();
    if (option) onPick(option);
  }

  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(suggest, SUGGEST_MS);
  });
  input.addEventListener('focus', () => {
    if (list.hidden) suggest();
  });
  input.addEventListener('blur', () => setTimeout(() => document.activeElement !== input && close(), 150));
  input.addEventListener('keydown', (event) => {
    if (event.isComposing) return;
    const open = !list.hidden && options.length > 0;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      if (!open) return void suggest();
      const last = options.length - 1;
      active = event.key === 'ArrowDown' ? (active >= last ? 0 : active + 1) : active <= 0 ? last : active - 1;
      render();
    } else if (event.key === 'Enter' && open && active >= 0) {
      event.preventDefault();
      pick(active);
    } else if (event.key === 'Escape' && open) {
      // Only the list closes, not the dialog around the input.
      event.preventDefault();
      event.stopPropagation();
      close();
    }
  });

  return {
    close,
    /** What the typed text names: a suggested tag of exactly that name, or a name. */
    typed() {
      const name = input.value.trim();
      const tag = options.find((option) => option.tag?.name === name)?.tag;
      return tag ? { tag } : { name };
    },
  };
}

function paintedSwatch(tag) {
  const swatch = el('span', { class: 'swatch', 'aria-hidden': 'true' });
  paintTag(swatch, tag);
  return swatch;
}

/** The tag a choice names: the suggested one, or the one of that name (created when missing). */
export function resolveTag(choice) {
  return choice.tag ? Promise.resolve(choice.tag) : api.createTag(choice.name);
}

let dialogPicker = null;
let dialogRun = null;

/**
 * Opens the tag dialog: a tag picked from the suggestions or typed is given to `run(tag)`,
 * which tags the photos; its failure is shown in the dialog, which stays open. `onFatal(error)`
 * takes a failure that ends the session (the dialog closes).
 */
export function askTag({ title, help, submit = 'Tag', run, onFatal }) {
  const dialog = $('#tag-dialog');
  const input = $('#tag-dialog-input');
  const error = $('#tag-dialog-error');
  const button = $('#tag-dialog-submit');
  $('#tag-dialog-title').textContent = title;
  $('#tag-dialog-help').textContent = help;
  button.textContent = submit;
  input.value = '';
  error.hidden = true;
  input.removeAttribute('aria-invalid');

  const show = (message) => {
    error.textContent = message;
    error.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  };
  async function apply(choice) {
    const problem = choice.tag ? null : tagNameProblem(choice.name);
    if (problem) return show(problem);
    button.disabled = true;
    try {
      await run(await resolveTag(choice));
      dialog.close();
    } catch (failure) {
      if (failure?.sessionExpired) {
        dialog.close();
        return onFatal?.(failure);
      }
      show(failure?.message ?? String(failure));
    } finally {
      button.disabled = false;
    }
  }
  dialogRun = apply;
  if (!dialogPicker) {
    // Wired once: the dialog is reused; `dialogRun` is the open one's.
    dialogPicker = tagPicker(input, $('#tag-dialog-suggestions'), { onPick: (choice) => dialogRun?.(choice), onError: (failure) => show(failure.message) });
    $('#tag-dialog-form').addEventListener('submit', (event) => {
      event.preventDefault();
      if (!$('#tag-dialog-submit').disabled) dialogRun?.(dialogPicker.typed());
    });
    input.addEventListener('input', () => {
      $('#tag-dialog-error').hidden = true;
      input.removeAttribute('aria-invalid');
    });
    $('#tag-dialog-cancel').addEventListener('click', () => $('#tag-dialog').close());
    dialog.addEventListener('close', () => {
      dialogRun = null;
      dialogPicker.close();
      keepNoticesReachable();
    });
  }
  dialog.showModal();
  clearInformation();
  keepNoticesReachable();
  input.focus();
}
