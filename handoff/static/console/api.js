/* HTTP calls to the service, with the agent's bearer token. */

import { client } from './http.js';
import { signOut } from './session.js';
import { state } from './state.js';

export const api = client(
  () => state.token,
  (message) => signOut(message),
);
