/* Articles: the list, and the editor with each section shown as the bot will quote it. */

import { $, botText, el, say } from '../console/dom.js';
import { api } from './api.js';
import { forgetTitles, savedNotice } from './content.js';
import { dialogError } from './dialogs.js';
import { announce, clearAlert, showAlert } from './notice.js';

const SLUG = /^[a-z0-9][a-z0-9-]*$/;
const PREVIEW_DELAY_MS = 350;
let opened = null;
let previewTimer = null;
let previewSerial = 0;

export async function loadArticles() {
  let articles;
  try {
    articles = (await api('GET', '/studio/api/articles')).articles;
  } catch (error) {
    if (error.status !== 401) showAlert(error.message);
    return;
  }
  say($('articles-count'), String(articles.length));
  const heads = ['Article', 'Slug', 'Tags', 'Sections'];
  $('articles').replaceChildren(
    el(
      'table',
      { className: 'table' },
      el('caption', { className: 'visually-hidden', textContent: 'Help articles' }),
      el('thead', {}, el('tr', {}, ...heads.map((h) => el('th', { scope: 'col', textContent: h })))),
      el('tbody', {}, ...articles.map(articleRow)),
    ),
  );
}

function articleRow(article) {
  const open = el('button', { type: 'button', className: 'link-button', id: `article-open-${article.slug}`, textContent: article.title });
  open.addEventListener('click', () => openArticle(article.slug));
  return el(
    'tr',
    {},
    el('th', { scope: 'row' }, open),
    el('td', { className: 'mono', textContent: article.slug }),
    el('td', { textContent: article.tags.join(', ') }),
    el('td', { className: 'num', textContent: String(article.sections) }),
  );
}

export async function openArticle(slug) {
  let article;
  try {
    article = await api('GET', `/studio/api/articles/${encodeURIComponent(slug)}`);
  } catch (error) {
    showAlert(error.message);
    return;
  }
  showEditor(article);
}

export function newArticle() {
  showEditor(null);
}

function showEditor(article) {
  opened = article;
  clearAlert();
  say($('article-editor-heading'), article ? `Edit “${article.title}”` : 'New article');
  $('article-title').value = article ? article.title : '';
  $('article-slug').value = article ? article.slug : '';
  $('article-tags').value = article ? article.tags.join(', ') : '';
  $('article-body').value = article ? article.body : '';
  $('article-conflict').hidden = true;
  dialogError('article-error', '');
  $('article-editor').hidden = false;
  articleChanged();
  (article ? $('article-editor-heading') : $('article-title')).focus();
}

export function closeArticle() {
  $('article-editor').hidden = true;
  opened = null;
  $('articles-heading').focus();
}

function fields() {
  return {
    title: $('article-title').value.trim(),
    slug: $('article-slug').value.trim(),
    tags: $('article-tags')
      .value.split(',')
      .map((t) => t.trim())
      .filter(Boolean),
    body: $('article-body').value,
  };
}

export function articleChanged() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(preview, PREVIEW_DELAY_MS);
}

async function preview() {
  const current = fields();
  if (!current.title || !SLUG.test(current.slug) || !current.tags.length || !current.body.trim()) {
    $('article-preview').replaceChildren(el('p', { className: 'hint', textContent: 'A title, a slug, a tag and some text, and the sections appear here.' }));
    return;
  }
  const serial = ++previewSerial;
  let passages;
  try {
    passages = (await api('POST', '/studio/api/article-preview', current)).passages;
  } catch (error) {
    if (serial === previewSerial) $('article-preview').replaceChildren(el('p', { className: 'error', textContent: error.message }));
    return;
  }
  if (serial !== previewSerial) return;
  $('article-preview').replaceChildren(
    ...passages.map((p) => {
      const bubble = el('div', { className: 'bubble bot' });
      bubble.append(botText(p.answer));
      return el('section', { className: 'passage' }, el('h5', { textContent: p.heading }), bubble);
    }),
  );
}

export async function saveArticle(event) {
  event.preventDefault();
  const current = fields();
  if (!current.title || !SLUG.test(current.slug)) {
    dialogError('article-error', 'An article needs a title and a slug of lower case letters, digits and -.');
    return;
  }
  let saved;
  try {
    saved = opened
      ? await api('PUT', `/studio/api/articles/${opened.slug}`, { ...current, version: opened.version })
      : await api('POST', '/studio/api/articles', current);
  } catch (error) {
    if (error.code === 'stale_edit') showConflict(error.detail.current);
    else dialogError('article-error', error.message);
    return;
  }
  opened = saved;
  forgetTitles();
  dialogError('article-error', '');
  $('article-conflict').hidden = true;
  say($('article-editor-heading'), `Edit “${saved.title}”`);
  announce(savedNotice(`The article ${saved.slug}`));
  loadArticles();
}

function showConflict(theirs) {
  const reload = el('button', { type: 'button', id: 'article-conflict-reload', textContent: 'Start from their version' });
  reload.addEventListener('click', () => showEditor(theirs));
  $('article-conflict').replaceChildren(
    el('h4', { textContent: 'Someone else saved this article after you opened it' }),
    el('p', { textContent: `Nothing of yours was saved, and nothing of theirs was overwritten. Their version is titled “${theirs.title}” and has ${theirs.passages.length} sections; your text stays in the form until you start from theirs.` }),
    reload,
  );
  $('article-conflict').hidden = false;
  reload.focus();
}
