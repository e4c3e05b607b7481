/* Versions: every published model, what changed in the content, and "Make live again". */

import { $, el, say } from '../console/dom.js';
import { timeOf } from '../console/format.js';
import { api } from './api.js';
import { confirmDialog } from './dialogs.js';
import { announce, clearAlert, showAlert } from './notice.js';

export async function loadVersions() {
  let versions;
  try {
    versions = (await api('GET', '/studio/api/versions')).versions || [];
  } catch (error) {
    if (error.status !== 401) showAlert(error.message);
    return;
  }
  if (!versions.length) {
    $('versions').replaceChildren(el('p', { className: 'empty', textContent: 'Nothing has been published yet.' }));
    return;
  }
  const heads = ['Version', 'Published by', 'When', 'Live since', 'Model', 'Commit', ''];
  $('versions').replaceChildren(
    el(
      'table',
      { className: 'table versions' },
      el('caption', { className: 'visually-hidden', textContent: 'Published versions, newest first' }),
      el('thead', {}, el('tr', {}, ...heads.map((h) => el('th', { scope: 'col', textContent: h })))),
      el('tbody', {}, ...versions.map(versionRow)),
    ),
  );
}

function versionRow(version) {
  const name = version.original ? `Version ${version.id}, the original` : `Version ${version.id}`;
  const show = el('button', { type: 'button', id: `v-${version.id}-diff`, className: 'small', textContent: 'Show changes' });
  show.setAttribute('aria-label', `Show what changed in version ${version.id}`);
  show.addEventListener('click', () => showVersion(version.id));
  const restore = el('button', { type: 'button', id: `v-${version.id}-restore`, className: 'small', textContent: 'Make live again' });
  restore.setAttribute('aria-label', `Make version ${version.id} live again`);
  restore.addEventListener('click', () => makeLive(version, restore));
  const where = version.restored_from ? ` (restored from ${version.restored_from})` : '';
  return el(
    'tr',
    { className: version.live ? 'live-row' : '', 'data-version': version.id },
    el(
      'th',
      { scope: 'row' },
      `${name}${where}`,
      version.live ? el('span', { className: 'badge s-live', textContent: 'Live' }) : null,
    ),
    el('td', { textContent: version.published_by || (version.original ? 'the original model' : '') }),
    el('td', { textContent: timeOf(version.created_at) }),
    el('td', { textContent: version.live_since ? timeOf(version.live_since) : '—' }),
    el('td', { className: 'mono', textContent: String(version.model_hash || '').slice(0, 12) }),
    el('td', { className: 'mono', textContent: String(version.commit || '—').slice(0, 10) }),
    el('td', { className: 'row-actions' }, show, version.live ? null : restore),
  );
}

async function showVersion(id) {
  let version;
  try {
    version = await api('GET', `/studio/api/versions/${id}`);
  } catch (error) {
    showAlert(error.message);
    return;
  }
  $('version-detail').hidden = false;
  say($('version-heading'), `What changed in version ${id}`);
  say($('version-diff'), version.diff || 'No changes to the content.');
  $('version-heading').focus();
}

async function makeLive(version, button) {
  const sure = await confirmDialog(
    button,
    `Make version ${version.id} live again?`,
    'Its model answers customers from now on; the current version stays in the list.',
    'Make live again',
  );
  if (!sure) return;
  clearAlert();
  try {
    const restored = await api('POST', `/studio/api/versions/${version.id}/restore`, {});
    announce(`Version ${version.id} is live again, as version ${restored.id}.`);
  } catch (error) {
    showAlert(error.message);
  }
  await loadVersions();
  $('versions-heading').focus();
}
