/* Labelling a cluster: only its ticked messages are sent; a conflict reloads the inbox. */

import { plural } from '../console/format.js';
import { api } from './api.js';
import { labelled, loadInbox } from './inbox.js';
import { announce, clearAlert, showAlert } from './notice.js';
import { state } from './state.js';
import { targetLabel } from './words.js';

const DONE = {
  intent: (target) => `as ${targetLabel(target)}`,
  faq: (target) => `as ${targetLabel(target)}`,
  new_faq: (target) => `as the new ${targetLabel(target)}`,
  out_of_scope: () => 'as out of scope',
  ignore: () => 'as ignored',
};

export function guessAction(name) {
  return String(name).startsWith('faq/') ? 'faq' : 'intent';
}

/** The cluster's miss ids less the messages the editor unticked (all, not just those shown). */
export function ticked(cluster) {
  return (cluster.miss_ids || []).filter((id) => !state.unticked.has(id));
}

/**
 * Label a cluster; true once written. ``fail`` shows any other refusal where the editor is
 * (a dialog's own alert); a label another editor made first closes it and reloads.
 */
export async function labelAs(cluster, action, target, faq, fail = showAlert) {
  const missIds = ticked(cluster);
  if (!missIds.length) {
    fail('Tick at least one message to label.');
    return false;
  }
  const body = { miss_ids: missIds, action };
  if (target) body.target = target;
  if (faq) body.faq = faq;
  let answer;
  try {
    answer = await api('POST', '/studio/api/labels', body);
  } catch (error) {
    if (error.code === 'already_labelled') {
      closeDialogs();
      showAlert(error.message);
      loadInbox();
    } else if (error.status !== 401) {
      fail(error.message);
    }
    return false;
  }
  closeDialogs();
  clearAlert();
  const how = (DONE[answer.action] || DONE.ignore)(answer.target || target);
  announce(`Labelled ${plural(missIds.length, 'message')} ${how}.`);
  labelled(cluster, missIds);
  return true;
}

function closeDialogs() {
  for (const dialog of document.querySelectorAll('dialog[open]')) dialog.close();
}
