/* A check's report: passed or blocked and why, the floors, per-intent changes, and the
 * examples the candidate fixed and broke. */

import { el } from '../console/dom.js';
import { number } from '../console/format.js';

export function renderReport(report) {
  return el(
    'div',
    { className: 'report' },
    banner(report),
    floors(report.floors || []),
    metrics(report.metrics || []),
    perIntent(report.per_intent || [], report.tolerance),
    examples('Fixed by the candidate', 'fixed', report.fixed || [], report.fixed_count),
    examples('Broken by the candidate', 'broken', report.broken || [], report.broken_count),
  );
}

function banner(report) {
  const passed = Boolean(report.passed);
  return el(
    'section',
    { className: `banner ${passed ? 'passed' : 'blocked'}`, 'aria-label': 'Verdict' },
    el('p', {
      className: 'verdict',
      textContent: passed ? 'Passed: this candidate can be published.' : 'Blocked: this candidate cannot be published.',
    }),
    (report.reasons || []).length
      ? el('ul', {}, ...report.reasons.map((reason) => el('li', { textContent: reason })))
      : null,
  );
}

const NUMERIC = new Set(['Value', 'Floor', 'Live', 'Candidate', 'Change', 'Newly wrong / right']);

function table(caption, heads, rows) {
  return el(
    'table',
    { className: 'table' },
    el('caption', { textContent: caption }),
    el(
      'thead',
      {},
      el('tr', {}, ...heads.map((h) => el('th', { scope: 'col', className: NUMERIC.has(h) ? 'num' : '', textContent: h }))),
    ),
    el('tbody', {}, ...rows),
  );
}

function floors(items) {
  if (!items.length) return null;
  return table(
    'Floors',
    ['Measure', 'Value', 'Floor', 'Met'],
    items.map((floor) =>
      el(
        'tr',
        { className: floor.met ? '' : 'regression' },
        el('th', { scope: 'row', textContent: floor.name }),
        el('td', { className: 'num', textContent: number(floor.value, 3) }),
        el('td', { className: 'num', textContent: number(floor.floor, 3) }),
        el('td', { textContent: floor.met ? 'Yes' : 'No' }),
      ),
    ),
  );
}

function perIntent(items, tolerance) {
  if (!items.length) return null;
  const caption = typeof tolerance === 'number'
    ? `Per intent and FAQ (F1; a drop beyond ${number(tolerance, 3)} counts as a regression)`
    : 'Per intent and FAQ (F1)';
  const sorted = [...items].sort((a, b) => (a.change ?? 0) - (b.change ?? 0));
  return table(
    caption,
    ['Intent or FAQ', 'Live', 'Candidate', 'Change', ''],
    sorted.map((row) =>
      el(
        'tr',
        { className: row.counted_as_regression ? 'regression' : '' },
        el('th', { scope: 'row', textContent: row.intent }),
        el('td', { className: 'num', textContent: number(row.live_f1, 3) }),
        el('td', { className: 'num', textContent: number(row.candidate_f1, 3) }),
        el('td', { className: 'num', textContent: signed(row.change) }),
        el('td', { textContent: row.counted_as_regression ? 'Regression' : '' }),
      ),
    ),
  );
}

function metrics(items) {
  if (!items.length) return null;
  return table(
    'Overall, live beside candidate',
    ['Measure', 'Live', 'Candidate', 'Change', 'Newly wrong / right', ''],
    items.map((row) =>
      el(
        'tr',
        { className: row.counted_as_regression ? 'regression' : '' },
        el('th', { scope: 'row', textContent: row.name }),
        el('td', { className: 'num', textContent: number(row.live, 3) }),
        el('td', { className: 'num', textContent: number(row.candidate, 3) }),
        el('td', { className: 'num', textContent: signed(row.change) }),
        el('td', { className: 'num', textContent: flips(row) }),
        el('td', { textContent: row.counted_as_regression ? 'Regression' : '' }),
      ),
    ),
  );
}

/** A held-out figure's messages the candidate broke and fixed (the gate's sign test). */
function flips(row) {
  if (row.broken === null || row.broken === undefined) return '—';
  return `${row.broken} / ${row.fixed}`;
}

function signed(value) {
  if (value === null || value === undefined) return '—';
  return value > 0 ? `+${number(value, 3)}` : number(value, 3);
}

/** The gate's examples (``live_prediction``/``candidate_prediction``; the first few of
 * ``count``). */
function examples(caption, kind, items, count) {
  if (!items.length) return el('p', { className: 'empty', textContent: `${caption}: none.` });
  const total = Number(count) > items.length ? ` (${items.length} of ${count} shown)` : '';
  return table(
    caption + total,
    ['Message', 'Expected', 'Live model', 'Candidate'],
    items.map((item) =>
      el(
        'tr',
        { className: kind },
        el('td', { textContent: item.text }),
        el('td', { textContent: item.expected }),
        el('td', { textContent: item.live_prediction ?? item.live }),
        el('td', { textContent: item.candidate_prediction ?? item.candidate }),
      ),
    ),
  );
}
