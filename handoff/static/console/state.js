/* The console's shared state, and the keys it keeps in browser storage. */

export const KEYS = {
  token: 'larkspur.console.token',
  agent: 'larkspur.console.agent',
  held: 'larkspur.console.held',
  muted: 'larkspur.console.muted',
};

export const state = {
  token: null,
  agent: null,
  queue: [], // entries as the service sent them, each stamped with when it arrived
  conversations: new Map(), // handoff id -> conversation
  activeId: null,
  canned: [],
  unseen: new Set(), // new handoffs the agent has not looked at yet
  socket: null,
  retry: 0,
  reconnectTimer: null,
  tickTimer: null,
  audio: null,
  lastTyping: 0,
};
