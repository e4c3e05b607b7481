/* Closing a chat: resolving, returning it to the bot, passing it on. */

import { api } from './api.js';
import { absorb, saveHeld } from './conversation.js';
import { $, el, status } from './dom.js';
import { state } from './state.js';
import { renderMine, renderActive } from './transcript.js';

export async function resolve() {
  const conversation = state.conversations.get(state.activeId);
  if (!conversation) return;
  try {
    await api('POST', `/handoffs/${conversation.handoffId}/resolve`);
    await closed(conversation, 'Resolved. The customer is asked to rate the chat.');
  } catch (error) {
    status(error.message);
  }
}

export function openReturn() {
  $('return-form').hidden = false;
  $('close-bar').hidden = true;
  $('return-summary').focus();
}

export function cancelReturn() {
  $('return-form').hidden = true;
  $('close-bar').hidden = false;
  $('return-open').focus();
}

export async function returnToBot(event) {
  event.preventDefault();
  const conversation = state.conversations.get(state.activeId);
  if (!conversation) return;
  const summary = $('return-summary').value.trim();
  try {
    await api('POST', `/handoffs/${conversation.handoffId}/return`, summary ? { summary } : {});
    $('return-summary').value = '';
    await closed(conversation, 'Returned to the bot, with your summary.');
  } catch (error) {
    status(error.message);
  }
}

/** Colleagues signed in and taking chats first; those without a free seat can't be picked. */
export async function openPass() {
  const select = $('pass-to');
  let agents = [];
  try {
    agents = (await api('GET', '/agents')).agents;
  } catch (error) {
    status(error.message);
    return;
  }
  const others = agents
    .filter((agent) => agent.id !== state.agent.id)
    .map((agent) => ({ ...agent, ready: agent.available && agent.signed_in }))
    .sort((a, b) => Number(b.ready) - Number(a.ready) || a.name.localeCompare(b.name));
  select.replaceChildren(
    el('option', { value: '' }, 'Back to the queue (the next free agent)'),
    ...others.map((agent) => {
      const full = agent.holding >= agent.capacity;
      const where = agent.ready ? 'available' : agent.signed_in ? 'away' : 'signed out';
      const load = `${agent.holding} of ${agent.capacity} chats`;
      return el(
        'option',
        { value: String(agent.id), disabled: full, 'data-name': agent.name },
        `${agent.name} (${where}, ${load}${full ? ', full' : ''})`,
      );
    }),
  );
  $('pass-form').hidden = false;
  $('close-bar').hidden = true;
  select.focus();
}

export function cancelPass() {
  $('pass-form').hidden = true;
  $('close-bar').hidden = false;
  $('pass-open').focus();
}

export async function passOn(event) {
  event.preventDefault();
  const conversation = state.conversations.get(state.activeId);
  if (!conversation) return;
  const choice = $('pass-to').selectedOptions[0];
  const agentId = choice && choice.value ? Number(choice.value) : null;
  const name = agentId === null ? '' : choice.dataset.name;
  try {
    const body = agentId === null ? {} : { agent_id: agentId };
    await api('POST', `/handoffs/${conversation.handoffId}/reassign`, body);
    $('pass-form').hidden = true;
    await closed(conversation, name ? `Passed to ${name}.` : 'Back in the queue for the next free agent.');
  } catch (error) {
    status(error.message);
  }
}

async function closed(conversation, message) {
  conversation.mine = false;
  conversation.closed = true;
  conversation.outcome = message;
  saveHeld();
  try {
    absorb(await api('GET', `/handoffs/${conversation.handoffId}`));
  } catch {
    // the state shown is good enough
  }
  renderMine();
  renderActive();
  status(message);
  $('dismiss').focus();
}

export function dismiss() {
  state.conversations.delete(state.activeId);
  state.activeId = null;
  renderMine();
  renderActive();
}
