// api.js: the one door between the dashboard and the REST API.
//
// Every request goes through request(): it is where credentials are
// attached (a bearer token kept in the tab's session storage, for when the
// server requires authentication) and where a 401 turns into a sign-in
// prompt (the listeners registered with onUnauthorized) instead of a broken
// view. Who the token is (GET /auth/me) is kept here too, so that a 403 can
// be explained with the role that was refused. It also carries the data version of the last write this tab made
// (X-Insights-Version) on later reads, so that no cached answer older than
// the tab's own write is shown, whichever instance answers.

const TOKEN_KEY = 'insights.token';

export class ApiError extends Error {
  // status: the HTTP status (0: the server could not be reached);
  // detail: the API's "detail" (a sentence, or the list of 422 problems).
  constructor(status, detail) {
    super(typeof detail === 'string' ? detail : `The server answered ${status}`);
    this.status = status;
    this.detail = detail;
  }
}

let token = null;
try { token = sessionStorage.getItem(TOKEN_KEY); } catch (e) { token = null; }
let minVersion = 0;
const unauthorized = new Set();
// GET /auth/me's answer for the current token ({ name, role, authenticated }), or null.
let identity = null;

export function setToken(value) {
  token = value || null;
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch (e) { /* storage may be off: the token lives as long as the page */ }
}

export function hasToken() { return !!token; }

export function getIdentity() { return identity; }
export function setIdentity(me) { identity = me || null; }

// fn() is called on every 401; returns a function that unregisters it.
export function onUnauthorized(fn) {
  unauthorized.add(fn);
  return () => unauthorized.delete(fn);
}

// opts.token: a credential to try instead of the tab's (the sign-in prompt
// checks one before keeping it); such a request's 401 is the caller's to
// explain and prompts no one.
export async function request(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const credential = opts.token !== undefined ? opts.token : token;
  if (credential) headers.Authorization = `Bearer ${credential}`;
  if (method === 'GET' && minVersion) headers['X-Insights-Min-Version'] = String(minVersion);
  let resp;
  try {
    resp = await fetch(path, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'The server cannot be reached.');
  }
  const version = Number(resp.headers.get('X-Insights-Version'));
  if (version > minVersion) minVersion = version;
  // The body is always read to its end (even a 204's empty one): a
  // response left unread is reported by the browser as aborted.
  let text = '';
  try { text = await resp.text(); } catch (e) { throw new ApiError(0, 'The server cannot be reached.'); }
  if (resp.status === 401) {
    if (opts.token === undefined) unauthorized.forEach((fn) => fn());
    throw new ApiError(401, 'Sign in to see this.');
  }
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (!resp.ok) throw new ApiError(resp.status, data && data.detail !== undefined ? data.detail : null);
  return data;
}

export const get = (path) => request('GET', path);

// The stored insights most like a draft ({title, description}): duplicate warnings.
export const similar = (draft) => request('POST', '/insights/similar', draft).then((r) => r.similar);

// Every row of a skip/limit list (/tags, /categories), 100 at a time.
export async function getAll(path) {
  const out = [];
  for (let skip = 0; ; skip += 100) {
    const chunk = await get(`${path}?skip=${skip}&limit=100`);
    out.push(...chunk);
    if (chunk.length < 100) return out;
  }
}

// A sentence for an error, for a view to show.
export function describe(err) {
  if (!(err instanceof ApiError)) return 'Something went wrong in the dashboard.';
  if (err.status === 0) return 'The server cannot be reached. Is it running?';
  if (err.status === 403) {
    return identity && identity.role && identity.role !== 'anonymous'
      ? `Your role (${identity.role}) cannot do this.`
      : 'Your credentials do not allow this.';
  }
  if (err.status === 429) return 'Too many requests: wait a moment, then try again.';
  if (typeof err.detail === 'string') return err.detail;
  if (Array.isArray(err.detail)) return err.detail.map((p) => `${(p.loc || []).slice(1).join('.')}: ${p.msg}`).join('; ');
  return `The server answered ${err.status}.`;
}

// The 422 problems of a body, by field: { title: ["String should ..."] }.
export function problemsByField(err) {
  const out = {};
  if (!(err instanceof ApiError) || err.status !== 422 || !Array.isArray(err.detail)) return out;
  for (const p of err.detail) {
    const loc = p.loc || [];
    const field = loc[0] === 'body' && loc.length > 1 ? String(loc[1]) : '_';
    (out[field] = out[field] || []).push(p.msg);
  }
  return out;
}
