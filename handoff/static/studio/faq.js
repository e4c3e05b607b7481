/* "New FAQ…": a key, an answer and an optional article; the ticked messages become its
 * first phrasings. */

import { $, say } from '../console/dom.js';
import { plural } from '../console/format.js';
import { dialogError, openDialog } from './dialogs.js';
import { labelAs, ticked } from './label.js';

const KEY = /^[a-z][a-z0-9_]{2,40}$/;
const ARTICLE = /^[a-z0-9][a-z0-9-]*$/;
let cluster = null;

export function openFaq(forCluster, opener) {
  cluster = forCluster;
  $('faq-form').reset();
  dialogError('faq-error', '');
  const count = plural(ticked(cluster).length, 'ticked message');
  say($('faq-about'), `The ${count} become the new FAQ’s first phrasings.`);
  $('faq-key').value = (cluster.terms || []).join('_').toLowerCase().replace(/[^a-z0-9_]/g, '').slice(0, 41);
  openDialog($('faq-dialog'), opener, $('faq-key'));
}

export async function faqSubmit(event) {
  event.preventDefault();
  const key = $('faq-key').value.trim();
  const answer = $('faq-answer').value.trim();
  const article = $('faq-article').value.trim();
  const problem = !KEY.test(key)
    ? ['faq-key', 'The key is 3 to 41 lower case letters, digits or _, starting with a letter.']
    : !answer
      ? ['faq-answer', 'Write the answer the assistant should give.']
      : article && !ARTICLE.test(article)
        ? ['faq-article', 'An article slug is lower case letters, digits and dashes.']
        : null;
  if (problem) {
    dialogError('faq-error', problem[1]);
    $(problem[0]).focus();
    return;
  }
  const faq = article ? { key, answer, article } : { key, answer };
  await labelAs(cluster, 'new_faq', undefined, faq, (message) => dialogError('faq-error', message));
}

export function faqCancel() {
  $('faq-dialog').close();
}
