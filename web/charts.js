// charts.js: a chart (Chart.js, loaded by the page as window.Chart) with
// the same numbers as a table beside it, so that each chart is readable
// without seeing it: the canvas is an image with a summary as its label,
// and the table is one click away ("Show as table").
import { html, useEffect, useRef } from './preact-htm.js';

// Colours by meaning, readable on both themes.
export const STATUS_COLORS = { draft: '#64748b', published: '#16a34a', archived: '#d97706' };
export const PRIORITY_COLORS = { low: '#0ea5e9', medium: '#6366f1', high: '#f97316', critical: '#dc2626' };
export const SERIES = ['#2563eb', '#16a34a', '#d97706', '#db2777', '#7c3aed', '#0891b2', '#65a30d', '#dc2626', '#475569', '#ca8a04'];

function themeColor(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

// kind: 'pie' | 'bar' | 'hbar' | 'line'; labels: the categories (x); series:
// [{ label, data: [numbers], color(s) }].
function config(kind, labels, series) {
  const fg = themeColor('--fg') || '#111';
  const grid = themeColor('--line') || '#ddd';
  const pie = kind === 'pie';
  const datasets = series.map((s) => ({
    label: s.label,
    data: s.data,
    backgroundColor: s.colors || s.color,
    borderColor: pie ? themeColor('--bg') || '#fff' : s.color || s.colors,
    borderWidth: pie ? 2 : kind === 'line' ? 2 : 0,
    pointRadius: kind === 'line' ? 0 : undefined,
    tension: 0.25,
    fill: false,
  }));
  const axis = { ticks: { color: fg, precision: 0 }, grid: { color: grid }, beginAtZero: true };
  return {
    type: pie ? 'pie' : kind === 'line' ? 'line' : 'bar',
    data: { labels, datasets },
    options: {
      indexAxis: kind === 'hbar' ? 'y' : 'x',
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      color: fg,
      plugins: {
        legend: { display: pie || series.length > 1, position: 'bottom', labels: { color: fg } },
        tooltip: { enabled: true },
      },
      scales: pie ? {} : { x: { ...axis, ticks: { ...axis.ticks, maxRotation: 0, autoSkip: true } }, y: axis },
    },
  };
}

// A sentence that says what the chart shows (the canvas's accessible name).
function summary(title, labels, series) {
  if (series.length === 1) {
    const parts = labels.map((l, i) => `${l}: ${series[0].data[i]}`);
    return `${title}. ${parts.join(', ')}.`;
  }
  const totals = series.map((s) => `${s.label} ${s.data.reduce((a, b) => a + b, 0)}`);
  return `${title}, ${labels.length} points. Totals: ${totals.join(', ')}. The table below lists every value.`;
}

export function ChartFigure({ id, title, kind, labels, series, height = 260, scheme }) {
  const canvas = useRef();
  const chart = useRef(null);
  const key = JSON.stringify([kind, labels, series, scheme]);
  useEffect(() => {
    if (!window.Chart || !canvas.current) return undefined;
    const cfg = config(kind, labels, series);
    if (chart.current && chart.current.config.type === cfg.type) {
      chart.current.data = cfg.data;
      chart.current.options = cfg.options;
      chart.current.update('none');
    } else {
      if (chart.current) chart.current.destroy();
      chart.current = new window.Chart(canvas.current, cfg);
    }
    return undefined;
  }, [key]);
  useEffect(() => () => { if (chart.current) chart.current.destroy(); chart.current = null; }, []);
  const total = (i) => series.reduce((sum, s) => sum + (s.data[i] || 0), 0);
  return html`<figure class="chart" aria-labelledby=${`${id}-title`}>
    <figcaption id=${`${id}-title`}>${title}</figcaption>
    ${window.Chart
      ? html`<div class="canvas-box" style=${{ height: `${height}px` }}>
          <canvas ref=${canvas} id=${id} role="img" aria-label=${summary(title, labels, series)}></canvas></div>`
      : html`<p class="muted">The chart library did not load; the numbers are in the table.</p>`}
    <details open=${!window.Chart}>
      <summary>Show as table</summary>
      <div class="table-scroll"><table>
        <caption class="sr-only">${title}</caption>
        <thead><tr><th scope="col">${kind === 'line' ? 'Day' : 'Name'}</th>
          ${series.map((s) => html`<th scope="col" class="num">${s.label}</th>`)}
          ${series.length > 1 && html`<th scope="col" class="num">Total</th>`}</tr></thead>
        <tbody>${labels.map((l, i) => html`<tr><th scope="row">${l}</th>
          ${series.map((s) => html`<td class="num">${s.data[i]}</td>`)}
          ${series.length > 1 && html`<td class="num">${total(i)}</td>`}</tr>`)}</tbody>
      </table></div>
    </details>
  </figure>`;
}
