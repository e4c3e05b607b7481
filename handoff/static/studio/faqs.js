/* FAQs: the list with search, usage and votes; the editor with a live preview, checks as
 * you type, and a conflict shown (never overwritten) when someone saved first. */

import { $, botText, el, say } from '../console/dom.js';
import { plural } from '../console/format.js';
import { api } from './api.js';
import { dialogError, openDialog } from './dialogs.js';
import { announce, clearAlert, showAlert } from './notice.js';
import { articleTitles, HELP_URL, savedNotice } from './content.js';

const KEY = /^[a-z][a-z0-9_]{2,40}$/;
const ANSWER_GUIDE = 400; // studio/faqs.py ANSWER_GUIDE
const CHECK_DELAY_MS = 350;
let opened = null; // the FAQ as loaded (null: a new one)
let searchTimer = null;
let checkTimer = null;
let checkSerial = 0;

export async function loadFaqs() {
  const query = $('faqs-search').value.trim();
  let data;
  try {
    data = await api('GET', `/studio/api/faqs${query ? `?q=${encodeURIComponent(query)}` : ''}`);
  } catch (error) {
    if (error.status !== 401) showAlert(error.message);
    return;
  }
  say($('faqs-count'), String(data.total));
  if (!data.faqs.length) {
    $('faqs').replaceChildren(el('p', { className: 'empty', textContent: 'No FAQ matches.' }));
    return;
  }
  const heads = ['FAQ', 'Answer', 'Phrases', `Answered (${data.days} days)`, 'Not helpful'];
  $('faqs').replaceChildren(
    el(
      'table',
      { className: 'table faqs' },
      el('caption', { className: 'visually-hidden', textContent: 'FAQs' }),
      el('thead', {}, el('tr', {}, ...heads.map((h) => el('th', { scope: 'col', textContent: h })))),
      el('tbody', {}, ...data.faqs.map(faqRow)),
    ),
  );
}

function faqRow(faq) {
  const open = el('button', { type: 'button', className: 'link-button', id: `faq-open-${faq.key}`, textContent: faq.name });
  open.addEventListener('click', () => openFaq(faq.key));
  const votes = faq.rated ? `${faq.unhelpful} of ${faq.rated} (${Math.round((100 * faq.unhelpful) / faq.rated)} %)` : '—';
  return el(
    'tr',
    { 'data-key': faq.key },
    el('th', { scope: 'row' }, open),
    el('td', { textContent: faq.answer.length > 110 ? `${faq.answer.slice(0, 110)}…` : faq.answer }),
    el('td', { className: 'num', textContent: String(faq.phrase_count) }),
    el('td', { className: 'num', textContent: String(faq.answered) }),
    el('td', { className: 'num', textContent: votes }),
  );
}

export function searchFaqs() {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(loadFaqs, 250);
}

export async function openFaq(key) {
  let faq;
  try {
    faq = await api('GET', `/studio/api/faqs/${encodeURIComponent(key)}`);
  } catch (error) {
    showAlert(error.message);
    return;
  }
  await showEditor(faq);
}

export async function newFaq() {
  await showEditor(null);
}

async function showEditor(faq) {
  opened = faq;
  clearAlert();
  await fillArticles(faq ? faq.article : '');
  say($('faq-editor-heading'), faq ? `Edit ${faq.name}` : 'New FAQ');
  $('faq-key-row').hidden = Boolean(faq);
  $('faq-rename').hidden = !faq;
  $('faq-retire').hidden = !faq;
  $('faq-edit-key').value = '';
  $('faq-edit-answer').value = faq ? faq.answer : '';
  $('faq-edit-phrases').value = faq ? faq.phrases.map((p) => p.text).join('\n') : '';
  $('faq-conflict').hidden = true;
  dialogError('faq-edit-error', '');
  $('faq-editor').hidden = false;
  draftChanged();
  (faq ? $('faq-editor-heading') : $('faq-edit-key')).focus();
}

async function fillArticles(chosen) {
  const titles = await articleTitles();
  const select = $('faq-edit-article');
  // The FAQ's own link stays a choice even if its article is not listed (gone, or the list
  // failed to load), so saving a phrase never drops the link unasked.
  const missing = chosen && !titles[chosen] ? [el('option', { value: chosen, textContent: `${chosen} (no such article)` })] : [];
  select.replaceChildren(
    el('option', { value: '', textContent: 'No article' }),
    ...Object.entries(titles).map(([slug, title]) => el('option', { value: slug, textContent: `${title} (${slug})` })),
    ...missing,
  );
  select.value = chosen || '';
}

export function closeFaq() {
  $('faq-editor').hidden = true;
  opened = null;
  $('faqs-heading').focus();
}

function draft() {
  const phrases = $('faq-edit-phrases')
    .value.split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return {
    key: opened ? opened.key : $('faq-edit-key').value.trim(),
    answer: $('faq-edit-answer').value.trim(),
    article: $('faq-edit-article').value,
    phrases,
  };
}

/** Every keystroke: the preview now, the checks a moment after typing stops. */
export function draftChanged() {
  const current = draft();
  showPreview(current);
  const length = current.answer.length;
  say($('faq-edit-length'), `${length} characters${length > ANSWER_GUIDE ? `, over the guide of ${ANSWER_GUIDE}: put the detail in an article` : ''}`);
  clearTimeout(checkTimer);
  checkTimer = setTimeout(() => runChecks(current), CHECK_DELAY_MS);
}

async function showPreview(current) {
  const titles = await articleTitles();
  const link = current.article ? ` [${titles[current.article] || current.article}](${HELP_URL}${current.article})` : '';
  const bubble = el('div', { className: 'bubble bot' });
  bubble.append(botText(current.answer + link));
  $('faq-preview').replaceChildren(bubble);
}

async function runChecks(current) {
  if (!KEY.test(current.key)) {
    showFindings([{ level: 'error', message: 'Give the FAQ a key: 3 to 41 lower case letters, digits or _.' }]);
    return;
  }
  const serial = ++checkSerial;
  let findings;
  try {
    findings = (await api('POST', '/studio/api/faq-checks', current)).findings;
  } catch (error) {
    if (serial === checkSerial) showFindings([{ level: 'error', message: error.message }]);
    return;
  }
  if (serial === checkSerial) showFindings(findings); // an older answer must not win
}

function showFindings(findings) {
  const list = $('faq-findings');
  if (!findings.length) {
    list.replaceChildren(el('li', { className: 'ok', textContent: 'No problems found.' }));
    return;
  }
  list.replaceChildren(
    ...findings.map((f) =>
      el('li', { className: `finding ${f.level}` }, el('span', { className: `badge ${f.level}`, textContent: f.level === 'error' ? 'Error' : 'Warning' }), ` ${f.message}`),
    ),
  );
}

export async function saveFaq(event) {
  event.preventDefault();
  const current = draft();
  if (!opened && !KEY.test(current.key)) {
    dialogError('faq-edit-error', 'The key is 3 to 41 lower case letters, digits or _, starting with a letter.');
    $('faq-edit-key').focus();
    return;
  }
  if (!current.answer || !current.phrases.length) {
    dialogError('faq-edit-error', 'An FAQ needs an answer and at least one phrase.');
    return;
  }
  let saved;
  try {
    saved = opened
      ? await api('PUT', `/studio/api/faqs/${opened.key}`, { version: opened.version, answer: current.answer, article: current.article, phrases: current.phrases })
      : await api('POST', '/studio/api/faqs', current);
  } catch (error) {
    if (error.code === 'stale_edit') showConflict(error.detail.current, current);
    else dialogError('faq-edit-error', error.message);
    return;
  }
  opened = saved;
  dialogError('faq-edit-error', '');
  $('faq-conflict').hidden = true;
  say($('faq-editor-heading'), `Edit ${saved.name}`);
  $('faq-key-row').hidden = true;
  $('faq-rename').hidden = false;
  $('faq-retire').hidden = false;
  announce(savedNotice(saved.name));
  loadFaqs();
}

/** Someone saved first: show what they have beside what you typed; nothing is lost. */
function showConflict(theirs, mine) {
  const box = $('faq-conflict');
  const have = new Set(theirs.phrases.map((p) => p.text));
  const yours = new Set(mine.phrases);
  const onlyTheirs = [...have].filter((t) => !yours.has(t));
  const onlyYours = [...yours].filter((t) => !have.has(t));
  const reload = el('button', { type: 'button', id: 'faq-conflict-reload', textContent: 'Start from their version' });
  reload.addEventListener('click', () => showEditor(theirs));
  box.replaceChildren(
    el('h4', { textContent: 'Someone else saved this FAQ after you opened it' }),
    el('p', { textContent: 'Nothing of yours was saved, and nothing of theirs was overwritten. Your text stays in the form until you start from theirs. Their answer now:' }),
    el('blockquote', { className: 'theirs', textContent: theirs.answer }),
    el('p', { textContent: `Phrases only they have: ${onlyTheirs.length ? onlyTheirs.join(' · ') : 'none'}. Only yours: ${onlyYours.length ? onlyYours.join(' · ') : 'none'}.` }),
    reload,
  );
  box.hidden = false;
  reload.focus();
}

export function openRename() {
  $('rename-form').reset();
  dialogError('rename-error', '');
  openDialog($('rename-dialog'), $('faq-rename'), $('rename-key'));
}

export async function renameSubmit(event) {
  event.preventDefault();
  const key = $('rename-key').value.trim();
  if (!KEY.test(key)) {
    dialogError('rename-error', 'The key is 3 to 41 lower case letters, digits or _, starting with a letter.');
    return;
  }
  try {
    opened = await api('POST', `/studio/api/faqs/${opened.key}/rename`, { version: opened.version, key });
  } catch (error) {
    dialogError('rename-error', error.message);
    return;
  }
  $('rename-dialog').close();
  say($('faq-editor-heading'), `Edit ${opened.name}`);
  announce(savedNotice(`Renamed to ${opened.name}`));
  loadFaqs();
}

export async function openRetire() {
  let targets;
  try {
    targets = (await api('GET', '/studio/api/targets')).targets;
  } catch (error) {
    showAlert(error.message);
    return;
  }
  const others = targets.filter((t) => t.name !== opened.name);
  $('retire-destination').replaceChildren(
    el('option', { value: '', textContent: 'Choose an intent or FAQ' }),
    ...others.map((t) => el('option', { value: t.name, textContent: t.name })),
  );
  const count = plural(opened.phrases.length, 'phrase');
  say($('retire-about'), `${opened.name} goes away. Its ${count}, and its messages in the held-out test set, move to the intent or FAQ you choose.`);
  dialogError('retire-error', '');
  openDialog($('retire-dialog'), $('faq-retire'), $('retire-destination'));
}

export async function retireSubmit(event) {
  event.preventDefault();
  const destination = $('retire-destination').value;
  if (!destination) {
    dialogError('retire-error', 'Say where the phrases go.');
    return;
  }
  let result;
  try {
    result = await api('POST', `/studio/api/faqs/${opened.key}/retire`, { version: opened.version, destination });
  } catch (error) {
    dialogError('retire-error', error.message);
    return;
  }
  $('retire-dialog').close();
  const dropped = result.duplicates ? `, ${plural(result.duplicates, 'duplicate')} dropped` : '';
  announce(savedNotice(`Retired faq/${result.key}: ${plural(result.moved, 'phrase')} moved to ${destination}${dropped}`));
  $('faq-editor').hidden = true;
  opened = null;
  await loadFaqs();
  $('faqs-heading').focus();
}
