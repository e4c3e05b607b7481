/* The /ws/agent live channel (docs/PROTOCOL.md): hello, events, reconnecting with backoff. */

import { resendPending } from './composer.js';
import { refreshHeld, claimedEvent, releasedEvent, messageEvent, typingEvent, customerLeft, socketError } from './conversation.js';
import { $, say } from './dom.js';
import { newHandoff, setQueue } from './queue.js';
import { signOut } from './session.js';
import { state } from './state.js';

export function connect() {
  if (!state.token) return;
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  const socket = new WebSocket(`${scheme}${location.host}/ws/agent`);
  state.socket = socket;
  showLive('Connecting…');
  socket.addEventListener('open', () => {
    socket.send(JSON.stringify({ type: 'hello', token: state.token, last_seq: lastSeqs() }));
  });
  socket.addEventListener('message', (message) => {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    if (event && typeof event === 'object') onEvent(event);
  });
  socket.addEventListener('close', (closed) => {
    if (state.socket !== socket) return; // replaced, or signed out
    state.socket = null;
    if (closed.code === 4401) {
      signOut('Your session has ended. Sign in again.');
      return;
    }
    const delay = Math.min(30000, 1000 * 2 ** state.retry) * (0.5 + Math.random() / 2);
    state.retry += 1;
    showLive('Reconnecting…');
    state.reconnectTimer = setTimeout(connect, delay);
  });
}

function showLive(text) {
  const live = $('live');
  say(live, text);
  live.classList.toggle('online', text === 'Live');
}

export function send(frame) {
  if (state.socket && state.socket.readyState === WebSocket.OPEN) {
    state.socket.send(JSON.stringify(frame));
    return true;
  }
  return false;
}

function lastSeqs() {
  const seqs = {};
  for (const conversation of state.conversations.values()) {
    if (conversation.mine && conversation.loaded) {
      seqs[conversation.conversationId] = conversation.lastSeq;
    }
  }
  return seqs;
}

function onEvent(event) {
  switch (event.type) {
    case 'welcome':
      welcomed(event);
      break;
    case 'queue':
      if (Array.isArray(event.queue)) setQueue(event.queue);
      break;
    case 'handoff_new':
      newHandoff(event.handoff);
      break;
    case 'claimed':
      claimedEvent(event);
      break;
    case 'released':
      releasedEvent(event);
      break;
    case 'message':
      messageEvent(event);
      break;
    case 'typing':
      typingEvent(event);
      break;
    case 'customer_left':
      customerLeft(event);
      break;
    case 'error':
      socketError(event);
      break;
    default:
      break; // events meant for the widget (agent_joined, bot_resumed …)
  }
}

function welcomed(event) {
  const reconnected = state.retry > 0;
  state.retry = 0;
  showLive('Live');
  if (Array.isArray(event.queue)) setQueue(event.queue);
  if (reconnected) refreshHeld();
  for (const conversation of state.conversations.values()) resendPending(conversation);
}
