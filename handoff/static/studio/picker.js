/* "Pick…": a searchable combobox of every intent and FAQ (ARIA 1.2 combobox + listbox).
 * ↑/↓ move through the options, Enter chooses one (or, with none active, labels), Escape
 * closes the list first and the dialog second. */

import { $, el, say } from '../console/dom.js';
import { plural } from '../console/format.js';
import { api } from './api.js';
import { dialogError, openDialog } from './dialogs.js';
import { labelAs, ticked } from './label.js';
import { state } from './state.js';

const SHOWN = 50; // options in the list at once; typing narrows the rest
let cluster = null;
let options = []; // the targets now in the list
let active = -1; // index into options, -1 for none
let chosen = null; // the target picked

export async function openPicker(forCluster, opener) {
  cluster = forCluster;
  chosen = null;
  $('pick-input').value = '';
  say($('pick-chosen'), '');
  dialogError('pick-error', '');
  say($('pick-about'), `${plural(ticked(cluster).length, 'ticked message')} from “${(cluster.terms || []).join(' · ')}”.`);
  openDialog($('pick-dialog'), opener, $('pick-input'));
  if (!state.targets) {
    try {
      state.targets = (await api('GET', '/studio/api/targets')).targets || [];
    } catch (error) {
      dialogError('pick-error', error.message);
      return;
    }
  }
  filter();
}

function matches(target, words) {
  const text = `${target.name} ${target.kind} ${target.description || ''}`.toLowerCase();
  return words.every((word) => text.includes(word));
}

/** The list for what is typed: names that start with it first. */
function filter() {
  const query = $('pick-input').value.trim().toLowerCase();
  const words = query.split(/\s+/).filter(Boolean);
  const found = (state.targets || []).filter((t) => matches(t, words));
  found.sort((a, b) => Number(b.name.startsWith(query)) - Number(a.name.startsWith(query)));
  options = found.slice(0, SHOWN);
  active = -1;
  renderList();
  setOpen(true);
}

function renderList() {
  const list = $('pick-list');
  if (!options.length) {
    list.replaceChildren(el('li', { className: 'none', role: 'option', 'aria-disabled': 'true', textContent: 'Nothing matches.' }));
    return;
  }
  list.replaceChildren(
    ...options.map((target, index) => {
      const option = el(
        'li',
        { id: `pick-opt-${index}`, role: 'option', className: 'option', 'aria-selected': String(index === active) },
        el('span', { className: 'option-name', textContent: target.name }),
        el('span', { className: 'option-kind', textContent: target.kind === 'faq' ? ' FAQ' : ' intent' }),
        el('span', { className: 'option-about', textContent: target.description || '' }),
      );
      option.addEventListener('mousedown', (event) => event.preventDefault()); // keep the focus in the box
      option.addEventListener('click', () => choose(index));
      return option;
    }),
  );
}

function setOpen(open) {
  const input = $('pick-input');
  $('pick-list').hidden = !open;
  input.setAttribute('aria-expanded', String(open));
  if (!open || active < 0) input.removeAttribute('aria-activedescendant');
}

function move(step) {
  if ($('pick-list').hidden) setOpen(true);
  if (!options.length) return;
  active = active < 0 && step < 0 ? options.length - 1 : (active + step + options.length) % options.length;
  for (const [index, option] of [...$('pick-list').children].entries()) {
    option.setAttribute('aria-selected', String(index === active));
  }
  const option = $(`pick-opt-${active}`);
  $('pick-input').setAttribute('aria-activedescendant', option.id);
  option.scrollIntoView({ block: 'nearest' });
}

function choose(index) {
  chosen = options[index];
  $('pick-input').value = chosen.name;
  say($('pick-chosen'), `Chosen: ${chosen.name} (${chosen.kind === 'faq' ? 'FAQ' : 'intent'}). Enter labels the messages.`);
  dialogError('pick-error', '');
  active = -1;
  setOpen(false);
}

export function pickKey(event) {
  const open = !$('pick-list').hidden;
  if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
    event.preventDefault();
    move(event.key === 'ArrowDown' ? 1 : -1);
  } else if (event.key === 'Enter' && open && active >= 0) {
    event.preventDefault(); // choose, do not submit yet
    choose(active);
  } else if (event.key === 'Escape' && open) {
    event.preventDefault(); // close the list, not the dialog
    event.stopPropagation();
    setOpen(false);
  }
}

export function pickInput() {
  chosen = null;
  say($('pick-chosen'), '');
  filter();
}

export async function pickSubmit(event) {
  event.preventDefault();
  const typed = $('pick-input').value.trim();
  const target = chosen || (state.targets || []).find((t) => t.name === typed);
  if (!target) {
    dialogError('pick-error', 'Choose an intent or FAQ from the list first.');
    $('pick-input').focus();
    return;
  }
  const action = target.kind === 'faq' ? 'faq' : 'intent';
  await labelAs(cluster, action, target.name, undefined, (message) => dialogError('pick-error', message));
}

export function pickCancel() {
  $('pick-dialog').close();
}
