/* The conversations the agent looks at or holds, and the live events about them. */

import { api } from './api.js';
import { $, say, status, announce } from './dom.js';
import { seen } from './notify.js';
import { renderQueue } from './queue.js';
import { KEYS, state } from './state.js';
import { renderMine, renderActive, appendToTranscript } from './transcript.js';

function conversationFor(handoffId, conversationId) {
  let conversation = state.conversations.get(handoffId);
  if (!conversation) {
    conversation = {
      handoffId,
      conversationId,
      detail: null,
      loaded: false,
      mine: false,
      closed: false,
      outcome: '', // what this agent did last, e.g. "Passed to Ben.": re-renders keep it
      messages: new Map(),
      lastSeq: 0,
      pending: new Map(),
      unread: 0,
      history: null,
      typingUntil: 0,
    };
    state.conversations.set(handoffId, conversation);
  }
  return conversation;
}

function byConversationId(conversationId) {
  for (const conversation of state.conversations.values()) {
    if (conversation.conversationId === conversationId && conversation.mine) return conversation;
  }
  return null;
}

export function absorb(detail) {
  const conversation = conversationFor(detail.id, detail.conversation_id);
  conversation.detail = detail;
  conversation.loaded = true;
  conversation.mine = detail.state === 'assigned' && detail.agent_id === state.agent.id;
  // A chat this agent passed on stays done for them, though another agent now holds it.
  if (conversation.mine) conversation.outcome = '';
  const passedOn = conversation.outcome !== '' && detail.state === 'assigned';
  conversation.closed = passedOn || !['queued', 'offline', 'assigned'].includes(detail.state);
  for (const message of detail.messages || []) addMessage(conversation, message);
  return conversation;
}

function addMessage(conversation, message) {
  if (typeof message.seq !== 'number' || conversation.messages.has(message.seq)) return false;
  conversation.messages.set(message.seq, message);
  conversation.lastSeq = Math.max(conversation.lastSeq, message.seq);
  return true;
}

export function saveHeld() {
  const held = [...state.conversations.values()].filter((c) => c.mine).map((c) => c.handoffId);
  sessionStorage.setItem(KEYS.held, JSON.stringify(held));
}

/** After a reload: the chats this agent held, as the service sees them now. */
export async function restoreHeld() {
  let held = [];
  try {
    held = JSON.parse(sessionStorage.getItem(KEYS.held) || '[]');
  } catch {
    held = [];
  }
  for (const handoffId of held) {
    if (typeof handoffId !== 'number') continue;
    try {
      const conversation = absorb(await api('GET', `/handoffs/${handoffId}`));
      if (!conversation.mine) state.conversations.delete(handoffId);
    } catch (error) {
      if (error.status === 401) throw error;
    }
  }
  saveHeld();
  renderMine();
}

export async function refreshHeld() {
  for (const conversation of [...state.conversations.values()]) {
    if (!conversation.mine) continue;
    try {
      absorb(await api('GET', `/handoffs/${conversation.handoffId}`));
    } catch (error) {
      if (error.status === 401) return;
    }
  }
  saveHeld();
  renderMine();
  renderActive();
}

export async function openConversation(handoffId) {
  state.activeId = handoffId;
  seen();
  renderQueue();
  renderMine();
  const conversation = state.conversations.get(handoffId);
  if (conversation && conversation.loaded && conversation.mine) {
    conversation.unread = 0;
    renderActive();
    renderMine();
    return;
  }
  try {
    absorb(await api('GET', `/handoffs/${handoffId}`));
  } catch (error) {
    status(error.message);
    return;
  }
  if (state.activeId === handoffId) renderActive();
}

export async function claim(handoffId) {
  seen();
  try {
    const detail = await api('POST', `/handoffs/${handoffId}/claim`);
    took(detail);
  } catch (error) {
    status(error.message);
    announce(error.message);
  }
}

export async function claimNext() {
  seen();
  try {
    took(await api('POST', '/queue/claim-next'));
  } catch (error) {
    status(error.message);
    announce(error.message);
  }
}

function took(detail) {
  const conversation = absorb(detail);
  conversation.unread = 0;
  state.activeId = detail.id;
  state.queue = state.queue.filter((entry) => entry.id !== detail.id);
  saveHeld();
  renderQueue();
  renderMine();
  renderActive();
  status('');
  $('reply').focus();
}

export async function claimedEvent(event) {
  const known = state.conversations.get(event.handoff_id);
  if (known && known.mine) return;
  const conversation = conversationFor(event.handoff_id, event.conversation_id);
  conversation.mine = true; // messages arriving meanwhile are kept
  try {
    absorb(await api('GET', `/handoffs/${event.handoff_id}`));
  } catch {
    return;
  }
  saveHeld();
  renderMine();
  if (state.activeId === event.handoff_id) renderActive();
  else announce('A chat was passed to you.');
}

export async function releasedEvent(event) {
  const conversation = state.conversations.get(event.handoff_id);
  if (!conversation) return;
  conversation.mine = false;
  conversation.closed = true;
  saveHeld();
  try {
    absorb(await api('GET', `/handoffs/${event.handoff_id}`));
  } catch {
    // keep what is shown
  }
  renderMine();
  if (state.activeId === event.handoff_id) renderActive();
}

export function messageEvent(event) {
  const conversation = byConversationId(event.conversation_id);
  if (!conversation || !addMessage(conversation, event)) return;
  if (event.client_id && conversation.pending.has(event.client_id)) {
    conversation.pending.delete(event.client_id);
  }
  if (state.activeId === conversation.handoffId && conversation.loaded) {
    appendToTranscript(conversation, event);
    if (event.speaker === 'customer') conversation.typingUntil = 0;
    showTyping(conversation);
  } else if (event.speaker === 'customer') {
    conversation.unread += 1;
    renderMine();
  }
}

export function typingEvent(event) {
  if (event.speaker !== 'customer') return;
  const conversation = event.conversation_id
    ? byConversationId(event.conversation_id)
    : state.conversations.get(state.activeId);
  if (!conversation) return;
  conversation.typingUntil = Date.now() + 4000;
  showTyping(conversation);
  setTimeout(() => showTyping(conversation), 4100);
}

export function showTyping(conversation) {
  if (state.activeId !== conversation.handoffId) return;
  const typing = Date.now() < conversation.typingUntil;
  say($('typing'), typing ? 'The customer is typing…' : '');
}

export function customerLeft(event) {
  const conversation = event.conversation_id
    ? byConversationId(event.conversation_id)
    : state.conversations.get(state.activeId);
  if (conversation && state.activeId === conversation.handoffId) {
    status('The customer left the chat.');
  }
  announce('A customer left the chat.');
}

export function socketError(event) {
  for (const conversation of state.conversations.values()) {
    const pending = event.client_id && conversation.pending.get(event.client_id);
    if (pending) {
      conversation.pending.delete(event.client_id);
      pending.node.classList.add('failed');
      say(pending.node.querySelector('.sending'), `Not sent: ${event.message}`);
      return;
    }
  }
  status(event.message || 'The service refused that.');
}
