/* HTTP calls to the studio's API with the editor's bearer token; errors as ApiError. */

import { ApiError, client } from '../console/http.js';
import { signOut } from './session.js';
import { state } from './state.js';

export { ApiError };

/** The answer's JSON; a failure throws with the service's own message. */
export const api = client(
  () => state.token,
  (message) => signOut(message),
);
