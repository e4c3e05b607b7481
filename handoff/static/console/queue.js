/* The queue of customers waiting for a person. */

import { openConversation, claim } from './conversation.js';
import { $, el, say, announce } from './dom.js';
import { clock, number } from './format.js';
import { triggerLabel } from './labels.js';
import { chime, updateTitle } from './notify.js';
import { state } from './state.js';

export function newHandoff(entry) {
  if (!entry || typeof entry.id !== 'number') return;
  state.unseen.add(entry.id);
  if (!state.queue.some((queued) => queued.id === entry.id)) {
    state.queue = state.queue.concat([stamped(entry)]);
    renderQueue();
  }
  updateTitle();
  chime();
  announce(`New customer waiting: ${triggerLabel(entry.trigger)}.`);
}

export function setQueue(queue) {
  state.queue = queue.filter((entry) => entry && typeof entry.id === 'number').map(stamped);
  renderQueue();
  updateTitle();
}

function stamped(entry) {
  return { ...entry, receivedAt: performance.now() };
}

function waited(entry) {
  return (entry.waiting_s || 0) + (performance.now() - entry.receivedAt) / 1000;
}

/** Redrawn on every change; the focused button keeps its focus across the redraw. */
export function renderQueue() {
  const list = $('queue-list');
  const focused = document.activeElement;
  const keep = list.contains(focused) ? [focused.closest('li').dataset.handoff, focused.className] : null;
  list.replaceChildren(...state.queue.map(queueItem));
  $('queue-empty').hidden = state.queue.length > 0;
  say($('queue-count'), String(state.queue.length));
  if (keep) {
    const item = list.querySelector(`li[data-handoff="${keep[0]}"]`);
    const button = item && [...item.querySelectorAll('button')].find((b) => b.className === keep[1]);
    if (button) button.focus();
  }
}

function moodText(entry) {
  const score = typeof entry.sentiment === 'number' ? number(entry.sentiment, 2) : null;
  if (entry.mood) return `Mood: ${entry.mood}${score ? ` (${score})` : ''}`;
  return score ? `Sentiment ${score}` : 'Mood: not scored';
}

function queueItem(entry) {
  const open = state.activeId === entry.id;
  const item = el('li', {
    className: `queue-item priority-${entry.priority}${open ? ' open' : ''}`,
    'data-handoff': String(entry.id),
    'data-conversation': String(entry.conversation_id),
  });
  const badges = el(
    'p',
    { className: 'badges' },
    el('span', { className: `badge priority p${entry.priority}`, textContent: `Priority ${entry.priority}` }),
    el('span', { className: `badge reason t-${entry.trigger}`, textContent: triggerLabel(entry.trigger) }),
    entry.state === 'offline' ? el('span', { className: 'badge offline', textContent: 'Offline' }) : null,
  );
  const wait = el('span', { className: 'wait', 'data-wait': String(entry.id) });
  wait.textContent = clock(waited(entry));
  const feeling = el('span', { className: `mood mood-${entry.mood || 'none'}`, textContent: moodText(entry) });
  const meta = el('p', { className: 'meta' }, 'Waiting ', wait, ' · ', feeling);
  const summaryId = `queue-summary-${entry.id}`;
  const summary = el('p', { className: 'queue-summary', id: summaryId, textContent: entry.summary || 'No summary.' });
  const actions = el(
    'p',
    { className: 'item-actions' },
    el('button', {
      type: 'button',
      className: 'small view',
      textContent: 'View',
      'aria-describedby': summaryId,
      onclick: () => openConversation(entry.id),
    }),
    el('button', {
      type: 'button',
      className: 'small primary claim',
      textContent: 'Claim',
      'aria-describedby': summaryId,
      onclick: () => claim(entry.id),
    }),
  );
  item.append(badges, meta, summary, actions);
  return item;
}

export function tick() {
  for (const node of document.querySelectorAll('[data-wait]')) {
    const entry = state.queue.find((queued) => String(queued.id) === node.dataset.wait);
    if (entry) node.textContent = clock(waited(entry));
  }
}
