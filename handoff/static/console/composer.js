/* The reply composer, canned responses and "/shortcut" insertion, and internal notes. */

import { api } from './api.js';
import { $, el, randomId, say, status } from './dom.js';
import { send } from './socket.js';
import { state } from './state.js';
import { scrollTranscript, messageNode, renderNotes } from './transcript.js';

export function sendReply(event) {
  event.preventDefault();
  const conversation = state.conversations.get(state.activeId);
  const box = $('reply');
  const text = box.value.trim();
  if (!conversation || !conversation.mine || !text) return;
  const clientId = randomId('a-');
  const node = messageNode({ speaker: 'agent', text, created_at: null });
  node.classList.add('pending');
  node.dataset.client = clientId;
  node.append(el('span', { className: 'sending', textContent: 'Sending…' }));
  conversation.pending.set(clientId, { text, node });
  $('transcript').append(node);
  scrollTranscript();
  box.value = '';
  say($('canned-hint'), '');
  if (!send({ type: 'message', handoff_id: conversation.handoffId, text, client_id: clientId })) {
    say(node.querySelector('.sending'), 'Waiting for the connection…');
  }
}

export function resendPending(conversation) {
  if (!conversation.mine) return;
  for (const [clientId, pending] of conversation.pending) {
    send({ type: 'message', handoff_id: conversation.handoffId, text: pending.text, client_id: clientId });
  }
}

export function replyKey(event) {
  if (event.key !== 'Tab' && event.key !== 'Enter') return;
  if (event.shiftKey || event.altKey || event.ctrlKey || event.metaKey || event.isComposing) return;
  if (insertShortcut()) {
    event.preventDefault();
  } else if (event.key === 'Enter') {
    event.preventDefault();
    $('reply-form').requestSubmit();
  }
}

/** Replace "/shortcut" just before the caret with its canned text; true if it did. */
function insertShortcut() {
  const box = $('reply');
  const before = box.value.slice(0, box.selectionStart);
  const match = /(^|\s)\/([a-z0-9_-]+)$/.exec(before);
  if (!match) return false;
  const canned = state.canned.find((c) => c.shortcut === match[2]);
  if (!canned) return false;
  const at = before.length - match[2].length - 1;
  box.setRangeText(canned.text, at, box.selectionStart, 'end');
  say($('canned-hint'), '');
  return true;
}

export function replyInput() {
  const box = $('reply');
  const match = /(^|\s)\/([a-z0-9_-]*)$/.exec(box.value.slice(0, box.selectionStart));
  const found = match ? state.canned.filter((c) => c.shortcut.startsWith(match[2])) : [];
  say(
    $('canned-hint'),
    found.length ? `Tab inserts: ${found.map((c) => `/${c.shortcut}`).join(', ')}` : '',
  );
  const conversation = state.conversations.get(state.activeId);
  if (conversation && conversation.mine && Date.now() - state.lastTyping > 2500) {
    state.lastTyping = Date.now();
    send({ type: 'typing', handoff_id: conversation.handoffId });
  }
}

export function setCanned(canned) {
  state.canned = canned;
  const picker = $('canned-picker');
  picker.replaceChildren(
    el('option', { value: '', textContent: 'Canned responses…' }),
    ...canned.map((c) => el('option', { value: c.shortcut, textContent: `/${c.shortcut}: ${c.text}` })),
  );
}

export function pickCanned() {
  const picker = $('canned-picker');
  const canned = state.canned.find((c) => c.shortcut === picker.value);
  picker.value = '';
  if (!canned) return;
  const box = $('reply');
  box.setRangeText(canned.text, box.selectionStart, box.selectionEnd, 'end');
  box.focus();
}

export async function addNote(event) {
  event.preventDefault();
  const conversation = state.conversations.get(state.activeId);
  const box = $('note');
  const text = box.value.trim();
  if (!conversation || !text) return;
  try {
    const answer = await api('POST', `/handoffs/${conversation.handoffId}/notes`, { text });
    const note = { id: answer.id, text, agent: state.agent.name, created_at: new Date().toISOString() };
    conversation.detail.notes = (conversation.detail.notes || []).concat([note]);
    box.value = '';
    renderNotes(conversation);
  } catch (error) {
    status(error.message);
  }
}
