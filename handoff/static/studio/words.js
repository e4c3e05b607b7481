/* What the studio calls the service's reasons, label actions, check stages and states. */

export const REASONS = {
  fallback: 'Not understood',
  out_of_scope: 'Outside what it covers',
  low_margin: 'Unsure between two',
  unfamiliar: 'Unlike its phrases',
  faq_to_search: 'FAQ held back for search',
  no_article: 'No help article found',
  asked_for_person: 'Then asked for a person',
  rephrased: 'Then said it again',
  not_helpful: 'Answer marked not helpful',
};

export const STAGES = {
  validate: 'Validate the content',
  train: 'Train the candidate model',
  score_live: 'Score the live model',
  score_candidate: 'Score the candidate',
  escalation: 'Escalation checks',
  compare: 'Compare live and candidate',
};

export const CHECK_STATES = {
  queued: 'Queued',
  running: 'Running',
  passed: 'Passed',
  blocked: 'Blocked',
  failed: 'Failed',
  published: 'Published',
};

export const STAGE_STATES = { started: 'Running', done: 'Done', failed: 'Failed' };

export function reasonLabel(reason) {
  return REASONS[reason] || String(reason).replace(/_/g, ' ');
}

export function stageLabel(stage) {
  return STAGES[stage] || String(stage).replace(/_/g, ' ');
}

/** "faq/shipping_cost" as "FAQ shipping cost", an intent as its words. */
export function targetLabel(name) {
  const text = String(name || '');
  if (text.startsWith('faq/')) return `FAQ ${text.slice(4).replace(/_/g, ' ')}`;
  return text.replace(/_/g, ' ');
}
