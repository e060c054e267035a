// detail.js: one insight (#/insights/{id}): its content rendered by the
// server (GET /insights/{id}?format=html: libcmark in safe mode, the only
// HTML the dashboard ever inserts), metadata, badges and related insights.
import { html, useState } from './preact-htm.js';

import { describe, get, request } from './api.js';
import {
  CategoryBadge, Failure, Loading, PriorityBadge, StatusBadge, TagBadge, Title, listHref, useLoad, when,
} from './util.js';

function Related({ id }) {
  const rel = useLoad(() => get(`/insights/${id}/related?limit=5`), [id]);
  return html`<section class="panel" aria-labelledby="related-h" id="related-section" data-loaded=${rel.data ? 'true' : 'false'}><h2 id="related-h">Related insights</h2>
    ${rel.error ? html`<${Failure} error=${rel.error} retry=${rel.reload} />`
      : !rel.data ? html`<${Loading} what="related insights" />`
      : rel.data.length === 0 ? html`<p class="muted">Nothing shares a tag or the category with this insight.</p>`
      : html`<ul class="recent" id="related">${rel.data.map((r) => html`<li data-id=${r.id}>
          <a href=${`#/insights/${r.id}`}>${r.title}</a>
          <span class="meta"><${StatusBadge} status=${r.status} /> ${r.category ? r.category.name : 'Uncategorized'} · ${when(r.created_at)}</span></li>`)}</ul>`}
  </section>`;
}

export function Detail({ id }) {
  const ins = useLoad(() => get(`/insights/${id}?format=html`), [id]);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState(null);
  if (ins.error) {
    return html`<${Title}>Insight ${id}<//>
      ${ins.error.status === 404 ? html`<div class="notice" role="alert"><p>There is no insight ${id}; it may have been deleted.</p>
          <a href="#/insights">All insights</a></div>`
        : html`<${Failure} error=${ins.error} retry=${ins.reload} />`}`;
  }
  if (!ins.data) return html`<${Title}>Insight ${id}<//><${Loading} what="the insight" />`;
  const i = ins.data;
  const remove = async () => {
    try {
      await request('DELETE', `/insights/${i.id}`);
      location.hash = '#/insights';
    } catch (err) { setError(describe(err)); setConfirming(false); }
  };
  return html`
    <article class="detail">
      <div class="detail-head">
        <${Title}>${i.title}<//>
        <div class="actions">
          <a class="button" href=${`#/insights/${i.id}/edit`}>Edit</a>
          ${confirming
            ? html`<span>Delete this insight?</span> <button type="button" class="danger" onClick=${remove}>Delete</button>
                <button type="button" class="secondary" onClick=${() => setConfirming(false)}>Keep</button>`
            : html`<button type="button" class="secondary" onClick=${() => setConfirming(true)}>Delete</button>`}
        </div>
      </div>
      ${error && html`<p class="notice error" role="alert">${error}</p>`}
      <p class="badges"><${StatusBadge} status=${i.status} /> <${PriorityBadge} priority=${i.priority} />
        <${CategoryBadge} category=${i.category} />
        ${i.tags.map((t) => html` <${TagBadge} tag=${t} href=${listHref({ tags: String(t.id) })} />`)}</p>
      ${i.description && html`<p class="lead">${i.description}</p>`}
      <div class="grid detail-grid">
        <section class="panel content" aria-label="Content">
          ${i.content_html ? html`<div class="markdown" id="content" dangerouslySetInnerHTML=${{ __html: i.content_html }}></div>`
            : html`<p class="muted">No content.</p>`}
        </section>
        <aside class="side">
          <section class="panel" aria-labelledby="meta-h"><h2 id="meta-h">Details</h2>
            <dl class="meta-list">
              <dt>Author</dt><dd><a href=${listHref({ author: i.author })}>${i.author}</a></dd>
              <dt>Source</dt><dd>${i.source || '—'}</dd>
              <dt>Created</dt><dd>${when(i.created_at)}</dd>
              <dt>Updated</dt><dd>${when(i.updated_at)}</dd>
              <dt>Published</dt><dd>${i.published_at ? when(i.published_at) : 'Not published'}</dd>
              <dt>Id</dt><dd>${i.id}</dd>
            </dl></section>
          <${Related} id=${i.id} />
        </aside>
      </div>
    </article>`;
}
