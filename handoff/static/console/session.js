/* Signing in and out, availability, and switching between the chats and reports views. */

import { api } from './api.js';
import { signIn } from './http.js';
import { setCanned } from './composer.js';
import { restoreHeld } from './conversation.js';
import { $, say, status, announce } from './dom.js';
import { unlockAudio, updateTitle } from './notify.js';
import { tick } from './queue.js';
import { loadReports } from './reports.js';
import { connect } from './socket.js';
import { KEYS, state } from './state.js';

export async function login(event) {
  event.preventDefault();
  unlockAudio();
  const name = $('login-name').value.trim();
  const password = $('login-password').value;
  const error = $('login-error');
  if (!name || !password) {
    showError(error, 'Enter your name and password.');
    return;
  }
  let data;
  try {
    data = await signIn(name, password);
  } catch (failure) {
    showError(error, failure.message || 'Signing in failed.');
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

export function signOut(message) {
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

export async function logout() {
  try {
    await api('POST', '/agent/logout');
  } catch {
    // signed out locally either way
  }
  signOut('');
}

export async function start(token, agent) {
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

export async function setAvailability() {
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

export function route() {
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
