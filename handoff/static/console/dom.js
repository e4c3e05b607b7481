/* Small DOM helpers for the agents' console.
 *
 * Everything a customer, the bot or an agent wrote is put on the page with textContent
 * (never innerHTML), and only http(s) links from the bot become anchors, so typed markup
 * stays text. The page's CSP forbids inline script and style as a second line.
 */

const SVG = 'http://www.w3.org/2000/svg';

export const $ = (id) => document.getElementById(id);

/** An element with properties (className, textContent, …) or attributes, and children. */
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null) continue;
    if (key.startsWith('aria-') || key.startsWith('data-') || key === 'role') {
      node.setAttribute(key, value);
    } else {
      node[key] = value;
    }
  }
  for (const child of children) {
    if (child !== undefined && child !== null && child !== false) node.append(child);
  }
  return node;
}

export function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
  return node;
}

export function randomId(prefix) {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A bot message: Markdown links to http(s) become anchors; anything else stays text. */
export function botText(text) {
  const fragment = document.createDocumentFragment();
  const link = /\[([^\]\n]{1,300})\]\(([^()\s]{1,2000})\)/g;
  let last = 0;
  for (let match = link.exec(text); match !== null; match = link.exec(text)) {
    fragment.append(text.slice(last, match.index));
    const href = safeHref(match[2]);
    if (href) {
      const anchor = el('a', { href, rel: 'noopener noreferrer', target: '_blank' });
      anchor.textContent = match[1];
      fragment.append(anchor);
    } else {
      fragment.append(match[0]);
    }
    last = link.lastIndex;
  }
  fragment.append(text.slice(last));
  return fragment;
}

function safeHref(raw) {
  try {
    const url = new URL(raw);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null; // relative or malformed: not a link
  }
}

export function say(node, text) {
  node.textContent = text || '';
}

/** A message about the open conversation, or about the queue when none is open. */
export function status(message) {
  const open = !$('conversation-body').hidden;
  say($('conversation-status'), open ? message : '');
  say($('notice'), open ? '' : message);
}

export function announce(message) {
  say($('announcer'), message);
}
