// app.js: the dashboard's shell: the hash router (the routes are a public
// contract: links from chat, incident reports and other tools use them),
// the header with the navigation and the health indicator (/health every
// 30 s while the tab is visible), and the sign-in prompt shown when the
// API answers 401.
import { html, render, useEffect, useState } from './preact-htm.js';

import { get, hasToken, onUnauthorized, setToken } from './api.js';
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

function SignIn({ onDone }) {
  const [value, setValue] = useState('');
  const submit = (e) => {
    e.preventDefault();
    setToken(value.trim());
    onDone();
  };
  return html`<div class="overlay"><form class="panel signin" role="dialog" aria-modal="true" aria-labelledby="signin-h" onSubmit=${submit}>
    <h2 id="signin-h">Sign in</h2>
    <p>This server asks for credentials. Paste an API token; it is kept in this tab only.</p>
    <div class="field"><label for="signin-token">API token</label>
      <input id="signin-token" type="password" autocomplete="off" value=${value} onInput=${(e) => setValue(e.target.value)} required /></div>
    <div class="actions"><button type="submit">Sign in</button>
      ${hasToken() && html`<button type="button" class="secondary" onClick=${() => { setToken(null); onDone(); }}>Forget token</button>`}</div>
  </form></div>`;
}

const NAV = [
  ['#/', 'Overview', 'overview'], ['#/insights', 'Insights', 'list'], ['#/categories', 'Categories', 'categories'],
  ['#/tags', 'Tags', 'tags'],
];

function darkQuery() { return window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null; }

function App() {
  const [hash, setHash] = useState(location.hash);
  const [signIn, setSignIn] = useState(false);
  const [epoch, setEpoch] = useState(0);
  const [scheme, setScheme] = useState(() => (darkQuery() && darkQuery().matches ? 'dark' : 'light'));
  useEffect(() => {
    const onHash = () => { session.navigated = true; setHash(location.hash); };
    window.addEventListener('hashchange', onHash);
    const off = onUnauthorized(() => setSignIn(true));
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
    </header>
    <main id="main" tabindex="-1" key=${epoch}>${view.el}</main>
    <footer class="foot"><a href="/docs">API documentation</a> · <a href="/redoc">ReDoc</a></footer>
    ${signIn && html`<${SignIn} onDone=${() => { setSignIn(false); setEpoch(epoch + 1); }} />`}`;
}

render(html`<${App} />`, document.getElementById('app'));
