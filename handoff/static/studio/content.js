/* What the FAQ, article and import views share: the article titles, the help-centre
 * address, and what to say after a change is saved. */

import { api } from './api.js';

export const HELP_URL = 'https://larkspur-outdoor.example/help/'; // contracts.understanding
let titles = null;

/** slug → title of every article, loaded once and again after an article is saved. */
export async function articleTitles() {
  if (titles) return titles;
  try {
    const { articles } = await api('GET', '/studio/api/articles');
    titles = Object.fromEntries(articles.map((a) => [a.slug, a.title]));
  } catch {
    return {};
  }
  return titles;
}

export function forgetTitles() {
  titles = null;
}

export function savedNotice(what) {
  return `${what}: saved. Run a check, then publish, to make it live.`;
}
