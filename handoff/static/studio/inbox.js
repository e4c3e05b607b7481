/* The inbox: the open misses by topic, largest first, polled while a regrouping runs. */

import { $, say } from '../console/dom.js';
import { plural, timeOf } from '../console/format.js';
import { api } from './api.js';
import { clusterCard } from './cluster.js';
import { showAlert } from './notice.js';
import { state } from './state.js';

const LIMIT = 50;
const STALE_POLL_MS = 2000; // the service regroups in the background; ask again soon
let shownAs = ''; // the inbox as last drawn, so a poll that changed nothing redraws nothing

export async function loadInbox() {
  clearTimeout(state.inboxTimer);
  // The first grouping after a start waits for the sentence encoder (seconds): say so.
  if (!shownAs && !state.clusters.length) say($('inbox-summary'), 'Grouping the messages by meaning…');
  let inbox;
  try {
    inbox = await api('GET', `/studio/api/inbox?limit=${LIMIT}`);
  } catch (error) {
    if (error.status !== 401) showAlert(error.message);
    return;
  }
  if (!inbox.stale) state.labelled.clear(); // a fresh grouping knows every label
  state.clusters = withoutLabelled(inbox.clusters || []);
  renderInbox(inbox);
  if (inbox.stale && !$('inbox-view').hidden) {
    state.inboxTimer = setTimeout(loadInbox, STALE_POLL_MS);
  }
}

/** While a regrouping runs the service answers from the last one: leave out what was
 * labelled since, so nobody labels it twice. */
function withoutLabelled(clusters) {
  if (!state.labelled.size) return clusters;
  const open = (id) => !state.labelled.has(id);
  return clusters
    .map((c) => ({
      ...c,
      miss_ids: c.miss_ids.filter(open),
      messages: c.messages.filter((m) => open(m.id)),
    }))
    .filter((c) => c.miss_ids.length)
    .map((c) => ({ ...c, size: c.miss_ids.length }));
}

function renderInbox(inbox) {
  const more = inbox.total_clusters > state.clusters.length;
  say($('inbox-count'), String(inbox.total_clusters ?? state.clusters.length));
  const summary = [
    plural(inbox.total_messages || 0, 'message'),
    more ? `the ${state.clusters.length} largest topics shown` : '',
    inbox.stale ? 'regrouping…' : inbox.computed_at ? grouped(inbox) : '',
  ];
  say($('inbox-summary'), summary.filter(Boolean).join(' · '));
  $('inbox-empty').hidden = state.clusters.length > 0;
  const drawn = JSON.stringify(state.clusters);
  if (drawn === shownAs) return;
  shownAs = drawn;
  redraw();
}

/** When and how the service grouped them: by meaning, or by words if its encoder failed. */
function grouped(inbox) {
  const at = timeOf(inbox.computed_at);
  if (inbox.grouping === 'words') {
    return `grouped by shared words at ${at} (the sentence encoder could not load: see the service log)`;
  }
  return `grouped by meaning at ${at}`;
}

/** Draw the cards again, keeping the keyboard where it was (cards and controls keep ids). */
export function redraw() {
  const focused = document.activeElement && document.activeElement.id;
  $('clusters').replaceChildren(...state.clusters.map(clusterCard));
  $('inbox-empty').hidden = state.clusters.length > 0;
  if (focused && !document.getElementById(focused)) return;
  if (focused) document.getElementById(focused).focus();
}

/** A cluster was labelled: take it off the screen now, move on to the next, then reload. */
export function labelled(cluster, missIds) {
  for (const id of missIds) state.labelled.add(id);
  const index = state.clusters.indexOf(cluster);
  state.clusters = withoutLabelled(state.clusters);
  shownAs = '';
  redraw();
  const next = state.clusters[Math.min(Math.max(index, 0), state.clusters.length - 1)];
  const heading = next ? $(`c-${next.id}-title`) : $('inbox-heading');
  heading.focus();
  loadInbox();
}
