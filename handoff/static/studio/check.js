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
  const recent = await refreshRecent();
  if (!recent) return;
  const latest = state.check ? recent.find((c) => c.id === state.check.id) || state.check : recent[0];
  showCheck(latest || null);
}

/** The recent checks, listed anew; null if they could not be read. */
async function refreshRecent() {
  let recent;
  try {
    recent = (await api('GET', '/studio/api/checks')).checks || [];
  } catch (error) {
    if (error.status !== 401) showAlert(error.message);
    return null;
  }
  state.recent = recent;
  renderRecent(recent);
  return recent;
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
  refreshRecent();
}

async function poll() {
  if (!state.check || !state.token) return;
  const before = state.check.state;
  await openCheck(state.check.id);
  if (state.check && state.check.state !== before) refreshRecent();
}

/** Check ``id`` on screen, as it is now. */
async function openCheck(id) {
  try {
    showCheck(await api('GET', `/studio/api/checks/${id}`));
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
        el(
          'tr',
          {},
          ...['Check', 'State', 'By', 'Requested', 'Report'].map((h) => el('th', { scope: 'col', textContent: h })),
        ),
      ),
      el(
        'tbody',
        {},
        ...checks.map((check) =>
          el(
            'tr',
            { 'data-check': String(check.id) },
            el('td', { textContent: String(check.id) }),
            el('td', { textContent: CHECK_STATES[check.state] || check.state }),
            el('td', { textContent: check.editor }),
            el('td', { textContent: timeOf(check.created_at) }),
            el(
              'td',
              {},
              el('button', {
                type: 'button',
                className: 'small',
                textContent: 'Show',
                'aria-label': `Show check ${check.id}`,
                onclick: () => openCheck(check.id),
              }),
            ),
          ),
        ),
      ),
    ),
  );
}

/** What publishing ``check`` means for the other checks in line (as last listed). */
function inLine(check) {
  const others = (state.recent || []).filter((c) => c.id !== check.id && RUNNING.has(c.state));
  return others.map((other) =>
    other.state === 'running'
      ? `Check ${other.id} is running against the version live now: after this publish it will have to run again.`
      : `Check ${other.id} is queued: it will be compared with this one.`,
  );
}

export async function publish() {
  const check = state.check;
  if (!check || check.state !== 'passed') return;
  await refreshRecent();
  const sure = await confirmDialog(
    $('check-publish'),
    `Publish check ${check.id}?`,
    ['Its model answers customers from now on; the current one is kept and can be made live again.', ...inLine(check)].join(' '),
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
