/* One topic of the inbox as a card: what it is, why, its messages, and the label actions. */

import { el } from '../console/dom.js';
import { plural, timeOf } from '../console/format.js';
import { api } from './api.js';
import { openFaq } from './faq.js';
import { labelAs, guessAction } from './label.js';
import { openPicker } from './picker.js';
import { reasonLabel, targetLabel } from './words.js';
import { state } from './state.js';

const around = new Map(); // miss id -> the turns around it, once fetched
const expanded = new Set(); // miss ids whose turns are open

export function clusterCard(cluster) {
  const id = `c-${cluster.id}`;
  const title = (cluster.terms || []).join(' · ') || 'Untitled topic';
  return el(
    'section',
    { className: 'card cluster', 'aria-labelledby': `${id}-title`, 'data-cluster': cluster.id },
    el(
      'div',
      { className: 'cluster-head' },
      el('h3', { id: `${id}-title`, tabIndex: -1, textContent: title }),
      el('span', { className: 'count size', textContent: plural(cluster.size, 'message') }),
    ),
    guessLine(cluster),
    reasonChips(cluster),
    el('p', {
      className: 'meta',
      textContent: `First seen ${timeOf(cluster.first_seen)} · last seen ${timeOf(cluster.last_seen)}`,
    }),
    messageList(cluster, id),
    actions(cluster, id),
  );
}

function guessLine(cluster) {
  const guess = cluster.guess;
  if (!guess) return el('p', { className: 'guess', textContent: 'The assistant had no guess.' });
  const share = Math.round((guess.share || 0) * cluster.size);
  return el(
    'p',
    { className: 'guess' },
    'The assistant guessed ',
    el('strong', { textContent: targetLabel(guess.name) }),
    ` (${guess.name}), ${Math.round(guess.confidence * 100)} % sure on average, for ${share} of ${cluster.size}.`,
  );
}

function reasonChips(cluster) {
  const reasons = Object.entries(cluster.reasons || {});
  return el(
    'ul',
    { className: 'badges chips', 'aria-label': 'Why these messages are here' },
    ...reasons.map(([reason, count]) =>
      el('li', { className: `badge reason r-${reason}`, textContent: `${reasonLabel(reason)} · ${count}` }),
    ),
  );
}

function messageList(cluster, id) {
  const shown = cluster.messages || [];
  const rest = cluster.size - shown.length;
  const legend = rest > 0 ? `Messages: ${shown.length} shown, ${rest} more labelled with them` : 'Messages';
  return el(
    'fieldset',
    { className: 'picks' },
    el('legend', { textContent: legend }),
    el('ul', { className: 'pick-list' }, ...shown.map((message) => messageItem(message, id))),
  );
}

function messageItem(message, id) {
  const box = `pick-${message.id}`;
  const check = el('input', { type: 'checkbox', id: box, checked: !state.unticked.has(message.id) });
  check.addEventListener('change', () => {
    if (check.checked) state.unticked.delete(message.id);
    else state.unticked.add(message.id);
  });
  const top = (message.ranking || [])[0];
  const turns = el('ol', { id: `turns-${message.id}`, className: 'around', hidden: !expanded.has(message.id) });
  if (around.has(message.id)) fillTurns(turns, around.get(message.id), message.seq);
  const toggle = el('button', {
    type: 'button',
    id: `${id}-turns-${message.id}`,
    className: 'small link-button',
    'aria-expanded': String(expanded.has(message.id)),
    'aria-controls': turns.id,
    textContent: 'The turns around it',
  });
  toggle.addEventListener('click', () => showTurns(message, toggle, turns));
  return el(
    'li',
    { className: 'pick' },
    el(
      'div',
      { className: 'pick-row' },
      check,
      el('label', { htmlFor: box, className: 'pick-text', textContent: message.text }),
      top ? el('span', { className: 'meta', textContent: `${top[0]} ${Number(top[1]).toFixed(2)}` }) : null,
      toggle,
    ),
    turns,
  );
}

async function showTurns(message, toggle, turns) {
  const open = toggle.getAttribute('aria-expanded') !== 'true';
  toggle.setAttribute('aria-expanded', String(open));
  turns.hidden = !open;
  if (open) expanded.add(message.id);
  else expanded.delete(message.id);
  if (!open || around.has(message.id)) return;
  turns.replaceChildren(el('li', { className: 'meta', textContent: 'Loading…' }));
  try {
    const found = await api('GET', `/studio/api/misses/${message.id}`);
    around.set(message.id, found.around || []);
    fillTurns(turns, around.get(message.id), message.seq);
  } catch (error) {
    turns.replaceChildren(el('li', { className: 'error', textContent: error.message }));
  }
}

const SPEAKERS = { customer: 'Customer', bot: 'Bot', agent: 'Agent', system: 'System' };

function fillTurns(turns, rows, seq) {
  turns.replaceChildren(
    ...rows.map((turn) =>
      el(
        'li',
        { className: `turn from-${turn.speaker}${turn.seq === seq ? ' this' : ''}` },
        el('span', { className: 'speaker', textContent: `${SPEAKERS[turn.speaker] || turn.speaker}: ` }),
        el('span', { className: 'text', textContent: turn.text }),
      ),
    ),
  );
}

function actions(cluster, id) {
  const button = (suffix, text, handler, primary) => {
    const node = el('button', { type: 'button', id: `${id}-${suffix}`, className: primary ? 'primary' : '', textContent: text });
    node.addEventListener('click', () => handler(node));
    return node;
  };
  const guess = cluster.guess;
  return el(
    'div',
    { className: 'actions cluster-actions', role: 'group', 'aria-label': 'Label these messages' },
    guess
      ? button('confirm', `Confirm guess: ${targetLabel(guess.name)}`, () =>
          labelAs(cluster, guessAction(guess.name), guess.name),
        true)
      : null,
    button('pick', 'Pick…', (node) => openPicker(cluster, node)),
    button('new-faq', 'New FAQ…', (node) => openFaq(cluster, node)),
    button('out-of-scope', 'Out of scope', () => labelAs(cluster, 'out_of_scope')),
    button('ignore', 'Ignore', () => labelAs(cluster, 'ignore')),
  );
}
