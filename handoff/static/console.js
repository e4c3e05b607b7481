/* The agents' console: queue, conversations, reports. Vanilla JS, no build step.
 *
 * Everything a customer, the bot or an agent wrote is put on the page with textContent
 * (never innerHTML), and only http(s) links from the bot become anchors, so typed markup
 * stays text. The page's CSP forbids inline script and style as a second line.
 * Live updates come over /ws/agent (docs/PROTOCOL.md); actions are HTTP calls.
 */
(function () {
  'use strict';

  const TITLE = 'Larkspur support console';
  const KEYS = {
    token: 'larkspur.console.token',
    agent: 'larkspur.console.agent',
    held: 'larkspur.console.held',
    muted: 'larkspur.console.muted',
  };
  const TRIGGERS = {
    explicit_request: 'Asked for a person',
    sensitive_topic: 'Sensitive topic',
    strong_negative: 'Very upset',
    negative_trend: 'Stayed unhappy',
    low_confidence: 'Not understood',
  };
  const WHY = {
    explicit_request: 'The customer asked for a person',
    sensitive_topic: 'The topic always goes to a person',
    strong_negative: 'A strongly negative message',
    negative_trend: 'The customer stayed negative over several messages',
    low_confidence: 'The assistant did not understand several messages in a row',
  };
  const STATES = {
    queued: 'Waiting',
    offline: 'Offline ticket',
    assigned: 'With an agent',
    resolved: 'Resolved',
    returned: 'Returned to the bot',
    abandoned: 'Customer left',
  };
  const SPEAKERS = { customer: 'Customer', bot: 'Bot', agent: 'Agent', system: 'System' };
  const SVG = 'http://www.w3.org/2000/svg';

  const state = {
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

  const $ = (id) => document.getElementById(id);

  /** An element with properties (className, textContent, …) or attributes, and children. */
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null) continue;
      if (key.startsWith('aria-') || key.startsWith('data-') || key === 'role') {
        node.setAttribute(key, value);
      } else {
        node[key] = value;
      }
    }
    for (const child of children) {
      if (child !== undefined && child !== null && child !== false) node.append(child);
    }
    return node;
  }

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    return node;
  }

  function randomId(prefix) {
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  // --- formatting --------------------------------------------------------------------

  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    if (s < 3600) return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
    return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return '—';
    const s = Math.round(seconds);
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
    return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  }

  function number(value, digits) {
    if (value === null || value === undefined || Number.isNaN(Number(value))) return '—';
    const text = Number(value).toFixed(digits);
    return Number(text) === 0 ? (0).toFixed(digits) : text.replace('-', '−'); // no "−0.00"
  }

  /** The service's times are UTC; one without an offset is read as UTC too. */
  function parseTime(iso) {
    if (!iso) return null;
    const date = new Date(/(Z|[+-]\d\d:\d\d)$/i.test(iso) ? iso : `${iso}Z`);
    return Number.isNaN(date.getTime()) ? null : date;
  }

  function timeOf(iso) {
    const date = parseTime(iso);
    return date ? date.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' }) : '';
  }

  function hhmm(iso) {
    const date = parseTime(iso);
    return date ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : '';
  }

  function plural(count, noun) {
    return `${count} ${noun}${count === 1 ? '' : 's'}`;
  }

  function triggerLabel(trigger) {
    return TRIGGERS[trigger] || String(trigger || 'Escalated').replace(/_/g, ' ');
  }

  /** A bot message: Markdown links to http(s) become anchors; anything else stays text. */
  function botText(text) {
    const fragment = document.createDocumentFragment();
    const link = /\[([^\]\n]{1,300})\]\(([^()\s]{1,2000})\)/g;
    let last = 0;
    for (let match = link.exec(text); match !== null; match = link.exec(text)) {
      fragment.append(text.slice(last, match.index));
      const href = safeHref(match[2]);
      if (href) {
        const anchor = el('a', { href, rel: 'noopener noreferrer', target: '_blank' });
        anchor.textContent = match[1];
        fragment.append(anchor);
      } else {
        fragment.append(match[0]);
      }
      last = link.lastIndex;
    }
    fragment.append(text.slice(last));
    return fragment;
  }

  function safeHref(raw) {
    try {
      const url = new URL(raw);
      return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
    } catch {
      return null; // relative or malformed: not a link
    }
  }

  // --- HTTP --------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message || `The service answered ${status}.`);
      this.status = status;
      this.code = code || 'error';
    }
  }

  async function api(method, path, body) {
    const headers = { Authorization: `Bearer ${state.token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch {
      throw new ApiError(0, 'network', 'The service cannot be reached; try again.');
    }
    const data = await response.json().catch(() => ({}));
    if (response.status === 401) {
      signOut('Your session has ended. Sign in again.');
      throw new ApiError(401, 'unauthorized', 'Signed out.');
    }
    if (!response.ok) {
      const error = data && data.error ? data.error : {};
      throw new ApiError(response.status, error.code, error.message);
    }
    return data;
  }

  function say(node, text) {
    node.textContent = text || '';
  }

  // --- signing in and out ------------------------------------------------------------

  async function login(event) {
    event.preventDefault();
    unlockAudio();
    const name = $('login-name').value.trim();
    const password = $('login-password').value;
    const error = $('login-error');
    if (!name || !password) {
      showError(error, 'Enter your name and password.');
      return;
    }
    let response;
    try {
      response = await fetch('/agent/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name, password }),
      });
    } catch {
      showError(error, 'The service cannot be reached; try again.');
      return;
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const message = data && data.error ? data.error.message : '';
      showError(error, message || 'Signing in failed.');
      return;
    }
    $('login-password').value = '';
    error.hidden = true;
    sessionStorage.setItem(KEYS.token, data.token);
    sessionStorage.setItem(KEYS.agent, JSON.stringify(data.agent));
    start(data.token, data.agent);
  }

  function showError(node, message) {
    say(node, message);
    node.hidden = false;
  }

  function signOut(message) {
    const socket = state.socket;
    state.token = null;
    state.socket = null;
    if (socket) socket.close(1000, 'signed out');
    clearTimeout(state.reconnectTimer);
    clearInterval(state.tickTimer);
    sessionStorage.removeItem(KEYS.token);
    sessionStorage.removeItem(KEYS.agent);
    sessionStorage.removeItem(KEYS.held);
    state.conversations.clear();
    state.activeId = null;
    state.unseen.clear();
    state.queue = [];
    updateTitle();
    $('nav').hidden = true;
    $('me').hidden = true;
    $('chats-view').hidden = true;
    $('reports-view').hidden = true;
    $('login-view').hidden = false;
    if (message) showError($('login-error'), message);
    $('login-name').focus();
  }

  async function logout() {
    try {
      await api('POST', '/agent/logout');
    } catch {
      // signed out locally either way
    }
    signOut('');
  }

  async function start(token, agent) {
    state.token = token;
    state.agent = agent;
    $('login-view').hidden = true;
    $('nav').hidden = false;
    $('me').hidden = false;
    say($('agent-name'), agent.name);
    route();
    try {
      const me = await api('GET', '/agent/me');
      state.agent = me;
      $('available').checked = Boolean(me.available);
      const canned = await api('GET', '/canned-responses');
      setCanned(canned.canned_responses || []);
      await restoreHeld();
    } catch (error) {
      if (error.status === 401) return;
      status(error.message);
    }
    connect();
    clearInterval(state.tickTimer);
    state.tickTimer = setInterval(tick, 1000);
  }

  async function setAvailability() {
    const box = $('available');
    try {
      const answer = await api('PUT', '/agent/me/availability', { available: box.checked });
      box.checked = Boolean(answer.available);
      announce(box.checked ? 'You are available for new chats.' : 'You are away.');
    } catch (error) {
      box.checked = !box.checked;
      status(error.message);
    }
  }

  // --- views ------------------------------------------------------------------------

  function route() {
    if (!state.token) return;
    const reports = location.hash === '#reports';
    $('chats-view').hidden = reports;
    $('reports-view').hidden = !reports;
    setCurrent($('nav-chats'), !reports);
    setCurrent($('nav-reports'), reports);
    if (reports) loadReports();
  }

  function setCurrent(link, current) {
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }

  /** A message about the open conversation, or about the queue when none is open. */
  function status(message) {
    const open = !$('conversation-body').hidden;
    say($('conversation-status'), open ? message : '');
    say($('notice'), open ? '' : message);
  }

  function announce(message) {
    say($('announcer'), message);
  }

  // --- notifications ----------------------------------------------------------------

  function muted() {
    return localStorage.getItem(KEYS.muted) === '1';
  }

  function showMute() {
    $('mute').setAttribute('aria-pressed', String(muted()));
  }

  function toggleMute() {
    localStorage.setItem(KEYS.muted, muted() ? '0' : '1');
    showMute();
    unlockAudio();
  }

  /** Browsers let audio start only after a gesture, so the context is made on the first one. */
  function unlockAudio() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    try {
      if (!state.audio) state.audio = new Context();
      if (state.audio.state === 'suspended') state.audio.resume().catch(() => {});
    } catch {
      state.audio = null; // no sound here; the title badge still tells
    }
  }

  /** Two short rising tones made on the spot: no audio file to fetch. */
  function chime() {
    if (muted()) return;
    unlockAudio();
    const audio = state.audio;
    if (!audio) return;
    const now = audio.currentTime;
    [
      [660, 0],
      [990, 0.14],
    ].forEach(([frequency, delay]) => {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.type = 'sine';
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, now + delay);
      gain.gain.exponentialRampToValueAtTime(0.25, now + delay + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + delay + 0.2);
      tone.connect(gain);
      gain.connect(audio.destination);
      tone.start(now + delay);
      tone.stop(now + delay + 0.22);
    });
  }

  function updateTitle() {
    const waiting = new Set(state.queue.map((entry) => entry.id));
    for (const id of state.unseen) if (!waiting.has(id)) state.unseen.delete(id);
    const count = state.unseen.size;
    document.title = count ? `(${count}) ${TITLE}` : TITLE;
  }

  function seen() {
    if (state.unseen.size && document.visibilityState === 'visible') {
      state.unseen.clear();
      updateTitle();
    }
  }

  function newHandoff(entry) {
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

  // --- the live socket --------------------------------------------------------------

  function connect() {
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

  function send(frame) {
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

  // --- the queue ----------------------------------------------------------------------

  function setQueue(queue) {
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
  function renderQueue() {
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

  function tick() {
    for (const node of document.querySelectorAll('[data-wait]')) {
      const entry = state.queue.find((queued) => String(queued.id) === node.dataset.wait);
      if (entry) node.textContent = clock(waited(entry));
    }
  }

  // --- conversations ------------------------------------------------------------------

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

  function absorb(detail) {
    const conversation = conversationFor(detail.id, detail.conversation_id);
    conversation.detail = detail;
    conversation.loaded = true;
    conversation.mine = detail.state === 'assigned' && detail.agent_id === state.agent.id;
    conversation.closed = !['queued', 'offline', 'assigned'].includes(detail.state);
    for (const message of detail.messages || []) addMessage(conversation, message);
    return conversation;
  }

  function addMessage(conversation, message) {
    if (typeof message.seq !== 'number' || conversation.messages.has(message.seq)) return false;
    conversation.messages.set(message.seq, message);
    conversation.lastSeq = Math.max(conversation.lastSeq, message.seq);
    return true;
  }

  function saveHeld() {
    const held = [...state.conversations.values()].filter((c) => c.mine).map((c) => c.handoffId);
    sessionStorage.setItem(KEYS.held, JSON.stringify(held));
  }

  /** After a reload: the chats this agent held, as the service sees them now. */
  async function restoreHeld() {
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

  async function refreshHeld() {
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

  async function openConversation(handoffId) {
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

  async function claim(handoffId) {
    seen();
    try {
      const detail = await api('POST', `/handoffs/${handoffId}/claim`);
      took(detail);
    } catch (error) {
      status(error.message);
      announce(error.message);
    }
  }

  async function claimNext() {
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

  async function claimedEvent(event) {
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

  async function releasedEvent(event) {
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

  function messageEvent(event) {
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

  function typingEvent(event) {
    if (event.speaker !== 'customer') return;
    const conversation = event.conversation_id
      ? byConversationId(event.conversation_id)
      : state.conversations.get(state.activeId);
    if (!conversation) return;
    conversation.typingUntil = Date.now() + 4000;
    showTyping(conversation);
    setTimeout(() => showTyping(conversation), 4100);
  }

  function showTyping(conversation) {
    if (state.activeId !== conversation.handoffId) return;
    const typing = Date.now() < conversation.typingUntil;
    say($('typing'), typing ? 'The customer is typing…' : '');
  }

  function customerLeft(event) {
    const conversation = event.conversation_id
      ? byConversationId(event.conversation_id)
      : state.conversations.get(state.activeId);
    if (conversation && state.activeId === conversation.handoffId) {
      status('The customer left the chat.');
    }
    announce('A customer left the chat.');
  }

  function socketError(event) {
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

  // --- sending ----------------------------------------------------------------------

  function sendReply(event) {
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

  function resendPending(conversation) {
    if (!conversation.mine) return;
    for (const [clientId, pending] of conversation.pending) {
      send({ type: 'message', handoff_id: conversation.handoffId, text: pending.text, client_id: clientId });
    }
  }

  function replyKey(event) {
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

  function replyInput() {
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

  function setCanned(canned) {
    state.canned = canned;
    const picker = $('canned-picker');
    picker.replaceChildren(
      el('option', { value: '', textContent: 'Canned responses…' }),
      ...canned.map((c) => el('option', { value: c.shortcut, textContent: `/${c.shortcut}: ${c.text}` })),
    );
  }

  function pickCanned() {
    const picker = $('canned-picker');
    const canned = state.canned.find((c) => c.shortcut === picker.value);
    picker.value = '';
    if (!canned) return;
    const box = $('reply');
    box.setRangeText(canned.text, box.selectionStart, box.selectionEnd, 'end');
    box.focus();
  }

  // --- closing --------------------------------------------------------------------------

  async function resolve() {
    const conversation = state.conversations.get(state.activeId);
    if (!conversation) return;
    try {
      await api('POST', `/handoffs/${conversation.handoffId}/resolve`);
      await closed(conversation, 'Resolved. The customer is asked to rate the chat.');
    } catch (error) {
      status(error.message);
    }
  }

  function openReturn() {
    $('return-form').hidden = false;
    $('close-bar').hidden = true;
    $('return-summary').focus();
  }

  function cancelReturn() {
    $('return-form').hidden = true;
    $('close-bar').hidden = false;
    $('return-open').focus();
  }

  async function returnToBot(event) {
    event.preventDefault();
    const conversation = state.conversations.get(state.activeId);
    if (!conversation) return;
    const summary = $('return-summary').value.trim();
    try {
      await api('POST', `/handoffs/${conversation.handoffId}/return`, summary ? { summary } : {});
      $('return-summary').value = '';
      await closed(conversation, 'Returned to the bot, with your summary.');
    } catch (error) {
      status(error.message);
    }
  }

  /** Colleagues signed in and taking chats first; those without a free seat can't be picked. */
  async function openPass() {
    const select = $('pass-to');
    let agents = [];
    try {
      agents = (await api('GET', '/agents')).agents;
    } catch (error) {
      status(error.message);
      return;
    }
    const others = agents
      .filter((agent) => agent.id !== state.agent.id)
      .map((agent) => ({ ...agent, ready: agent.available && agent.signed_in }))
      .sort((a, b) => Number(b.ready) - Number(a.ready) || a.name.localeCompare(b.name));
    select.replaceChildren(
      el('option', { value: '' }, 'Back to the queue (the next free agent)'),
      ...others.map((agent) => {
        const full = agent.holding >= agent.capacity;
        const where = agent.ready ? 'available' : agent.signed_in ? 'away' : 'signed out';
        const load = `${agent.holding} of ${agent.capacity} chats`;
        return el(
          'option',
          { value: String(agent.id), disabled: full, 'data-name': agent.name },
          `${agent.name} (${where}, ${load}${full ? ', full' : ''})`,
        );
      }),
    );
    $('pass-form').hidden = false;
    $('close-bar').hidden = true;
    select.focus();
  }

  function cancelPass() {
    $('pass-form').hidden = true;
    $('close-bar').hidden = false;
    $('pass-open').focus();
  }

  async function passOn(event) {
    event.preventDefault();
    const conversation = state.conversations.get(state.activeId);
    if (!conversation) return;
    const choice = $('pass-to').selectedOptions[0];
    const agentId = choice && choice.value ? Number(choice.value) : null;
    const name = agentId === null ? '' : choice.dataset.name;
    try {
      const body = agentId === null ? {} : { agent_id: agentId };
      await api('POST', `/handoffs/${conversation.handoffId}/reassign`, body);
      $('pass-form').hidden = true;
      await closed(conversation, name ? `Passed to ${name}.` : 'Back in the queue for the next free agent.');
    } catch (error) {
      status(error.message);
    }
  }

  async function closed(conversation, message) {
    conversation.mine = false;
    conversation.closed = true;
    saveHeld();
    try {
      absorb(await api('GET', `/handoffs/${conversation.handoffId}`));
    } catch {
      // the state shown is good enough
    }
    renderMine();
    renderActive();
    status(message);
    $('dismiss').focus();
  }

  function dismiss() {
    state.conversations.delete(state.activeId);
    state.activeId = null;
    renderMine();
    renderActive();
  }

  async function addNote(event) {
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

  // --- drawing a conversation ---------------------------------------------------------

  function renderMine() {
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

  function renderActive() {
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
    if (detail.state === 'abandoned') status('The customer left the chat.');
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

  function appendToTranscript(conversation, message) {
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

  function scrollTranscript() {
    const log = $('transcript-log');
    log.scrollTop = log.scrollHeight;
  }

  function messageNode(message) {
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

  /** The per-message scores: from the escalation's trail, else from the scored messages. */
  function trailOf(detail) {
    const trail = Array.isArray(detail.score_trail) ? detail.score_trail : [];
    const points = trail
      .filter((t) => typeof t.sentiment === 'number' || typeof t.confidence === 'number')
      .map((t, i) => ({
        turn: t.turn || i + 1,
        sentiment: t.sentiment,
        confidence: t.confidence,
        level: t.level || '',
        intent: t.intent || '',
      }));
    if (points.length) return points;
    return (detail.messages || [])
      .filter((m) => m.speaker === 'customer' && typeof m.sentiment === 'number')
      .map((m, i) => ({
        turn: i + 1,
        sentiment: m.sentiment,
        confidence: m.confidence,
        level: '',
        intent: m.intent || '',
      }));
  }

  function renderTrail(detail) {
    const holder = $('trail');
    const points = trailOf(detail);
    if (!points.length) {
      holder.replaceChildren(
        el('p', {
          className: 'empty',
          textContent: 'No scores: the customer did not talk to the assistant before the handoff.',
        }),
      );
      return;
    }
    const chart = trailChart(points);
    const caption = el('figcaption', { id: 'trail-caption', textContent: trailSummary(points) });
    chart.setAttribute('aria-labelledby', 'trail-caption');
    const legend = el(
      'p',
      { className: 'legend', 'aria-hidden': 'true' },
      el('span', { className: 'key key-sentiment', textContent: 'Sentiment' }),
      el('span', { className: 'key key-confidence', textContent: 'Confidence' }),
    );
    holder.replaceChildren(el('figure', {}, chart, legend, caption), trailTable(points));
  }

  function trailChart(points) {
    const width = 300;
    const height = 132;
    const left = 30;
    const right = 10;
    const top = 8;
    const bottom = 22;
    const x = (i) =>
      points.length === 1 ? (left + width - right) / 2 : left + (i * (width - left - right)) / (points.length - 1);
    const y = (v) => top + ((1 - Math.max(-1, Math.min(1, v))) / 2) * (height - top - bottom);
    const chart = svg('svg', {
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: 'img',
      class: 'trail-chart',
    });
    for (const [value, label] of [
      [1, '1'],
      [0, '0'],
      [-1, '−1'],
    ]) {
      const grid = value ? 'grid' : 'grid zero';
      chart.append(svg('line', { x1: left, x2: width - right, y1: y(value), y2: y(value), class: grid }));
      const text = svg('text', { x: left - 6, y: y(value) + 4, class: 'axis', 'text-anchor': 'end' });
      text.textContent = label;
      chart.append(text);
    }
    points.forEach((point, i) => {
      const text = svg('text', { x: x(i), y: height - 6, class: 'axis', 'text-anchor': 'middle' });
      text.textContent = String(point.turn);
      chart.append(text);
    });
    for (const [key, name] of [
      ['confidence', 'Confidence'],
      ['sentiment', 'Sentiment'],
    ]) {
      const scored = points.map((p, i) => [i, p[key]]).filter(([, v]) => typeof v === 'number');
      if (!scored.length) continue;
      chart.append(
        svg('polyline', {
          points: scored.map(([i, v]) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' '),
          class: `line line-${key}`,
        }),
      );
      for (const [i, v] of scored) {
        const dot = svg('circle', { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: 3.5, class: `dot dot-${key}` });
        const title = svg('title');
        title.textContent = `Message ${points[i].turn}: ${name.toLowerCase()} ${number(v, 2)}`;
        dot.append(title);
        chart.append(dot);
      }
    }
    return chart;
  }

  function trailSummary(points) {
    const describe = (key, name) => {
      const values = points.map((p) => p[key]).filter((v) => typeof v === 'number');
      if (!values.length) return `${name} was not scored`;
      if (values.length === 1) return `${name} ${number(values[0], 2)}`;
      const [first, last] = [values[0], values[values.length - 1]];
      const lowest = Math.min(...values);
      return `${name} went from ${number(first, 2)} to ${number(last, 2)} (lowest ${number(lowest, 2)})`;
    };
    const count = plural(points.length, 'customer message');
    const sentiment = describe('sentiment', 'sentiment');
    return `Over ${count}: ${sentiment}; ${describe('confidence', 'the assistant’s confidence')}.`;
  }

  function trailTable(points) {
    const head = el(
      'tr',
      {},
      ...['Message', 'Sentiment', 'Confidence', 'Mood'].map((h) => el('th', { scope: 'col', textContent: h })),
    );
    const rows = points.map((p) =>
      el(
        'tr',
        {},
        el('td', { textContent: String(p.turn) }),
        el('td', { textContent: number(p.sentiment, 2) }),
        el('td', { textContent: number(p.confidence, 2) }),
        el('td', { textContent: p.level || '—' }),
      ),
    );
    return el(
      'details',
      { className: 'trail-values' },
      el('summary', { textContent: 'Show the values' }),
      el('table', {}, el('thead', {}, head), el('tbody', {}, ...rows)),
    );
  }

  function renderNotes(conversation) {
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

  // --- reports ------------------------------------------------------------------------

  async function loadReports() {
    const days = Number($('report-days').value) || 30;
    say($('report-status'), 'Loading…');
    let figures;
    try {
      figures = await api('GET', `/reports?days=${days}`);
    } catch (error) {
      say($('report-status'), error.message);
      return;
    }
    say($('report-status'), `Figures for the last ${days === 1 ? '24 hours' : `${days} days`}.`);
    renderReports(figures);
  }

  function figure(name, value) {
    return el('dd', { 'data-figure': name, textContent: value });
  }

  function spanCard(key, title, explanation, span) {
    return el(
      'section',
      { className: 'card', 'aria-labelledby': `card-${key}` },
      el('h3', { id: `card-${key}`, textContent: title }),
      el('p', { className: 'hint', textContent: explanation }),
      el(
        'dl',
        { className: 'figures' },
        el('dt', { textContent: 'Median' }),
        figure(`${key}-median`, duration(span.median_s)),
        el('dt', { textContent: 'Mean' }),
        figure(`${key}-mean`, duration(span.mean_s)),
        el('dt', { textContent: 'Chats' }),
        figure(`${key}-count`, String(span.count)),
      ),
    );
  }

  function barTable(key, caption, rows, total) {
    const body = rows.map(([name, label, count]) => {
      const bar = el('span', { className: 'bar-fill' });
      bar.style.width = `${total ? Math.round((100 * count) / total) : 0}%`;
      return el(
        'tr',
        {},
        el('th', { scope: 'row', textContent: label }),
        el('td', { 'data-figure': `${key}-${name}`, textContent: String(count) }),
        el('td', { className: 'bar-cell', 'aria-hidden': 'true' }, el('span', { className: 'bar-track' }, bar)),
      );
    });
    return el(
      'table',
      { className: 'bars' },
      el('caption', { className: 'visually-hidden', textContent: caption }),
      el('tbody', {}, ...body),
    );
  }

  function renderReports(figures) {
    const csat = figures.csat || { count: 0, mean: null, distribution: {} };
    const distribution = ['5', '4', '3', '2', '1'].map((n) => [n, `Rated ${n}`, csat.distribution[n] || 0]);
    const triggers = Object.entries(figures.by_trigger || {}).sort((a, b) => b[1] - a[1]);
    const states = Object.entries(figures.by_state || {}).sort((a, b) => b[1] - a[1]);
    const containment =
      figures.containment === null || figures.containment === undefined
        ? '—'
        : `${(figures.containment * 100).toFixed(1)} %`;
    $('report-cards').replaceChildren(
      spanCard('wait', 'Wait', 'From escalation until an agent claimed the chat.', figures.wait),
      spanCard(
        'first_response',
        'First response',
        'From escalation until the agent’s first message.',
        figures.first_response,
      ),
      spanCard('handle', 'Handle time', 'From claim until resolved or returned to the bot.', figures.handle),
      spanCard('resolution', 'Resolution time', 'From escalation until resolved.', figures.resolution),
      el(
        'section',
        { className: 'card', 'aria-labelledby': 'card-csat' },
        el('h3', { id: 'card-csat', textContent: 'Customer satisfaction' }),
        el(
          'dl',
          { className: 'figures' },
          el('dt', { textContent: 'Mean rating' }),
          figure('csat-mean', csat.mean === null ? '—' : `${Number(csat.mean).toFixed(2)} / 5`),
          el('dt', { textContent: 'Ratings' }),
          figure('csat-count', String(csat.count)),
        ),
        barTable('csat', 'Ratings by score, 5 to 1', distribution, csat.count),
      ),
      el(
        'section',
        { className: 'card', 'aria-labelledby': 'card-containment' },
        el('h3', { id: 'card-containment', textContent: 'Containment' }),
        el('p', { className: 'hint', textContent: 'Conversations the bot finished without a person.' }),
        el(
          'dl',
          { className: 'figures' },
          el('dt', { textContent: 'Contained' }),
          figure('containment', containment),
          el('dt', { textContent: 'Conversations' }),
          figure('conversations', String(figures.conversations)),
          el('dt', { textContent: 'Handoffs' }),
          figure('handoffs', String(figures.handoffs)),
        ),
      ),
      el(
        'section',
        { className: 'card', 'aria-labelledby': 'card-triggers' },
        el('h3', { id: 'card-triggers', textContent: 'Escalations by trigger' }),
        triggers.length
          ? barTable(
              'trigger',
              'Escalations by trigger',
              triggers.map(([t, n]) => [t, triggerLabel(t), n]),
              figures.handoffs,
            )
          : el('p', { className: 'empty', textContent: 'No escalations in this period.' }),
        states.length
          ? el('p', {
              className: 'hint',
              textContent: `How they ended: ${states.map(([s, n]) => `${STATES[s] || s} ${n}`).join(', ')}.`,
            })
          : null,
      ),
    );
  }

  // --- wiring ---------------------------------------------------------------------------

  function init() {
    showMute();
    $('login-form').addEventListener('submit', login);
    $('logout').addEventListener('click', logout);
    $('available').addEventListener('change', setAvailability);
    $('mute').addEventListener('click', toggleMute);
    $('claim-next').addEventListener('click', claimNext);
    $('claim').addEventListener('click', () => claim(state.activeId));
    $('reply-form').addEventListener('submit', sendReply);
    $('reply').addEventListener('keydown', replyKey);
    $('reply').addEventListener('input', replyInput);
    $('canned-picker').addEventListener('change', pickCanned);
    $('resolve').addEventListener('click', resolve);
    $('return-open').addEventListener('click', openReturn);
    $('return-cancel').addEventListener('click', cancelReturn);
    $('return-form').addEventListener('submit', returnToBot);
    $('pass-open').addEventListener('click', openPass);
    $('pass-cancel').addEventListener('click', cancelPass);
    $('pass-form').addEventListener('submit', passOn);
    $('dismiss').addEventListener('click', dismiss);
    $('note-form').addEventListener('submit', addNote);
    $('report-days').addEventListener('change', loadReports);
    $('report-refresh').addEventListener('click', loadReports);
    window.addEventListener('hashchange', route);
    document.addEventListener('pointerdown', () => {
      unlockAudio();
      seen();
    });
    document.addEventListener('keydown', seen);
    document.addEventListener('visibilitychange', seen);
    window.addEventListener('storage', (event) => {
      if (event.key === KEYS.muted) showMute();
    });
    const token = sessionStorage.getItem(KEYS.token);
    let agent = null;
    try {
      agent = JSON.parse(sessionStorage.getItem(KEYS.agent) || 'null');
    } catch {
      agent = null;
    }
    if (token && agent) start(token, agent);
    else $('login-name').focus();
  }

  init();
})();
