/* Drawing the open conversation: the agent's chats, transcript, reason, notes and history. */

import { api } from './api.js';
import { renderTrail } from './chart.js';
import { openConversation, showTyping } from './conversation.js';
import { $, el, botText, say, status } from './dom.js';
import { number, timeOf, hhmm, plural } from './format.js';
import { WHY, STATES, SPEAKERS, triggerLabel } from './labels.js';
import { state } from './state.js';

export function renderMine() {
  const mine = [...state.conversations.values()].filter((c) => c.mine);
  $('mine-list').replaceChildren(
    ...mine.map((conversation) => {
      const detail = conversation.detail || {};
      const label = `${triggerLabel(detail.trigger)} · ${conversation.conversationId}`;
      const button = el('button', {
        type: 'button',
        className: 'mine-item',
        onclick: () => openConversation(conversation.handoffId),
        'aria-current': state.activeId === conversation.handoffId ? 'true' : undefined,
      });
      button.append(el('span', { className: 'mine-label', textContent: label }));
      if (conversation.unread) {
        button.append(el('span', { className: 'unread', textContent: `${conversation.unread} new` }));
      }
      return el('li', {}, button);
    }),
  );
  $('mine-empty').hidden = mine.length > 0;
}

export function renderActive() {
  const conversation = state.conversations.get(state.activeId);
  const body = $('conversation-body');
  if (!conversation || !conversation.loaded) {
    body.hidden = true;
    $('details').hidden = true;
    $('conversation-empty').hidden = false;
    return;
  }
  const detail = conversation.detail;
  $('conversation-empty').hidden = true;
  body.hidden = false;
  $('details').hidden = false;
  body.dataset.handoff = String(conversation.handoffId);
  say($('conversation-heading'), `Chat ${conversation.conversationId}`);
  const stateBadge = $('conversation-state');
  stateBadge.className = `badge state s-${detail.state}`;
  say(stateBadge, STATES[detail.state] || detail.state);
  const reason = $('conversation-reason');
  reason.className = `badge reason t-${detail.trigger}`;
  say(reason, triggerLabel(detail.trigger));
  say($('conversation-why'), whyText(detail));
  renderTranscript(conversation);
  renderControls(conversation);
  renderReason(detail);
  renderTrail(detail);
  renderNotes(conversation);
  renderHistory(conversation);
  showTyping(conversation);
}

function whyText(detail) {
  const reason = detail.reason || {};
  const parts = [WHY[detail.trigger] || 'Escalated'];
  if (reason.turn) parts.push(`at message ${reason.turn}`);
  return `${parts.join(', ')}.`;
}

function renderControls(conversation) {
  const detail = conversation.detail;
  status('');
  const waiting = detail.state === 'queued' || detail.state === 'offline';
  $('claim-bar').hidden = !waiting;
  $('reply-form').hidden = !conversation.mine;
  $('close-bar').hidden = !conversation.mine;
  $('return-form').hidden = true;
  $('pass-form').hidden = true;
  $('closed-bar').hidden = !conversation.closed;
  $('note-form').hidden = false;
  if (conversation.outcome) status(conversation.outcome);
  else if (detail.state === 'abandoned') status('The customer left the chat.');
  else if (!conversation.mine && !waiting && !conversation.closed) {
    status('Another agent holds this chat.');
  }
}

function renderTranscript(conversation) {
  const list = $('transcript');
  const seqs = [...conversation.messages.keys()].sort((a, b) => a - b);
  list.replaceChildren(...seqs.map((seq) => messageNode(conversation.messages.get(seq))));
  for (const pending of conversation.pending.values()) list.append(pending.node);
  scrollTranscript();
}

export function appendToTranscript(conversation, message) {
  const pending = message.client_id ? [...document.querySelectorAll('#transcript .pending')] : [];
  for (const node of pending) {
    if (node.dataset.client === message.client_id) node.remove();
  }
  const list = $('transcript');
  const node = messageNode(message);
  const after = [...list.children].find((child) => Number(child.dataset.seq) > message.seq);
  if (after) list.insertBefore(node, after);
  else {
    const firstPending = list.querySelector('.pending');
    if (firstPending) list.insertBefore(node, firstPending);
    else list.append(node);
  }
  scrollTranscript();
}

export function scrollTranscript() {
  const log = $('transcript-log');
  log.scrollTop = log.scrollHeight;
}

export function messageNode(message) {
  const speaker = SPEAKERS[message.speaker] ? message.speaker : 'system';
  const item = el('li', { className: `message from-${speaker}` });
  if (typeof message.seq === 'number') item.dataset.seq = String(message.seq);
  const name = el('span', { className: 'speaker', textContent: SPEAKERS[speaker] });
  const head = el('p', { className: 'who' }, name);
  const at = hhmm(message.created_at);
  if (at) head.append(el('span', { className: 'at', textContent: at }));
  const body = el('p', { className: 'text' });
  if (speaker === 'bot') body.append(botText(String(message.text || '')));
  else body.textContent = String(message.text || '');
  item.append(head, body);
  if (speaker === 'bot' && Array.isArray(message.buttons) && message.buttons.length) {
    item.append(
      el(
        'p',
        { className: 'offered' },
        'Offered: ',
        message.buttons.map((b) => String(b.title || b.payload || '')).join(' · '),
      ),
    );
  }
  if (speaker === 'customer' && (message.intent || typeof message.sentiment === 'number')) {
    const scores = [];
    if (message.intent) scores.push(message.intent);
    if (typeof message.confidence === 'number') scores.push(`confidence ${number(message.confidence, 2)}`);
    if (typeof message.sentiment === 'number') scores.push(`sentiment ${number(message.sentiment, 2)}`);
    item.append(el('p', { className: 'scores', textContent: scores.join(' · ') }));
  }
  return item;
}

function renderReason(detail) {
  const reason = detail.reason || {};
  const rows = [
    ['Trigger', triggerLabel(detail.trigger)],
    ['Priority', `${detail.priority} of 3`],
    ['Value', reason.value],
    ['Threshold', reason.threshold],
    ['At message', reason.turn],
    ['Mood', detail.mood],
    ['Escalated', timeOf(detail.created_at)],
  ];
  $('reason-list').replaceChildren(
    ...rows
      .filter(([, value]) => value !== undefined && value !== null && value !== '')
      .flatMap(([term, value]) => [el('dt', { textContent: term }), el('dd', { textContent: String(value) })]),
  );
  say($('summary'), detail.summary || '');
}

export function renderNotes(conversation) {
  const notes = (conversation.detail && conversation.detail.notes) || [];
  const list = $('notes');
  list.replaceChildren(
    ...notes.map((note) =>
      el(
        'li',
        { className: 'note' },
        el('p', { className: 'note-text', textContent: String(note.text || '') }),
        el('p', { className: 'note-meta', textContent: `${note.agent || ''} · ${timeOf(note.created_at)}` }),
      ),
    ),
  );
  if (!notes.length) list.append(el('li', { className: 'empty', textContent: 'No notes yet.' }));
}

async function renderHistory(conversation) {
  const list = $('history');
  if (!conversation.history) {
    list.replaceChildren(el('li', { className: 'empty', textContent: 'Loading…' }));
    try {
      const answer = await api('GET', `/handoffs/${conversation.handoffId}/history`);
      conversation.history = answer.conversations || [];
    } catch {
      list.replaceChildren(el('li', { className: 'empty', textContent: 'Could not load them.' }));
      return;
    }
    if (state.activeId !== conversation.handoffId) return;
  }
  if (!conversation.history.length) {
    list.replaceChildren(el('li', { className: 'empty', textContent: 'No earlier conversations.' }));
    return;
  }
  list.replaceChildren(
    ...conversation.history.map((earlier) => {
      const item = el(
        'li',
        { className: 'earlier' },
        el('p', {
          className: 'earlier-head',
          textContent: `${timeOf(earlier.started_at)} · ${plural(earlier.messages, 'message')}`,
        }),
      );
      for (const handoff of earlier.handoffs || []) {
        item.append(
          el('p', {
            className: 'earlier-handoff',
            textContent: `${triggerLabel(handoff.trigger)}: ${STATES[handoff.state] || handoff.state}. `
              + (handoff.summary || ''),
          }),
        );
      }
      if (!(earlier.handoffs || []).length) {
        item.append(el('p', { className: 'earlier-handoff', textContent: 'The assistant handled it alone.' }));
      }
      return item;
    }),
  );
}
