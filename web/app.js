// app.js: the dashboard's shell: the hash router (the routes are a public
// contract: links from chat, incident reports and other tools use them),
// the header with the navigation and the health indicator (/health every
// 30 s while the tab is visible), who is signed in (GET /auth/me) with a
// Sign out button, and the sign-in prompt shown when the API answers 401.
import { html, render, useEffect, useRef, useState } from './preact-htm.js';

import {
  describe, get, hasToken, onUnauthorized, request, setIdentity, setToken,
} from './api.js';
import { Categories } from './categories.js';
import { Detail } from './detail.js';
import { Form } from './form.js';
import { List } from './list.js';
import { Overview } from './overview.js';
import { Tags } from './tags.js';
import { Title, listState, session, useInterval } from './util.js';

// '#/insights/12/edit?x=1' -> { path: '/insights/12/edit', query }.
function parseHash(hash) {
  const h = (hash || '').replace(/^#/, '') || '/';
  const at = h.indexOf('?');
  return { path: at < 0 ? h : h.slice(0, at), query: new URLSearchParams(at < 0 ? '' : h.slice(at + 1)) };
}

// The view for a location: { name, el }.
function route(hash, scheme) {
  const { path, query } = parseHash(hash);
  let m;
  if (path === '/' || path === '') return { name: 'overview', el: html`<${Overview} scheme=${scheme} />` };
  if (path === '/insights') return { name: 'list', el: html`<${List} st=${listState(query)} />` };
  if ((m = path.match(/^\/insights\/([1-9][0-9]{0,17})$/))) return { name: 'detail', el: html`<${Detail} key=${m[1]} id=${m[1]} />` };
  if ((m = path.match(/^\/insights\/([1-9][0-9]{0,17})\/edit$/))) return { name: 'edit', el: html`<${Form} key=${`e${m[1]}`} id=${m[1]} />` };
  if (path === '/new') return { name: 'new', el: html`<${Form} key="new" id=${null} />` };
  if (path === '/categories') return { name: 'categories', el: html`<${Categories} />` };
  if (path === '/tags') return { name: 'tags', el: html`<${Tags} />` };
  return {
    name: 'missing',
    el: html`<${Title}>Page not found<//><div class="notice" role="alert"><p>Nothing lives at this address.</p>
      <a href="#/">Go to the overview</a></div>`,
  };
}

function Health() {
  const [h, setH] = useState({ state: 'unknown', text: 'Checking…' });
  const check = () => get('/health').then(
    (r) => setH({ state: 'ok', text: `Healthy · v${r.version}` }),
    (err) => setH(err.status === 503
      ? { state: 'down', text: 'Database unavailable' }
      : { state: 'down', text: err.status === 0 ? 'Server unreachable' : 'Unhealthy' }));
  useEffect(() => { check(); }, []);
  useInterval(check, 30000);
  return html`<div class="health" id="health" data-state=${h.state} role="status" aria-label=${`Service health: ${h.text}`}>
    <span class="dot" aria-hidden="true"></span><span class="health-text">${h.text}</span></div>`;
}

// The sign-in prompt: a modal dialog (the page behind it is inert) with a
// password-type field for an API token. The token is checked with GET
// /auth/me before it is kept; a refused one leaves the dialog open with
// the reason under the field. Escape or Cancel closes it; focus goes back
// to where it was (or to the header's Sign in button).
function SignIn({ refused, onSignedIn, onClose }) {
  const dialog = useRef();
  const input = useRef();
  const [value, setValue] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const opener = document.activeElement;
    const d = dialog.current;
    if (d && !d.open && d.showModal) d.showModal();
    if (input.current) input.current.focus();
    return () => {
      // Closed before the focus moves: while it is open, the page behind is inert.
      if (d && d.open) d.close();
      const back = opener && opener !== document.body && opener.isConnected ? opener : document.getElementById('signin-open');
      if (back) back.focus();
    };
  }, []);
  const submit = async (e) => {
    e.preventDefault();
    const candidate = value.trim();
    const fail = (text) => {
      setBusy(false);
      setError(text);
      if (input.current) { input.current.focus(); input.current.select(); }
    };
    if (!candidate) { fail('Paste an API token first.'); return; }
    setBusy(true);
    setError(null);
    let me;
    try {
      me = await request('GET', '/auth/me', undefined, { token: candidate });
    } catch (err) {
      fail(err.status === 401 ? 'This token was refused: it may be mistyped, expired or revoked.'
        : err.status === 403 ? 'This token is valid but its role cannot read insights.' : describe(err));
      return;
    }
    setToken(candidate);
    onSignedIn(me);
  };
  // Tab and Shift-Tab go round the dialog's controls (a modal dialog alone
  // lets the focus leave for the browser's own controls).
  const trap = (e) => {
    if (e.key !== 'Tab' || !dialog.current) return;
    const items = [...dialog.current.querySelectorAll('input, button:not([disabled])')];
    if (!items.length) return;
    const first = items[0];
    const last = items[items.length - 1];
    if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
  };
  return html`<dialog class="panel signin" ref=${dialog} aria-labelledby="signin-h" aria-describedby="signin-help"
      onCancel=${(e) => { e.preventDefault(); onClose(); }} onKeyDown=${trap}>
    <form onSubmit=${submit} noValidate>
      <h2 id="signin-h">Sign in</h2>
      <p id="signin-help">${refused ? 'The server refused the token this tab held. ' : 'This server asks for credentials. '}
        Paste an API token; it is kept in this tab only, until you sign out or close the tab.</p>
      <div class=${`field${error ? ' invalid' : ''}`}><label for="signin-token">API token</label>
        <input id="signin-token" ref=${input} type="password" autocomplete="off" spellcheck="false" value=${value}
          aria-invalid=${error ? 'true' : undefined} aria-describedby=${error ? 'signin-error' : undefined}
          onInput=${(e) => setValue(e.target.value)} />
        ${error && html`<p class="field-error" id="signin-error" role="alert">${error}</p>`}</div>
      <div class="actions"><button type="submit" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
        <button type="button" class="secondary" onClick=${onClose}>Cancel</button></div>
    </form></dialog>`;
}

// Who is signed in, and the way out; with authentication off, nothing.
function Account({ me, needed, onSignIn, onSignOut }) {
  if (me && me.authenticated) {
    return html`<div class="account" id="account">
      <span class="who">Signed in as <strong id="who-name">${me.name}</strong> <span class="badge" id="who-role">${me.role}</span></span>
      <button type="button" class="secondary" id="signout" onClick=${onSignOut}>Sign out</button></div>`;
  }
  if (hasToken()) {
    return html`<div class="account" id="account"><button type="button" class="secondary" id="signout" onClick=${onSignOut}>Sign out</button></div>`;
  }
  if (needed) return html`<div class="account" id="account"><button type="button" id="signin-open" onClick=${onSignIn}>Sign in</button></div>`;
  return null;
}

const NAV = [
  ['#/', 'Overview', 'overview'], ['#/insights', 'Insights', 'list'], ['#/categories', 'Categories', 'categories'],
  ['#/tags', 'Tags', 'tags'],
];

function darkQuery() { return window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null; }

function App() {
  const [hash, setHash] = useState(location.hash);
  const [signIn, setSignIn] = useState(null); // null, or { refused } while the prompt is open
  const [needed, setNeeded] = useState(false); // the server asked for credentials
  const [me, setMe] = useState(null);
  const [epoch, setEpoch] = useState(0);
  const know = (who) => { setIdentity(who); setMe(who); };
  const [scheme, setScheme] = useState(() => (darkQuery() && darkQuery().matches ? 'dark' : 'light'));
  useEffect(() => {
    const onHash = () => { session.navigated = true; session.dismissed = false; setHash(location.hash); };
    window.addEventListener('hashchange', onHash);
    const off = onUnauthorized(() => {
      const refused = hasToken();
      if (refused) { setToken(null); know(null); }
      setNeeded(true);
      // Dismissed: the view's other requests answering 401 late do not reopen it.
      if (!session.dismissed) setSignIn((open) => open || { refused });
    });
    get('/auth/me').then(know, () => know(null));
    const mq = darkQuery();
    const onScheme = () => setScheme(mq.matches ? 'dark' : 'light');
    if (mq) mq.addEventListener('change', onScheme);
    return () => { window.removeEventListener('hashchange', onHash); off(); if (mq) mq.removeEventListener('change', onScheme); };
  }, []);
  const view = route(hash, scheme);
  useEffect(() => { window.scrollTo(0, 0); }, [view.name, hash.split('?')[0]]);
  const current = (name) => (view.name === name || (name === 'list' && (view.name === 'detail' || view.name === 'edit')) ? 'page' : undefined);
  return html`
    <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main').focus(); }}>Skip to content</a>
    <header class="top">
      <a class="brand" href="#/"><img src="/web/favicon.svg" alt="" width="24" height="24" /> insights</a>
      <nav aria-label="Views"><ul>
        ${NAV.map(([href, label, name]) => html`<li><a href=${href} aria-current=${current(name)}>${label}</a></li>`)}
        <li><a class="button" href="#/new" aria-current=${current('new')}>New insight</a></li>
      </ul></nav>
      <${Health} />
      <${Account} me=${me} needed=${needed} onSignIn=${() => { session.dismissed = false; setSignIn({ refused: false }); }}
        onSignOut=${() => { setToken(null); know(null); setEpoch(epoch + 1); }} />
    </header>
    <main id="main" tabindex="-1" key=${epoch}>${view.el}</main>
    <footer class="foot"><a href="/docs">API documentation</a> · <a href="/redoc">ReDoc</a></footer>
    ${signIn && html`<${SignIn} refused=${signIn.refused} onClose=${() => { session.dismissed = true; setSignIn(null); }}
      onSignedIn=${(who) => { know(who); setNeeded(false); setSignIn(null); setEpoch((n) => n + 1); }} />`}`;
}

render(html`<${App} />`, document.getElementById('app'));
