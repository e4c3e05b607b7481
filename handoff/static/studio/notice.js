/* The page's alert (what went wrong, in the service's words) and its quiet announcements. */

import { $, say } from '../console/dom.js';

export function showAlert(message) {
  const node = $('alert');
  say(node, message);
  node.hidden = !message;
}

export function clearAlert() {
  showAlert('');
}

export function announce(message) {
  say($('announcer'), message);
}
