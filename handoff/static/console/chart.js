/* The SVG sentiment/confidence chart of the customer's messages, with a table of the values. */

import { $, el, svg } from './dom.js';
import { number, plural } from './format.js';

/** The per-message scores: from the escalation's trail, else from the scored messages. */
function trailOf(detail) {
  const trail = Array.isArray(detail.score_trail) ? detail.score_trail : [];
  const points = trail
    .filter((t) => typeof t.sentiment === 'number' || typeof t.confidence === 'number')
    .map((t, i) => ({
      turn: t.turn || i + 1,
      sentiment: t.sentiment,
      confidence: t.confidence,
      level: t.level || '',
      intent: t.intent || '',
    }));
  if (points.length) return points;
  return (detail.messages || [])
    .filter((m) => m.speaker === 'customer' && typeof m.sentiment === 'number')
    .map((m, i) => ({
      turn: i + 1,
      sentiment: m.sentiment,
      confidence: m.confidence,
      level: '',
      intent: m.intent || '',
    }));
}

export function renderTrail(detail) {
  const holder = $('trail');
  const points = trailOf(detail);
  if (!points.length) {
    holder.replaceChildren(
      el('p', {
        className: 'empty',
        textContent: 'No scores: the customer did not talk to the assistant before the handoff.',
      }),
    );
    return;
  }
  const chart = trailChart(points);
  const caption = el('figcaption', { id: 'trail-caption', textContent: trailSummary(points) });
  chart.setAttribute('aria-labelledby', 'trail-caption');
  const legend = el(
    'p',
    { className: 'legend', 'aria-hidden': 'true' },
    el('span', { className: 'key key-sentiment', textContent: 'Sentiment' }),
    el('span', { className: 'key key-confidence', textContent: 'Confidence' }),
  );
  holder.replaceChildren(el('figure', {}, chart, legend, caption), trailTable(points));
}

function trailChart(points) {
  const width = 300;
  const height = 132;
  const left = 30;
  const right = 10;
  const top = 8;
  const bottom = 22;
  const x = (i) =>
    points.length === 1 ? (left + width - right) / 2 : left + (i * (width - left - right)) / (points.length - 1);
  const y = (v) => top + ((1 - Math.max(-1, Math.min(1, v))) / 2) * (height - top - bottom);
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    class: 'trail-chart',
  });
  for (const [value, label] of [
    [1, '1'],
    [0, '0'],
    [-1, '−1'],
  ]) {
    const grid = value ? 'grid' : 'grid zero';
    chart.append(svg('line', { x1: left, x2: width - right, y1: y(value), y2: y(value), class: grid }));
    const text = svg('text', { x: left - 6, y: y(value) + 4, class: 'axis', 'text-anchor': 'end' });
    text.textContent = label;
    chart.append(text);
  }
  points.forEach((point, i) => {
    const text = svg('text', { x: x(i), y: height - 6, class: 'axis', 'text-anchor': 'middle' });
    text.textContent = String(point.turn);
    chart.append(text);
  });
  for (const [key, name] of [
    ['confidence', 'Confidence'],
    ['sentiment', 'Sentiment'],
  ]) {
    const scored = points.map((p, i) => [i, p[key]]).filter(([, v]) => typeof v === 'number');
    if (!scored.length) continue;
    chart.append(
      svg('polyline', {
        points: scored.map(([i, v]) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' '),
        class: `line line-${key}`,
      }),
    );
    for (const [i, v] of scored) {
      const dot = svg('circle', { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: 3.5, class: `dot dot-${key}` });
      const title = svg('title');
      title.textContent = `Message ${points[i].turn}: ${name.toLowerCase()} ${number(v, 2)}`;
      dot.append(title);
      chart.append(dot);
    }
  }
  return chart;
}

function trailSummary(points) {
  const describe = (key, name) => {
    const values = points.map((p) => p[key]).filter((v) => typeof v === 'number');
    if (!values.length) return `${name} was not scored`;
    if (values.length === 1) return `${name} ${number(values[0], 2)}`;
    const [first, last] = [values[0], values[values.length - 1]];
    const lowest = Math.min(...values);
    return `${name} went from ${number(first, 2)} to ${number(last, 2)} (lowest ${number(lowest, 2)})`;
  };
  const count = plural(points.length, 'customer message');
  const sentiment = describe('sentiment', 'sentiment');
  return `Over ${count}: ${sentiment}; ${describe('confidence', 'the assistant’s confidence')}.`;
}

function trailTable(points) {
  const head = el(
    'tr',
    {},
    ...['Message', 'Sentiment', 'Confidence', 'Mood'].map((h) => el('th', { scope: 'col', textContent: h })),
  );
  const rows = points.map((p) =>
    el(
      'tr',
      {},
      el('td', { textContent: String(p.turn) }),
      el('td', { textContent: number(p.sentiment, 2) }),
      el('td', { textContent: number(p.confidence, 2) }),
      el('td', { textContent: p.level || '—' }),
    ),
  );
  return el(
    'details',
    { className: 'trail-values' },
    el('summary', { textContent: 'Show the values' }),
    el('table', {}, el('thead', {}, head), el('tbody', {}, ...rows)),
  );
}
