/* Calls to the service shared by the console and the studio: the bearer token, the JSON
 * body, and every failure as an ApiError carrying the service's own message. */

export class ApiError extends Error {
  constructor(status, code, message, detail) {
    super(message || `The service answered ${status}.`);
    this.status = status;
    this.code = code || 'error';
    this.detail = detail || {}; // the envelope's error, e.g. ``current`` on a stale edit
  }
}

async function send(method, path, body, headers) {
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  try {
    return await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'network', 'The service cannot be reached; try again.');
  }
}

function failure(response, data) {
  const error = data && data.error ? data.error : {};
  return new ApiError(response.status, error.code, error.message, error);
}

/** An ``api(method, path, body)`` that sends ``token()`` and, on a 401, calls
 * ``signedOut`` (the session ended) before it throws. */
export function client(token, signedOut) {
  return async function api(method, path, body) {
    const response = await send(method, path, body, { Authorization: `Bearer ${token()}` });
    const data = await response.json().catch(() => ({}));
    if (response.status === 401) {
      signedOut('Your session has ended. Sign in again.');
      throw new ApiError(401, 'unauthorized', 'Signed out.');
    }
    if (!response.ok) throw failure(response, data);
    return data;
  };
}

/** ``POST /agent/login``: ``{token, expires_at, agent}``, or an ApiError to show. */
export async function signIn(name, password) {
  const response = await send('POST', '/agent/login', { name, password }, {});
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw failure(response, data);
  return data;
}
