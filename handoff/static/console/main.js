/* The agents' console: queue, conversations, reports. Vanilla JS, no build step.
 *
 * Everything a customer, the bot or an agent wrote is put on the page with textContent
 * (never innerHTML), and only http(s) links from the bot become anchors, so typed markup
 * stays text. The page's CSP forbids inline script and style as a second line.
 * Live updates come over /ws/agent (docs/PROTOCOL.md); actions are HTTP calls.
 */

import { resolve, openReturn, cancelReturn, returnToBot, openPass, cancelPass, passOn, dismiss } from './closing.js';
import { sendReply, replyKey, replyInput, pickCanned, addNote } from './composer.js';
import { claim, claimNext } from './conversation.js';
import { $ } from './dom.js';
import { showMute, toggleMute, unlockAudio, seen } from './notify.js';
import { loadReports } from './reports.js';
import { login, logout, start, setAvailability, route } from './session.js';
import { KEYS, state } from './state.js';

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
