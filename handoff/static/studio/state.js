/* The studio's shared state, and the keys it keeps in browser storage. */

export const KEYS = {
  token: 'larkspur.studio.token',
  editor: 'larkspur.studio.editor',
};

export const state = {
  token: null,
  editor: null,
  clusters: [], // the inbox as last shown, largest first
  unticked: new Set(), // miss ids an editor left out of their cluster's label
  labelled: new Set(), // miss ids labelled here since the service last regrouped
  targets: null, // every intent and FAQ, loaded once per sign-in
  inboxTimer: null, // the next poll while a regrouping runs
  check: null, // the check on screen
  recent: [], // the recent checks as last listed
  checkTimer: null,
};
