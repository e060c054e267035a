// util.js: what several views share: the list route's URL state, the
// category tree, colours that stay readable, dates, and a hook that loads
// data for a view.
import { html, useEffect, useRef, useState } from './preact-htm.js';

import { describe } from './api.js';

export const STATUSES = ['draft', 'published', 'archived'];
export const PRIORITIES = ['low', 'medium', 'high', 'critical'];
export const PAGE_SIZES = [10, 20, 50, 100];

// The list route's parameters, in the order they appear in its URL.
export const LIST_KEYS = ['q', 'status', 'priority', 'category_id', 'tags', 'author', 'page', 'page_size'];

// The filters of '#/insights?...' as an object of strings ('' when absent).
export function listState(query) {
  const s = {};
  for (const k of LIST_KEYS) s[k] = (query.get(k) || '').trim();
  return s;
}

// '#/insights?...' for a state: empty values and defaults left out.
export function listHref(state) {
  const q = new URLSearchParams();
  for (const k of LIST_KEYS) {
    const v = state[k] === undefined || state[k] === null ? '' : String(state[k]);
    if (v === '' || (k === 'page' && v === '1') || (k === 'page_size' && v === '20')) continue;
    q.set(k, v);
  }
  const s = q.toString().replace(/%2C/g, ',');
  return s ? `#/insights?${s}` : '#/insights';
}

// The ids of a comma-separated list, positive integers only, sorted, distinct.
export function idList(text) {
  const ids = String(text || '').split(',').map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
  return [...new Set(ids)].sort((a, b) => a - b);
}

// Categories as a forest: [{ cat, children, depth, total }], children by
// name; total counts the category's insights and all its descendants'.
export function categoryTree(categories) {
  const nodes = new Map(categories.map((c) => [c.id, { cat: c, children: [], depth: 0, total: 0 }]));
  const roots = [];
  for (const n of nodes.values()) {
    const parent = n.cat.parent_id && nodes.get(n.cat.parent_id);
    (parent ? parent.children : roots).push(n);
  }
  const byName = (a, b) => a.cat.name.localeCompare(b.cat.name);
  const walk = (n, depth) => {
    n.depth = depth;
    n.children.sort(byName);
    n.total = n.cat.insight_count + n.children.reduce((sum, c) => sum + walk(c, depth + 1), 0);
    return n.total;
  };
  roots.sort(byName);
  roots.forEach((r) => walk(r, 0));
  return roots;
}

// The forest depth first, as a flat list (for indented dropdowns).
export function flatten(roots) {
  const out = [];
  const visit = (n) => { out.push(n); n.children.forEach(visit); };
  roots.forEach(visit);
  return out;
}

function luminance(hex) {
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}

export const validColor = (c) => typeof c === 'string' && /^#[0-9a-fA-F]{6}$/.test(c);

// Black or white, whichever reads better on `bg` (WCAG contrast ratio).
export function textOn(bg) {
  if (!validColor(bg)) return null;
  const l = luminance(bg);
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? '#000000' : '#ffffff';
}

// A badge's inline colours for an API colour (null: the theme's).
export function badgeStyle(color) {
  return validColor(color) ? { background: color, color: textOn(color) } : null;
}

// '2026-11-30T12:34:56Z' -> '2026-11-30 12:34 UTC'.
export function when(ts) {
  return ts ? `${ts.slice(0, 10)} ${ts.slice(11, 16)} UTC` : '—';
}

export const plural = (n, one, many) => `${n.toLocaleString('en')} ${n === 1 ? one : many || `${one}s`}`;

// Runs `load` (an async function) when `deps` change; the latest call wins.
// Returns { data, error, loading, reload }.
export function useLoad(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const seq = useRef(0);
  const run = () => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => { if (mine === seq.current) setState({ data, error: null, loading: false }); },
      (error) => { if (mine === seq.current) setState({ data: null, error, loading: false }); });
  };
  useEffect(run, deps);
  useEffect(() => () => { seq.current++; }, []);
  return { ...state, reload: run };
}

// Calls fn every `ms` while the page is visible (and once when it becomes
// visible again after being hidden); stops with the component.
export function useInterval(fn, ms) {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    let timer = null;
    const start = () => { if (!timer) timer = setInterval(() => saved.current(), ms); };
    const stop = () => { clearInterval(timer); timer = null; };
    const onVisibility = () => {
      if (document.hidden) stop();
      else { saved.current(); start(); }
    };
    if (!document.hidden) start();
    document.addEventListener('visibilitychange', onVisibility);
    return () => { stop(); document.removeEventListener('visibilitychange', onVisibility); };
  }, [ms]);
}

// The standard states of a view, in words.
export function Loading({ what }) {
  return html`<p class="muted" role="status">Loading ${what}…</p>`;
}

export function Failure({ error, retry }) {
  return html`<div class="notice error" role="alert">
    <p>${describe(error)}</p>
    ${retry && html`<button type="button" onClick=${() => { session.dismissed = false; retry(); }}>Try again</button>`}
  </div>`;
}

// Whether the user has moved from the view the page opened on, and whether
// they closed the sign-in prompt since (app.js: a late 401 does not reopen it).
export const session = { navigated: false, dismissed: false };

// A view's heading. After a move to another view it takes the focus, so
// that screen readers announce the new view and keyboard users start from
// it; the first view leaves the focus where a page load puts it.
export function Title({ children }) {
  const ref = useRef();
  useEffect(() => { if (session.navigated && ref.current) ref.current.focus({ preventScroll: true }); }, []);
  return html`<h1 tabindex="-1" ref=${ref}>${children}</h1>`;
}

export function StatusBadge({ status }) {
  return html`<span class=${`badge status-${status}`}>${status}</span>`;
}

export function PriorityBadge({ priority }) {
  const level = PRIORITIES.indexOf(priority) + 1;
  return html`<span class=${`badge priority priority-${priority}`} title=${`Priority: ${priority}`}>
    <span class="bars" aria-hidden="true">${[1, 2, 3, 4].map((i) => html`<i class=${i <= level ? 'on' : ''}></i>`)}</span>
    ${priority}</span>`;
}

export function TagBadge({ tag, href }) {
  const style = badgeStyle(tag.color);
  return href
    ? html`<a class="badge tag" href=${href} style=${style} title=${tag.name}>${tag.name}</a>`
    : html`<span class="badge tag" style=${style} title=${tag.name}>${tag.name}</span>`;
}

export function CategoryBadge({ category }) {
  if (!category) return html`<span class="badge muted">Uncategorized</span>`;
  return html`<a class="badge category" href=${listHref({ category_id: category.id })}
    style=${badgeStyle(category.color)} title=${category.name}>${category.name}</a>`;
}
