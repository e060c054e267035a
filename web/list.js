// list.js: the list (#/insights?q=&status=&priority=&category_id=&tags=&
// author=&page=&page_size=). The URL holds the whole state: every change of
// a filter is a new history entry (bookmarkable, Back/Forward restore it),
// and the page is fetched whenever the URL changes: GET /insights without
// search text or tags, the ranked POST /insights/search with them. Text
// fields (search, author) apply on submit; the other controls at once.
import { html, useEffect, useState } from './preact-htm.js';

import { get, getAll, request } from './api.js';
import {
  CategoryBadge, Failure, Loading, PAGE_SIZES, PRIORITIES, PriorityBadge, STATUSES, StatusBadge,
  TagBadge, Title, categoryTree, flatten, idList, listHref, plural, useLoad, when,
} from './util.js';

const posInt = (s, def) => (/^[1-9][0-9]{0,8}$/.test(s) ? Number(s) : def);

function fetchPage(st) {
  const page = posInt(st.page, 1);
  const pageSize = posInt(st.page_size, 20);
  const tagIds = idList(st.tags);
  if (st.q || tagIds.length) {
    const body = { page, page_size: pageSize };
    if (st.q) body.query = st.q;
    if (tagIds.length) body.tag_ids = tagIds;
    if (st.status) body.status = st.status;
    if (st.priority) body.priority = st.priority;
    if (st.category_id) body.category_id = posInt(st.category_id, -1);
    if (st.author) body.author = st.author;
    return request('POST', '/insights/search', body);
  }
  const q = new URLSearchParams({ page, page_size: pageSize });
  for (const k of ['status', 'priority', 'category_id', 'author']) if (st[k]) q.set(k, st[k]);
  return get(`/insights?${q}`);
}

function Select({ id, label, value, options, onChange }) {
  return html`<div class="field"><label for=${id}>${label}</label>
    <select id=${id} value=${value} onChange=${(e) => onChange(e.target.value)}>
      ${options.map(([v, text]) => html`<option value=${v}>${text}</option>`)}
    </select></div>`;
}

function TagFilter({ tags, selected, onChange }) {
  const chosen = new Set(selected);
  const names = tags.filter((t) => chosen.has(t.id)).map((t) => t.name);
  return html`<details class="field tagfilter">
    <summary>Tags${names.length ? `: ${names.join(', ')}` : ' (any)'}</summary>
    <fieldset><legend class="sr-only">Insights carrying every tag checked</legend>
      <div class="checks">${tags.map((t) => html`<label class="check">
        <input type="checkbox" value=${t.id} checked=${chosen.has(t.id)} data-tag-id=${t.id}
          onChange=${(e) => {
            const next = new Set(chosen);
            if (e.target.checked) next.add(t.id); else next.delete(t.id);
            onChange([...next].sort((a, b) => a - b).join(','));
          }} /> ${t.name} <span class="muted">(${t.usage_count})</span></label>`)}</div>
    </fieldset></details>`;
}

function Pager({ st, total, pageSize }) {
  const page = posInt(st.page, 1);
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const go = (p) => listHref({ ...st, page: p });
  return html`<nav class="pager" aria-label="Pages">
    ${page > 1 ? html`<a href=${go(page - 1)} rel="prev" class="button secondary">Previous</a>` : html`<span class="button secondary disabled" aria-disabled="true">Previous</span>`}
    <span aria-current="page">Page ${page.toLocaleString('en')} of ${pages.toLocaleString('en')}</span>
    ${page < pages ? html`<a href=${go(page + 1)} rel="next" class="button secondary">Next</a>` : html`<span class="button secondary disabled" aria-disabled="true">Next</span>`}
    <div class="field inline"><label for="f-page-size">Per page</label>
      <select id="f-page-size" value=${String(pageSize)} onChange=${(e) => { location.hash = listHref({ ...st, page_size: e.target.value, page: '' }); }}>
        ${PAGE_SIZES.map((n) => html`<option value=${n}>${n}</option>`)}</select></div>
  </nav>`;
}

export function List({ st }) {
  const key = listHref(st);
  const page = useLoad(() => fetchPage(st), [key]);
  const cats = useLoad(() => getAll('/categories'), []);
  const tags = useLoad(() => getAll('/tags'), []);
  const [q, setQ] = useState(st.q);
  const [author, setAuthor] = useState(st.author);
  useEffect(() => { setQ(st.q); setAuthor(st.author); }, [st.q, st.author]);
  const nav = (changes) => { location.hash = listHref({ ...st, ...changes, page: '' }); };
  const submit = (e) => { e.preventDefault(); nav({ q: q.trim(), author: author.trim() }); };
  const flat = cats.data ? flatten(categoryTree(cats.data)) : [];
  const tagList = tags.data ? [...tags.data].sort((a, b) => a.name.localeCompare(b.name)) : [];
  const filtered = ['q', 'status', 'priority', 'category_id', 'tags', 'author'].some((k) => st[k]);
  const pageSize = posInt(st.page_size, 20);
  return html`
    <${Title}>Insights<//>
    <form class="filters panel" role="search" onSubmit=${submit} aria-label="Filter insights">
      <div class="field grow"><label for="f-q">Search</label>
        <input id="f-q" type="search" value=${q} placeholder="Words in title, description or content" maxlength="1000"
          onInput=${(e) => setQ(e.target.value)} /></div>
      <div class="field"><label for="f-author">Author</label>
        <input id="f-author" value=${author} maxlength="255" onInput=${(e) => setAuthor(e.target.value)} /></div>
      <div class="field submit"><button type="submit">Search</button></div>
      <${Select} id="f-status" label="Status" value=${st.status} onChange=${(v) => nav({ status: v })}
        options=${[['', 'Any status'], ...STATUSES.map((s) => [s, s])]} />
      <${Select} id="f-priority" label="Priority" value=${st.priority} onChange=${(v) => nav({ priority: v })}
        options=${[['', 'Any priority'], ...PRIORITIES.map((s) => [s, s])]} />
      <${Select} id="f-category" label="Category" value=${st.category_id} onChange=${(v) => nav({ category_id: v })}
        options=${[['', 'Any category'], ...flat.map((n) => [String(n.cat.id), '\u00a0\u00a0'.repeat(n.depth) + n.cat.name])]} />
      <${TagFilter} tags=${tagList} selected=${idList(st.tags)} onChange=${(v) => nav({ tags: v })} />
      ${filtered && html`<div class="field submit"><a class="button secondary" href="#/insights">Clear filters</a></div>`}
    </form>
    ${page.error ? html`<${Failure} error=${page.error} retry=${page.reload} />`
      : !page.data ? html`<${Loading} what="insights" />`
      : page.data.total === 0 || page.data.insights.length === 0 ? html`<div class="notice" role="status" id="list-empty">
          <p>${page.data.total === 0
            ? (filtered ? 'No insight matches these filters. Try fewer words or filters.' : 'There are no insights yet.')
            : 'This page is past the last one.'}</p>
          ${filtered ? html`<a href="#/insights">Show every insight</a>` : html`<a href="#/new">Capture an insight</a>`}</div>`
      : html`<p class="muted" role="status" id="list-count">${plural(page.data.total, 'insight')}${st.q ? ', best matches first' : ', newest first'}.</p>
        <div class="table-scroll"><table class="insights" id="insight-table">
          <caption class="sr-only">Insights</caption>
          <thead><tr><th scope="col">Title</th><th scope="col">Status</th><th scope="col">Priority</th>
            <th scope="col">Category</th><th scope="col">Tags</th><th scope="col">Author</th><th scope="col">Created</th></tr></thead>
          <tbody>${page.data.insights.map((i) => html`<tr key=${i.id} data-id=${i.id}>
            <th scope="row" class="title"><a href=${`#/insights/${i.id}`}>${i.title}</a>
              ${i.description && html`<span class="desc">${i.description}</span>`}</th>
            <td data-label="Status"><${StatusBadge} status=${i.status} /></td>
            <td data-label="Priority"><${PriorityBadge} priority=${i.priority} /></td>
            <td data-label="Category"><${CategoryBadge} category=${i.category} /></td>
            <td data-label="Tags" class="tags">${i.tags.map((t) => html`<${TagBadge} tag=${t} href=${listHref({ tags: String(t.id) })} /> `)}</td>
            <td data-label="Author">${i.author}</td>
            <td data-label="Created" class="nowrap">${when(i.created_at)}</td></tr>`)}</tbody>
        </table></div>
        <${Pager} st=${st} total=${page.data.total} pageSize=${pageSize} />`}`;
}
