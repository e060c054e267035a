// overview.js: the overview (#/): totals, the statistics as charts (by
// status, priority and category), insights created per day, top authors,
// recent insights and the most used tags. /statistics is polled every
// 60 s while the tab is visible; the rest loads with the view.
import { html, useState } from './preact-htm.js';

import { get, getAll } from './api.js';
import { ChartFigure, PRIORITY_COLORS, SERIES, STATUS_COLORS } from './charts.js';
import { TagCloud } from './tags.js';
import {
  Failure, Loading, PRIORITIES, STATUSES, Title, listHref, plural, useInterval, useLoad, when,
  StatusBadge,
} from './util.js';

function Stat({ label, value, href }) {
  const n = html`<span class="stat-value">${value.toLocaleString('en')}</span>`;
  return html`<div class="stat"><span class="stat-label">${label}</span>
    ${href ? html`<a href=${href}>${n}</a>` : n}</div>`;
}

function Trends({ scheme }) {
  const [days, setDays] = useState(30);
  const t = useLoad(() => get(`/statistics/trends?days=${days}`), [days]);
  return html`<section class="panel wide" aria-labelledby="trends-h">
    <div class="panel-head">
      <h2 id="trends-h">Insights created per day</h2>
      <div class="segmented" role="group" aria-label="Period">
        ${[30, 90].map((d) => html`<button type="button" aria-pressed=${days === d}
          onClick=${() => setDays(d)}>${d} days</button>`)}
      </div>
    </div>
    ${t.error ? html`<${Failure} error=${t.error} retry=${t.reload} />`
      : !t.data ? html`<${Loading} what="trends" />`
      : html`<${ChartFigure} id="chart-trends" scheme=${scheme} kind="line" height=${240}
          title=${`Insights created per day by status, last ${days} days`}
          labels=${t.data.trends.map((d) => d.date.slice(5))}
          series=${STATUSES.map((s) => ({ label: s, data: t.data.trends.map((d) => d[s]), color: STATUS_COLORS[s] }))} />`}
  </section>`;
}

export function Overview({ scheme }) {
  const stats = useLoad(() => get('/statistics'), []);
  useInterval(stats.reload, 60000);
  const authors = useLoad(() => get('/statistics/authors?limit=10'), []);
  const tags = useLoad(() => getAll('/tags'), []);
  if (stats.error && !stats.data) return html`<${Title}>Overview<//><${Failure} error=${stats.error} retry=${stats.reload} />`;
  if (!stats.data) return html`<${Title}>Overview<//><${Loading} what="statistics" />`;
  const s = stats.data;
  const cats = Object.entries(s.insights_by_category).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const topTags = tags.data ? [...tags.data].sort((a, b) => b.usage_count - a.usage_count || a.name.localeCompare(b.name)).slice(0, 25) : null;
  return html`
    <${Title}>Overview<//>
    <section class="stats" aria-label="Totals">
      <div class="stat total"><span class="stat-label">Total insights</span>
        <a href="#/insights"><span class="stat-value" id="total-insights">${s.total_insights.toLocaleString('en')}</span></a></div>
      ${STATUSES.map((st) => html`<${Stat} label=${st[0].toUpperCase() + st.slice(1)} value=${s.insights_by_status[st]}
        href=${listHref({ status: st })} />`)}
      <${Stat} label="Tags" value=${s.total_tags} href="#/tags" />
      <${Stat} label="Categories" value=${s.total_categories} href="#/categories" />
    </section>
    <div class="grid">
      <section class="panel" aria-labelledby="status-h"><h2 id="status-h">By status</h2>
        <${ChartFigure} id="chart-status" scheme=${scheme} kind="pie" title="Insights by status" labels=${STATUSES}
          series=${[{ label: 'Insights', data: STATUSES.map((k) => s.insights_by_status[k]), colors: STATUSES.map((k) => STATUS_COLORS[k]) }]} />
      </section>
      <section class="panel" aria-labelledby="priority-h"><h2 id="priority-h">By priority</h2>
        <${ChartFigure} id="chart-priority" scheme=${scheme} kind="bar" title="Insights by priority" labels=${PRIORITIES}
          series=${[{ label: 'Insights', data: PRIORITIES.map((k) => s.insights_by_priority[k]), colors: PRIORITIES.map((k) => PRIORITY_COLORS[k]) }]} />
      </section>
      <section class="panel" aria-labelledby="category-h"><h2 id="category-h">By category</h2>
        <${ChartFigure} id="chart-category" scheme=${scheme} kind="hbar" title="Insights by category"
          height=${Math.max(160, 28 * cats.length + 40)} labels=${cats.map((c) => c[0])}
          series=${[{ label: 'Insights', data: cats.map((c) => c[1]), colors: cats.map((c, i) => SERIES[i % SERIES.length]) }]} />
      </section>
      <${Trends} scheme=${scheme} />
      <section class="panel" aria-labelledby="authors-h"><h2 id="authors-h">Top authors</h2>
        ${authors.error ? html`<${Failure} error=${authors.error} retry=${authors.reload} />`
          : !authors.data ? html`<${Loading} what="authors" />`
          : authors.data.authors.length === 0 ? html`<p class="muted">No published insights yet.</p>`
          : html`<table class="compact" id="top-authors"><caption class="sr-only">Authors of published insights</caption>
              <thead><tr><th scope="col">Author</th><th scope="col" class="num">Published</th></tr></thead>
              <tbody>${authors.data.authors.map((a) => html`<tr>
                <td><a href=${listHref({ author: a.author })}>${a.author}</a></td><td class="num">${a.insight_count}</td></tr>`)}</tbody></table>`}
      </section>
      <section class="panel" aria-labelledby="recent-h"><h2 id="recent-h">Recent insights</h2>
        ${s.recent_insights.length === 0 ? html`<p class="muted">No insights yet. <a href="#/new">Capture the first one</a>.</p>`
          : html`<ul class="recent" id="recent-insights">${s.recent_insights.map((i) => html`<li>
              <a href=${`#/insights/${i.id}`}>${i.title}</a>
              <span class="meta"><${StatusBadge} status=${i.status} /> ${i.author} · ${when(i.created_at)}</span></li>`)}</ul>`}
      </section>
      <section class="panel" aria-labelledby="toptags-h"><h2 id="toptags-h">Top tags</h2>
        ${tags.error ? html`<${Failure} error=${tags.error} retry=${tags.reload} />`
          : !topTags ? html`<${Loading} what="tags" />`
          : html`<${TagCloud} tags=${topTags} label="Most used tags" />
              <p class="muted small">${plural(tags.data.length, 'tag')} in all. <a href="#/tags">All tags</a></p>`}
      </section>
    </div>`;
}
