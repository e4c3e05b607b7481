/* Signing in and out, and switching between the studio's views. */

import { $, say } from '../console/dom.js';
import { signIn } from '../console/http.js';
import { api } from './api.js';
import { loadArticles } from './articles.js';
import { loadChanges } from './changes.js';
import { loadCheck } from './check.js';
import { loadFaqs } from './faqs.js';
import { loadInbox } from './inbox.js';
import { clearAlert } from './notice.js';
import { KEYS, state } from './state.js';
import { loadImport } from './sheet.js';
import { loadVersions } from './versions.js';

const VIEWS = {
  inbox: loadInbox,
  faqs: loadFaqs,
  articles: loadArticles,
  import: loadImport,
  check: loadCheck,
  versions: loadVersions,
  changes: loadChanges,
};

export async function login(event) {
  event.preventDefault();
  const name = $('login-name').value.trim();
  const password = $('login-password').value;
  if (!name || !password) {
    loginError('Enter your name and password.');
    return;
  }
  let data;
  try {
    data = await signIn(name, password);
  } catch (failure) {
    loginError(failure.message || 'Signing in failed.');
    return;
  }
  $('login-password').value = '';
  $('login-error').hidden = true;
  start(data.token, data.agent);
}

function loginError(message) {
  const node = $('login-error');
  say(node, message);
  node.hidden = false;
}

/** Back to the sign-in form, with why (if there is a reason to say). */
export function signOut(message) {
  state.token = null;
  state.editor = null;
  state.targets = null;
  state.clusters = [];
  state.unticked.clear();
  state.labelled.clear();
  state.check = null;
  clearTimeout(state.inboxTimer);
  clearTimeout(state.checkTimer);
  sessionStorage.removeItem(KEYS.token);
  sessionStorage.removeItem(KEYS.editor);
  $('nav').hidden = true;
  $('me').hidden = true;
  $('work').hidden = true;
  $('login-view').hidden = false;
  clearAlert();
  if (message) loginError(message);
  $('login-name').focus();
}

export async function logout() {
  try {
    await api('POST', '/agent/logout', {});
  } catch {
    // signed out locally either way
  }
  signOut('');
}

/** Signed in: an editor or lead sees the studio; anyone else is told why not. */
export async function start(token, editor) {
  state.token = token;
  let me;
  try {
    me = await api('GET', '/studio/api/me');
  } catch (error) {
    if (error.status === 401) return;
    if (error.status === 403) await api('POST', '/agent/logout', {}).catch(() => null);
    signOut(error.message);
    return;
  }
  state.editor = { ...editor, ...me };
  sessionStorage.setItem(KEYS.token, token);
  sessionStorage.setItem(KEYS.editor, JSON.stringify(state.editor));
  $('login-view').hidden = true;
  $('nav').hidden = false;
  $('me').hidden = false;
  $('work').hidden = false;
  say($('editor-name'), state.editor.name);
  say($('editor-role'), state.editor.role === 'lead' ? 'Lead' : 'Editor');
  route();
}

export function route() {
  if (!state.token || !state.editor) return;
  const wanted = location.hash.replace('#', '');
  const shown = VIEWS[wanted] ? wanted : 'inbox';
  for (const name of Object.keys(VIEWS)) {
    $(`${name}-view`).hidden = name !== shown;
    const link = $(`nav-${name}`);
    if (name === shown) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (shown !== 'inbox') clearTimeout(state.inboxTimer);
  clearAlert();
  VIEWS[shown]();
}

