/* Modal dialogs (<dialog>): Escape closes them natively; focus goes back where it was. */

import { $, say } from '../console/dom.js';

/** Open ``dialog`` for a control with an id; when it closes, that control gets the focus
 * back, even if the inbox was redrawn meanwhile (the new control has the same id). */
export function openDialog(dialog, opener, first) {
  const openerId = opener && opener.id;
  dialog.addEventListener(
    'close',
    () => {
      const lost = !document.activeElement || document.activeElement === document.body;
      if (lost && openerId && document.getElementById(openerId)) document.getElementById(openerId).focus();
    },
    { once: true },
  );
  dialog.showModal();
  if (first) first.focus();
}

export function dialogError(id, message) {
  const node = $(id);
  say(node, message);
  node.hidden = !message;
}

/** Ask before something that cannot be taken back lightly; resolves true for OK. */
export function confirmDialog(opener, heading, text, ok) {
  const dialog = $('confirm-dialog');
  say($('confirm-heading'), heading);
  say($('confirm-text'), text);
  say($('confirm-ok'), ok);
  dialog.returnValue = 'cancel';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    openDialog(dialog, opener, $('confirm-ok'));
  });
}
