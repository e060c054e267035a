// tags.js: the tag cloud (#/tags): every tag sized by usage_count in its
// colour, each a link to the list filtered by it; beside it a table of
// tags with their usage, where tags are created, renamed, recoloured and
// deleted (the API's 409 messages shown as they come).
import { html, useState } from './preact-htm.js';

import { describe, getAll, request } from './api.js';
import {
  Failure, Loading, Title, listHref, plural, useLoad, validColor,
} from './util.js';

// A tag's size from 0 to 1 by usage, on a log scale (style.css turns it
// into a font size that suits the screen).
function size(n, max) {
  if (max <= 0) return 0;
  return Math.log1p(n) / Math.log1p(max);
}

export function TagCloud({ tags, label }) {
  if (!tags.length) return html`<p class="muted">No tags yet.</p>`;
  const max = Math.max(...tags.map((t) => t.usage_count));
  return html`<ul class="cloud" aria-label=${label}>
    ${tags.map((t) => html`<li><a href=${listHref({ tags: String(t.id) })} data-tag-id=${t.id}
      class="cloud-tag"
      style=${{ '--size': size(t.usage_count, max).toFixed(3), '--tag': validColor(t.color) ? t.color : null }}
      aria-label=${`${t.name}: ${plural(t.usage_count, 'insight')}`}>${t.name}</a></li>`)}
  </ul>`;
}

export const slugify = (s) => s.toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '')
  .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50);

function Swatch({ color }) {
  return validColor(color)
    ? html`<span class="swatch" style=${{ background: color }} aria-hidden="true"></span>`
    : html`<span class="swatch none" aria-hidden="true"></span>`;
}

// A row's editor: rename (name and slug) and recolour.
function TagEditor({ tag, onDone, onCancel }) {
  const [name, setName] = useState(tag.name);
  const [slug, setSlug] = useState(tag.slug);
  const [color, setColor] = useState(validColor(tag.color) ? tag.color : '#3b82f6');
  const [error, setError] = useState(null);
  const save = async (e) => {
    e.preventDefault();
    try {
      await request('PUT', `/tags/${tag.id}`, { name, slug, color });
      onDone(`Tag “${name}” saved.`);
    } catch (err) { setError(describe(err)); }
  };
  const p = `tag-${tag.id}`;
  return html`<form class="inline-form" onSubmit=${save} aria-label=${`Edit tag ${tag.name}`}>
    <label for=${`${p}-name`}>Name</label><input id=${`${p}-name`} value=${name} required maxlength="50" onInput=${(e) => setName(e.target.value)} />
    <label for=${`${p}-slug`}>Slug</label><input id=${`${p}-slug`} value=${slug} required maxlength="50" onInput=${(e) => setSlug(e.target.value)} />
    <label for=${`${p}-color`}>Colour</label><input id=${`${p}-color`} type="color" value=${color} onInput=${(e) => setColor(e.target.value)} />
    <button type="submit">Save</button> <button type="button" class="secondary" onClick=${onCancel}>Cancel</button>
    ${error && html`<p class="field-error" role="alert">${error}</p>`}
  </form>`;
}

function NewTag({ onDone }) {
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const [slugEdited, setSlugEdited] = useState(false);
  const [color, setColor] = useState('#3b82f6');
  const [description, setDescription] = useState('');
  const [error, setError] = useState(null);
  const save = async (e) => {
    e.preventDefault();
    try {
      const t = await request('POST', '/tags', { name, slug: slug || slugify(name), color, description: description || null });
      setName(''); setSlug(''); setSlugEdited(false); setDescription(''); setError(null);
      onDone(`Tag “${t.name}” created.`);
    } catch (err) { setError(describe(err)); }
  };
  return html`<form class="panel stack" onSubmit=${save} aria-labelledby="newtag-h">
    <h2 id="newtag-h">New tag</h2>
    <div class="field"><label for="newtag-name">Name</label>
      <input id="newtag-name" value=${name} required maxlength="50"
        onInput=${(e) => { setName(e.target.value); if (!slugEdited) setSlug(slugify(e.target.value)); }} /></div>
    <div class="field"><label for="newtag-slug">Slug</label>
      <input id="newtag-slug" value=${slug} required maxlength="50" onInput=${(e) => { setSlug(e.target.value); setSlugEdited(true); }} /></div>
    <div class="field"><label for="newtag-color">Colour</label>
      <input id="newtag-color" type="color" value=${color} onInput=${(e) => setColor(e.target.value)} /></div>
    <div class="field"><label for="newtag-desc">Description</label>
      <input id="newtag-desc" value=${description} onInput=${(e) => setDescription(e.target.value)} /></div>
    <div><button type="submit">Create tag</button></div>
    ${error && html`<p class="field-error" role="alert" id="newtag-error">${error}</p>`}
  </form>`;
}

export function Tags() {
  const tags = useLoad(() => getAll('/tags'), []);
  const [editing, setEditing] = useState(null);
  const [confirming, setConfirming] = useState(null);
  const [message, setMessage] = useState(null);
  const [rowError, setRowError] = useState(null);
  const done = (msg) => { setEditing(null); setConfirming(null); setRowError(null); setMessage(msg); tags.reload(); };
  const remove = async (t) => {
    try {
      await request('DELETE', `/tags/${t.id}`);
      done(`Tag “${t.name}” deleted.`);
    } catch (err) { setRowError({ id: t.id, text: describe(err) }); }
  };
  if (tags.error) return html`<${Title}>Tags<//><${Failure} error=${tags.error} retry=${tags.reload} />`;
  if (!tags.data) return html`<${Title}>Tags<//><${Loading} what="tags" />`;
  const byUsage = [...tags.data].sort((a, b) => b.usage_count - a.usage_count || a.name.localeCompare(b.name));
  return html`
    <${Title}>Tags<//>
    <p class="muted">${plural(tags.data.length, 'tag')}. Larger tags are used by more insights; choose one to list its insights.</p>
    <div role="status" class="live">${message}</div>
    <section class="panel" aria-labelledby="cloud-h"><h2 id="cloud-h">Tag cloud</h2>
      <${TagCloud} tags=${tags.data} label="Tags by usage" /></section>
    <div class="grid two">
      <section class="panel" aria-labelledby="usage-h"><h2 id="usage-h">Usage</h2>
        <div class="table-scroll"><table id="tag-table"><caption class="sr-only">Tags and how many insights use them</caption>
          <thead><tr><th scope="col">Tag</th><th scope="col">Slug</th><th scope="col" class="num">Insights</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>${byUsage.map((t) => html`<tr key=${t.id}>
            ${editing === t.id
              ? html`<td colspan="4"><${TagEditor} tag=${t} onDone=${done} onCancel=${() => setEditing(null)} /></td>`
              : html`<th scope="row"><${Swatch} color=${t.color} /> <a href=${listHref({ tags: String(t.id) })}>${t.name}</a></th>
                <td class="muted">${t.slug}</td><td class="num">${t.usage_count}</td>
                <td class="actions">${confirming === t.id
                  ? html`<span>Delete “${t.name}”?</span> <button type="button" class="danger" onClick=${() => remove(t)}>Delete</button>
                      <button type="button" class="secondary" onClick=${() => setConfirming(null)}>Keep</button>`
                  : html`<button type="button" class="secondary" aria-label=${`Edit ${t.name}`} onClick=${() => { setEditing(t.id); setRowError(null); }}>Edit</button>
                      <button type="button" class="secondary" aria-label=${`Delete ${t.name}`} onClick=${() => { setConfirming(t.id); setRowError(null); }}>Delete</button>`}
                  ${rowError && rowError.id === t.id && html`<p class="field-error" role="alert">${rowError.text}</p>`}</td>`}
          </tr>`)}</tbody></table></div>
      </section>
      <${NewTag} onDone=${done} />
    </div>`;
}

