/* The reports view: wait and handle times, satisfaction, containment, triggers. */

import { api } from './api.js';
import { $, el, say } from './dom.js';
import { duration } from './format.js';
import { STATES, triggerLabel } from './labels.js';

export async function loadReports() {
  const days = Number($('report-days').value) || 30;
  say($('report-status'), 'Loading…');
  let figures;
  try {
    figures = await api('GET', `/reports?days=${days}`);
  } catch (error) {
    say($('report-status'), error.message);
    return;
  }
  say($('report-status'), `Figures for the last ${days === 1 ? '24 hours' : `${days} days`}.`);
  renderReports(figures);
}

function figure(name, value) {
  return el('dd', { 'data-figure': name, textContent: value });
}

function spanCard(key, title, explanation, span) {
  return el(
    'section',
    { className: 'card', 'aria-labelledby': `card-${key}` },
    el('h3', { id: `card-${key}`, textContent: title }),
    el('p', { className: 'hint', textContent: explanation }),
    el(
      'dl',
      { className: 'figures' },
      el('dt', { textContent: 'Median' }),
      figure(`${key}-median`, duration(span.median_s)),
      el('dt', { textContent: 'Mean' }),
      figure(`${key}-mean`, duration(span.mean_s)),
      el('dt', { textContent: 'Chats' }),
      figure(`${key}-count`, String(span.count)),
    ),
  );
}

function barTable(key, caption, rows, total) {
  const body = rows.map(([name, label, count]) => {
    const bar = el('span', { className: 'bar-fill' });
    bar.style.width = `${total ? Math.round((100 * count) / total) : 0}%`;
    return el(
      'tr',
      {},
      el('th', { scope: 'row', textContent: label }),
      el('td', { 'data-figure': `${key}-${name}`, textContent: String(count) }),
      el('td', { className: 'bar-cell', 'aria-hidden': 'true' }, el('span', { className: 'bar-track' }, bar)),
    );
  });
  return el(
    'table',
    { className: 'bars' },
    el('caption', { className: 'visually-hidden', textContent: caption }),
    el('tbody', {}, ...body),
  );
}

function renderReports(figures) {
  const csat = figures.csat || { count: 0, mean: null, distribution: {} };
  const distribution = ['5', '4', '3', '2', '1'].map((n) => [n, `Rated ${n}`, csat.distribution[n] || 0]);
  const triggers = Object.entries(figures.by_trigger || {}).sort((a, b) => b[1] - a[1]);
  const states = Object.entries(figures.by_state || {}).sort((a, b) => b[1] - a[1]);
  const containment =
    figures.containment === null || figures.containment === undefined
      ? '—'
      : `${(figures.containment * 100).toFixed(1)} %`;
  $('report-cards').replaceChildren(
    spanCard('wait', 'Wait', 'From escalation until an agent claimed the chat.', figures.wait),
    spanCard(
      'first_response',
      'First response',
      'From escalation until the agent’s first message.',
      figures.first_response,
    ),
    spanCard('handle', 'Handle time', 'From claim until resolved or returned to the bot.', figures.handle),
    spanCard('resolution', 'Resolution time', 'From escalation until resolved.', figures.resolution),
    el(
      'section',
      { className: 'card', 'aria-labelledby': 'card-csat' },
      el('h3', { id: 'card-csat', textContent: 'Customer satisfaction' }),
      el(
        'dl',
        { className: 'figures' },
        el('dt', { textContent: 'Mean rating' }),
        figure('csat-mean', csat.mean === null ? '—' : `${Number(csat.mean).toFixed(2)} / 5`),
        el('dt', { textContent: 'Ratings' }),
        figure('csat-count', String(csat.count)),
      ),
      barTable('csat', 'Ratings by score, 5 to 1', distribution, csat.count),
    ),
    el(
      'section',
      { className: 'card', 'aria-labelledby': 'card-containment' },
      el('h3', { id: 'card-containment', textContent: 'Containment' }),
      el('p', { className: 'hint', textContent: 'Conversations the bot finished without a person.' }),
      el(
        'dl',
        { className: 'figures' },
        el('dt', { textContent: 'Contained' }),
        figure('containment', containment),
        el('dt', { textContent: 'Conversations' }),
        figure('conversations', String(figures.conversations)),
        el('dt', { textContent: 'Handoffs' }),
        figure('handoffs', String(figures.handoffs)),
      ),
    ),
    el(
      'section',
      { className: 'card', 'aria-labelledby': 'card-triggers' },
      el('h3', { id: 'card-triggers', textContent: 'Escalations by trigger' }),
      triggers.length
        ? barTable(
            'trigger',
            'Escalations by trigger',
            triggers.map(([t, n]) => [t, triggerLabel(t), n]),
            figures.handoffs,
          )
        : el('p', { className: 'empty', textContent: 'No escalations in this period.' }),
      states.length
        ? el('p', {
            className: 'hint',
            textContent: `How they ended: ${states.map(([s, n]) => `${STATES[s] || s} ${n}`).join(', ')}.`,
          })
        : null,
    ),
  );
}
