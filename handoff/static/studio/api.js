/* HTTP calls to the studio's API with the editor's bearer token; errors as ApiError. */

import { signOut } from './session.js';
import { state } from './state.js';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || `The service answered ${status}.`);
    this.status = status;
    this.code = code || 'error';
  }
}

/** The answer's JSON; a failure throws with the service's own message. */
export async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'network', 'The service cannot be reached; try again.');
  }
  const data = await response.json().catch(() => ({}));
  if (response.status === 401) {
    signOut('Your session has ended. Sign in again.');
    throw new ApiError(401, 'unauthorized', 'Signed out.');
  }
  if (!response.ok) {
    const error = data && data.error ? data.error : {};
    throw new ApiError(response.status, error.code, error.message);
  }
  return data;
}
