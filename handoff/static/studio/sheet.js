/* Import: a sheet's dry run row by row, then apply every good row at once; and the FAQs
 * as a sheet to download. */

import { $, el, say } from '../console/dom.js';
import { plural } from '../console/format.js';
import { api } from './api.js';
import { savedNotice } from './content.js';
import { confirmDialog } from './dialogs.js';
import { announce, clearAlert, showAlert } from './notice.js';
import { state } from './state.js';

const MAX_BYTES = 2_000_000; // studio/sheet.py MAX_BYTES
const RESULTS = { create: 'New', update: 'Updated', unchanged: 'Unchanged', skip: 'Skipped' };
let dry = null; // {filename, content, report}

export function loadImport() {
  $('sheet-apply').disabled = !dry || !goodRows(dry.report);
}

function goodRows(report) {
  return report.counts.create + report.counts.update;
}

async function readFile() {
  const file = $('sheet-file').files[0];
  if (!file) throw new Error('Choose a CSV or .xlsx file first.');
  if (file.size > MAX_BYTES) throw new Error('The sheet is over 2 MB: split it.');
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { filename: file.name, content: btoa(binary) };
}

export async function dryRun(event) {
  event.preventDefault();
  clearAlert();
  let sheet;
  try {
    sheet = await readFile();
  } catch (error) {
    showAlert(error.message);
    return;
  }
  say($('sheet-summary'), 'Reading the sheet …');
  let report;
  try {
    report = await api('POST', '/studio/api/faq-sheet', sheet);
  } catch (error) {
    say($('sheet-summary'), '');
    showAlert(error.message);
    return;
  }
  dry = { ...sheet, report };
  show(report);
  $('sheet-apply').disabled = !goodRows(report);
}

function show(report) {
  const { counts } = report;
  const done = report.applied ? 'Applied' : 'Dry run, nothing written yet';
  say($('sheet-summary'), `${done}: ${counts.create} new, ${counts.update} updated, ${counts.unchanged} unchanged, ${counts.skip} skipped.`);
  $('sheet-problems').replaceChildren(...report.problems.map((p) => el('li', { className: 'finding warning', textContent: p })));
  const heads = ['Row', 'FAQ', 'Result', 'Why'];
  $('sheet-rows').replaceChildren(
    el(
      'table',
      { className: 'table sheet' },
      el('caption', { className: 'visually-hidden', textContent: 'What each row of the sheet does' }),
      el('thead', {}, el('tr', {}, ...heads.map((h) => el('th', { scope: 'col', textContent: h })))),
      el(
        'tbody',
        {},
        ...report.rows.map((row) =>
          el(
            'tr',
            { className: row.action === 'skip' ? 'regression' : '' },
            el('th', { scope: 'row', className: 'num', textContent: String(row.row) }),
            el('td', { className: 'mono', textContent: `faq/${row.key}` }),
            el('td', { textContent: RESULTS[row.action] }),
            el('td', { textContent: row.reasons.join('; ') }),
          ),
        ),
      ),
    ),
  );
}

export async function applySheet() {
  if (!dry) return;
  const count = goodRows(dry.report);
  const ok = await confirmDialog($('sheet-apply'), 'Apply the sheet?', `${plural(count, 'good row')} will be written into the content at once; the ${plural(dry.report.counts.skip, 'skipped row')} will not.`, 'Apply');
  if (!ok) return;
  let report;
  try {
    report = await api('POST', '/studio/api/faq-sheet', { filename: dry.filename, content: dry.content, apply: true, version: dry.report.version });
  } catch (error) {
    showAlert(error.message);
    return;
  }
  dry = null;
  show(report);
  $('sheet-apply').disabled = true;
  announce(savedNotice(`${plural(goodRows(report), 'FAQ')} imported`));
}

/** The current FAQs as CSV, fetched with the editor's token and saved by the browser. */
export async function exportSheet() {
  let response;
  try {
    response = await fetch('/studio/api/faq-sheet', { headers: { Authorization: `Bearer ${state.token}` }, cache: 'no-store' });
  } catch {
    showAlert('The service cannot be reached; try again.');
    return;
  }
  if (!response.ok) {
    const data = await response.json().catch(() => ({}));
    showAlert((data.error && data.error.message) || `The service answered ${response.status}.`);
    return;
  }
  const url = URL.createObjectURL(await response.blob());
  const link = el('a', { href: url, download: 'larkspur-faqs.csv' });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
