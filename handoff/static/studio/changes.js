/* Changes: the studio's audit log, newest first. */

import { $, el } from '../console/dom.js';
import { timeOf } from '../console/format.js';
import { api } from './api.js';
import { showAlert } from './notice.js';

const ACTIONS = {
  label: 'Labelled',
  publish: 'Published',
  restore: 'Made live again',
  roll_back: 'Made live again',
  check: 'Ran a check',
  faq_created: 'Added an FAQ',
  faq_edited: 'Edited an FAQ',
  faq_renamed: 'Renamed an FAQ',
  faq_retired: 'Retired an FAQ',
  faqs_imported: 'Imported FAQs',
  article_created: 'Added an article',
  article_edited: 'Edited an article',
};

export async function loadChanges() {
  let changes;
  try {
    changes = (await api('GET', '/studio/api/changes')).changes || [];
  } catch (error) {
    if (error.status !== 401) showAlert(error.message);
    return;
  }
  if (!changes.length) {
    $('changes').replaceChildren(el('p', { className: 'empty', textContent: 'No changes yet.' }));
    return;
  }
  const heads = ['When', 'Editor', 'What', 'Detail'];
  $('changes').replaceChildren(
    el(
      'table',
      { className: 'table' },
      el('caption', { className: 'visually-hidden', textContent: 'Changes, newest first' }),
      el('thead', {}, el('tr', {}, ...heads.map((h) => el('th', { scope: 'col', textContent: h })))),
      el(
        'tbody',
        {},
        ...changes.map((change) =>
          el(
            'tr',
            {},
            el('td', { textContent: timeOf(change.at) }),
            el('td', { textContent: change.editor }),
            el('td', { textContent: ACTIONS[change.action] || String(change.action).replace(/_/g, ' ') }),
            el('td', { className: 'detail', textContent: describe(change.detail) }),
          ),
        ),
      ),
    ),
  );
}

/** An audit entry's detail as one line: "action: intent · target: search_help · messages: 3". */
function describe(detail) {
  if (detail === null || detail === undefined) return '';
  if (typeof detail !== 'object') return String(detail);
  return Object.entries(detail)
    .filter(([, value]) => value !== null && value !== undefined && typeof value !== 'object')
    .map(([key, value]) => `${key.replace(/_/g, ' ')}: ${value}`)
    .join(' · ');
}
