/* Check & publish: run a check, follow its stages live, read its report, publish it. */

import { $, el, say } from '../console/dom.js';
import { duration, timeOf } from '../console/format.js';
import { api } from './api.js';
import { confirmDialog } from './dialogs.js';
import { announce, clearAlert, showAlert } from './notice.js';
import { renderReport } from './report.js';
import { state } from './state.js';
import { CHECK_STATES, STAGE_STATES, stageLabel } from './words.js';

const POLL_MS = 1000;
const RUNNING = new Set(['queued', 'running']);

/** The view opened: the check on screen, else the latest one, and the recent ones. */
export async function loadCheck() {
  let recent = [];
  try {
    recent = (await api('GET', '/studio/api/checks')).checks || [];
  } catch (error) {
    if (error.status !== 401) showAlert(error.message);
    return;
  }
  renderRecent(recent);
  const latest = state.check ? recent.find((c) => c.id === state.check.id) || state.check : recent[0];
  showCheck(latest || null);
}

export async function runCheck() {
  clearAlert();
  let check;
  try {
    check = await api('POST', '/studio/api/checks', {});
  } catch (error) {
    showAlert(error.message);
    return;
  }
  say($('check-message'), check.message || `Check ${check.id} started.`);
  showCheck(check);
}

async function poll() {
  if (!state.check || !state.token) return;
  try {
    showCheck(await api('GET', `/studio/api/checks/${state.check.id}`));
  } catch (error) {
    if (error.status !== 401) showAlert(error.message);
  }
}

function showCheck(check) {
  clearTimeout(state.checkTimer);
  state.check = check;
  const publish = $('check-publish');
  publish.disabled = !check || check.state !== 'passed';
  if (!check) {
    $('check').replaceChildren(el('p', { className: 'empty', textContent: 'No check has run yet.' }));
    return;
  }
  if (!RUNNING.has(check.state) && check.message) say($('check-message'), '');
  const parts = [
    el(
      'div',
      { className: 'check-head' },
      el('h3', { textContent: `Check ${check.id}` }),
      el('span', { className: `badge state s-${check.state}`, textContent: CHECK_STATES[check.state] || check.state }),
      el('span', { className: 'meta', textContent: `by ${check.editor} · ${timeOf(check.created_at)}` }),
      check.ahead ? el('span', { className: 'meta', textContent: `${check.ahead} ahead in line` }) : null,
    ),
    stageList(check.stages || []),
    check.error ? el('p', { className: 'error', textContent: check.error }) : null,
    check.report ? renderReport(check.report) : null,
  ];
  $('check').replaceChildren(...parts.filter(Boolean)); // replaceChildren would write "null"
  if (RUNNING.has(check.state)) state.checkTimer = setTimeout(poll, POLL_MS);
}

function stageList(stages) {
  if (!stages.length) return el('p', { className: 'empty', textContent: 'Waiting to start…' });
  return el(
    'ol',
    { className: 'stages', 'aria-label': 'Stages' },
    ...stages.map((stage) => {
      const label = stageLabel(stage.stage);
      const progress =
        stage.progress !== undefined && stage.progress !== null && stage.state === 'started'
          ? el('progress', { max: 1, value: Number(stage.progress), 'aria-label': `${label}: progress` })
          : null;
      return el(
        'li',
        { className: `stage st-${stage.state}`, 'data-stage': stage.stage },
        el('span', { className: 'stage-name', textContent: label }),
        el('span', { className: 'badge', textContent: STAGE_STATES[stage.state] || stage.state }),
        progress,
        stage.seconds !== undefined && stage.seconds !== null
          ? el('span', { className: 'meta', textContent: duration(stage.seconds) })
          : null,
        stage.detail ? el('span', { className: 'stage-detail', textContent: String(stage.detail) }) : null,
      );
    }),
  );
}

function renderRecent(checks) {
  if (!checks.length) {
    $('recent-checks').replaceChildren(el('p', { className: 'empty', textContent: 'None yet.' }));
    return;
  }
  $('recent-checks').replaceChildren(
    el(
      'table',
      { className: 'table' },
      el('caption', { className: 'visually-hidden', textContent: 'Recent checks' }),
      el(
        'thead',
        {},
        el('tr', {}, ...['Check', 'State', 'By', 'Requested'].map((h) => el('th', { scope: 'col', textContent: h }))),
      ),
      el(
        'tbody',
        {},
        ...checks.map((check) =>
          el(
            'tr',
            {},
            el('td', { textContent: String(check.id) }),
            el('td', { textContent: CHECK_STATES[check.state] || check.state }),
            el('td', { textContent: check.editor }),
            el('td', { textContent: timeOf(check.created_at) }),
          ),
        ),
      ),
    ),
  );
}

export async function publish() {
  const check = state.check;
  if (!check || check.state !== 'passed') return;
  const sure = await confirmDialog(
    $('check-publish'),
    `Publish check ${check.id}?`,
    'Its model answers customers from now on; the current one is kept and can be made live again.',
    'Publish',
  );
  if (!sure) return;
  try {
    const version = await api('POST', `/studio/api/checks/${check.id}/publish`, {});
    announce(`Version ${version.id} is live (model ${String(version.model_hash || '').slice(0, 12)}).`);
  } catch (error) {
    showAlert(error.message);
  }
  loadCheck();
}
