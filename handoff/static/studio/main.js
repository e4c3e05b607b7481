/* The editors' studio: label what the assistant missed, keep the FAQs and articles, check
 * the result, publish it, roll back. Vanilla JS modules, no build step; shares the console's DOM helpers.
 *
 * Everything customers wrote is put on the page with textContent (never innerHTML). The
 * page's CSP forbids inline script and style as a second line.
 */

import { $ } from '../console/dom.js';
import { articleChanged, closeArticle, newArticle, saveArticle } from './articles.js';
import { publish, runCheck } from './check.js';
import { loadChanges } from './changes.js';
import { faqCancel, faqSubmit } from './faq.js';
import {
  closeFaq,
  draftChanged,
  newFaq,
  openRename,
  openRetire,
  renameSubmit,
  retireSubmit,
  saveFaq,
  searchFaqs,
} from './faqs.js';
import { loadInbox } from './inbox.js';
import { pickCancel, pickInput, pickKey, pickSubmit } from './picker.js';
import { login, logout, route, start } from './session.js';
import { KEYS } from './state.js';
import { applySheet, dryRun, exportSheet } from './sheet.js';
import { loadVersions } from './versions.js';

function init() {
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  $('inbox-refresh').addEventListener('click', loadInbox);
  $('check-run').addEventListener('click', runCheck);
  $('check-publish').addEventListener('click', publish);
  $('versions-refresh').addEventListener('click', loadVersions);
  $('changes-refresh').addEventListener('click', loadChanges);
  $('pick-form').addEventListener('submit', pickSubmit);
  $('pick-input').addEventListener('keydown', pickKey);
  $('pick-input').addEventListener('input', pickInput);
  $('pick-cancel').addEventListener('click', pickCancel);
  $('faq-form').addEventListener('submit', faqSubmit);
  $('faq-cancel').addEventListener('click', faqCancel);
  $('faqs-search').addEventListener('input', searchFaqs);
  $('faq-new').addEventListener('click', newFaq);
  $('faq-edit-form').addEventListener('submit', saveFaq);
  for (const id of ['faq-edit-key', 'faq-edit-answer', 'faq-edit-phrases']) $(id).addEventListener('input', draftChanged);
  $('faq-edit-article').addEventListener('change', draftChanged);
  $('faq-close').addEventListener('click', closeFaq);
  $('faq-rename').addEventListener('click', openRename);
  $('faq-retire').addEventListener('click', openRetire);
  $('rename-form').addEventListener('submit', renameSubmit);
  $('rename-cancel').addEventListener('click', () => $('rename-dialog').close());
  $('retire-form').addEventListener('submit', retireSubmit);
  $('retire-cancel').addEventListener('click', () => $('retire-dialog').close());
  $('article-new').addEventListener('click', newArticle);
  $('article-form').addEventListener('submit', saveArticle);
  for (const id of ['article-title', 'article-slug', 'article-tags', 'article-body']) $(id).addEventListener('input', articleChanged);
  $('article-close').addEventListener('click', closeArticle);
  $('sheet-form').addEventListener('submit', dryRun);
  $('sheet-apply').addEventListener('click', applySheet);
  $('sheet-export').addEventListener('click', exportSheet);
  window.addEventListener('hashchange', route);
  const token = sessionStorage.getItem(KEYS.token);
  let editor = null;
  try {
    editor = JSON.parse(sessionStorage.getItem(KEYS.editor) || 'null');
  } catch {
    editor = null;
  }
  if (token && editor) start(token, editor);
  else $('login-name').focus();
}

init();
