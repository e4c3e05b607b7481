/* What the console calls triggers, handoff states and speakers. */

const TRIGGERS = {
  explicit_request: 'Asked for a person',
  sensitive_topic: 'Sensitive topic',
  strong_negative: 'Very upset',
  negative_trend: 'Stayed unhappy',
  low_confidence: 'Not understood',
};

export const WHY = {
  explicit_request: 'The customer asked for a person',
  sensitive_topic: 'The topic always goes to a person',
  strong_negative: 'A strongly negative message',
  negative_trend: 'The customer stayed negative over several messages',
  low_confidence: 'The assistant did not understand several messages in a row',
};

export const STATES = {
  queued: 'Waiting',
  offline: 'Offline ticket',
  assigned: 'With an agent',
  resolved: 'Resolved',
  returned: 'Returned to the bot',
  abandoned: 'Customer left',
};

export const SPEAKERS = { customer: 'Customer', bot: 'Bot', agent: 'Agent', system: 'System' };

export function triggerLabel(trigger) {
  return TRIGGERS[trigger] || String(trigger || 'Escalated').replace(/_/g, ' ');
}
