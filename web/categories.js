// categories.js: the category tree (#/categories): the hierarchy with each
// category's colour, its own insight count and the count with its
// descendants; branches expand and collapse (disclosure buttons); a name
// opens the list filtered by that category. Categories are created,
// renamed, recoloured, moved and deleted here (the API's 409 messages shown
// as they come).
import { html, useState } from './preact-htm.js';

import { describe, getAll, request } from './api.js';
import { slugify } from './tags.js';
import {
  Failure, Loading, Title, categoryTree, flatten, listHref, plural, useLoad, validColor,
} from './util.js';

function ParentSelect({ id, value, onChange, flat, exclude }) {
  return html`<select id=${id} value=${value} onChange=${(e) => onChange(e.target.value)}>
    <option value="">(top level)</option>
    ${flat.filter((n) => !exclude || !exclude.has(n.cat.id)).map((n) => html`<option value=${n.cat.id}>${'\u00a0\u00a0'.repeat(n.depth)}${n.cat.name}</option>`)}
  </select>`;
}

function descendants(node) {
  const ids = new Set([node.cat.id]);
  const visit = (n) => { ids.add(n.cat.id); n.children.forEach(visit); };
  visit(node);
  return ids;
}

function Editor({ node, flat, onDone, onCancel }) {
  const c = node.cat;
  const [name, setName] = useState(c.name);
  const [slug, setSlug] = useState(c.slug);
  const [color, setColor] = useState(validColor(c.color) ? c.color : '#3b82f6');
  const [parent, setParent] = useState(c.parent_id ? String(c.parent_id) : '');
  const [error, setError] = useState(null);
  const save = async (e) => {
    e.preventDefault();
    try {
      await request('PUT', `/categories/${c.id}`, { name, slug, color, parent_id: parent ? Number(parent) : null });
      onDone(`Category “${name}” saved.`);
    } catch (err) { setError(describe(err)); }
  };
  const p = `cat-${c.id}`;
  return html`<form class="inline-form" onSubmit=${save} aria-label=${`Edit category ${c.name}`}>
    <label for=${`${p}-name`}>Name</label><input id=${`${p}-name`} value=${name} required maxlength="100" onInput=${(e) => setName(e.target.value)} />
    <label for=${`${p}-slug`}>Slug</label><input id=${`${p}-slug`} value=${slug} required maxlength="100" onInput=${(e) => setSlug(e.target.value)} />
    <label for=${`${p}-color`}>Colour</label><input id=${`${p}-color`} type="color" value=${color} onInput=${(e) => setColor(e.target.value)} />
    <label for=${`${p}-parent`}>Parent</label><${ParentSelect} id=${`${p}-parent`} value=${parent} onChange=${setParent} flat=${flat} exclude=${descendants(node)} />
    <button type="submit">Save</button> <button type="button" class="secondary" onClick=${onCancel}>Cancel</button>
    ${error && html`<p class="field-error" role="alert">${error}</p>`}
  </form>`;
}

function Node({ node, ui }) {
  const c = node.cat;
  const open = !ui.collapsed.has(c.id);
  const kids = node.children.length > 0;
  return html`<li class="tree-node" style=${{ '--cat': validColor(c.color) ? c.color : null }}>
    <div class="tree-row">
      ${kids
        ? html`<button type="button" class="toggle" aria-expanded=${open} aria-controls=${`children-${c.id}`}
            aria-label=${`${open ? 'Collapse' : 'Expand'} ${c.name}`} onClick=${() => ui.toggle(c.id)}>${open ? '▾' : '▸'}</button>`
        : html`<span class="toggle-space" aria-hidden="true"></span>`}
      <span class="swatch" aria-hidden="true"></span>
      <a href=${listHref({ category_id: c.id })} class="tree-link" data-category-id=${c.id}>${c.name}</a>
      <span class="counts" data-own=${c.insight_count} data-total=${node.total}>
        <span title="Insights in this category">${plural(c.insight_count, 'insight')}</span>
        ${kids && html`<span title="Including subcategories"> · ${node.total.toLocaleString('en')} with subcategories</span>`}</span>
      <span class="actions">${ui.confirming === c.id
        ? html`<span>Delete “${c.name}”?</span> <button type="button" class="danger" onClick=${() => ui.remove(c)}>Delete</button>
            <button type="button" class="secondary" onClick=${() => ui.setConfirming(null)}>Keep</button>`
        : html`<button type="button" class="secondary" aria-label=${`Edit ${c.name}`} onClick=${() => ui.edit(c.id)}>Edit</button>
            <button type="button" class="secondary" aria-label=${`Delete ${c.name}`} onClick=${() => ui.confirm(c.id)}>Delete</button>`}</span>
    </div>
    ${ui.rowError && ui.rowError.id === c.id && html`<p class="field-error" role="alert">${ui.rowError.text}</p>`}
    ${ui.editing === c.id && html`<${Editor} node=${node} flat=${ui.flat} onDone=${ui.done} onCancel=${() => ui.edit(null)} />`}
    ${kids && open && html`<ul id=${`children-${c.id}`} class="tree">${node.children.map((n) => html`<${Node} key=${n.cat.id} node=${n} ui=${ui} />`)}</ul>`}
  </li>`;
}

function NewCategory({ flat, onDone }) {
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const [slugEdited, setSlugEdited] = useState(false);
  const [color, setColor] = useState('#3b82f6');
  const [parent, setParent] = useState('');
  const [error, setError] = useState(null);
  const save = async (e) => {
    e.preventDefault();
    try {
      const c = await request('POST', '/categories', { name, slug: slug || slugify(name), color, parent_id: parent ? Number(parent) : null });
      setName(''); setSlug(''); setSlugEdited(false); setError(null);
      onDone(`Category “${c.name}” created.`);
    } catch (err) { setError(describe(err)); }
  };
  return html`<form class="panel stack" onSubmit=${save} aria-labelledby="newcat-h">
    <h2 id="newcat-h">New category</h2>
    <div class="field"><label for="newcat-name">Name</label>
      <input id="newcat-name" value=${name} required maxlength="100"
        onInput=${(e) => { setName(e.target.value); if (!slugEdited) setSlug(slugify(e.target.value)); }} /></div>
    <div class="field"><label for="newcat-slug">Slug</label>
      <input id="newcat-slug" value=${slug} required maxlength="100" onInput=${(e) => { setSlug(e.target.value); setSlugEdited(true); }} /></div>
    <div class="field"><label for="newcat-parent">Parent</label>
      <${ParentSelect} id="newcat-parent" value=${parent} onChange=${setParent} flat=${flat} /></div>
    <div class="field"><label for="newcat-color">Colour</label>
      <input id="newcat-color" type="color" value=${color} onInput=${(e) => setColor(e.target.value)} /></div>
    <div><button type="submit">Create category</button></div>
    ${error && html`<p class="field-error" role="alert" id="newcat-error">${error}</p>`}
  </form>`;
}

export function Categories() {
  const cats = useLoad(() => getAll('/categories'), []);
  const [collapsed, setCollapsed] = useState(new Set());
  const [editing, setEditing] = useState(null);
  const [confirming, setConfirming] = useState(null);
  const [rowError, setRowError] = useState(null);
  const [message, setMessage] = useState(null);
  if (cats.error) return html`<${Title}>Categories<//><${Failure} error=${cats.error} retry=${cats.reload} />`;
  if (!cats.data) return html`<${Title}>Categories<//><${Loading} what="categories" />`;
  const roots = categoryTree(cats.data);
  const flat = flatten(roots);
  const done = (msg) => { setEditing(null); setConfirming(null); setRowError(null); setMessage(msg); cats.reload(); };
  const ui = {
    collapsed, flat, editing, confirming, rowError, done, setConfirming,
    toggle: (id) => { const s = new Set(collapsed); if (s.has(id)) s.delete(id); else s.add(id); setCollapsed(s); },
    edit: (id) => { setEditing(id); setRowError(null); },
    confirm: (id) => { setConfirming(id); setRowError(null); },
    remove: async (c) => {
      try {
        await request('DELETE', `/categories/${c.id}`);
        done(`Category “${c.name}” deleted.`);
      } catch (err) { setConfirming(null); setRowError({ id: c.id, text: describe(err) }); }
    },
  };
  const withKids = flat.filter((n) => n.children.length).map((n) => n.cat.id);
  return html`
    <${Title}>Categories<//>
    <p class="muted">${plural(cats.data.length, 'category', 'categories')}. Choose a category to list its insights.</p>
    <div role="status" class="live">${message}</div>
    <div class="grid two">
      <section class="panel" aria-labelledby="tree-h">
        <div class="panel-head"><h2 id="tree-h">Hierarchy</h2>
          <div class="segmented" role="group" aria-label="Branches">
            <button type="button" onClick=${() => setCollapsed(new Set())}>Expand all</button>
            <button type="button" onClick=${() => setCollapsed(new Set(withKids))}>Collapse all</button>
          </div></div>
        ${roots.length ? html`<ul class="tree root" id="category-tree">${roots.map((n) => html`<${Node} key=${n.cat.id} node=${n} ui=${ui} />`)}</ul>`
          : html`<p class="muted">No categories yet.</p>`}
      </section>
      <${NewCategory} flat=${flat} onDone=${done} />
    </div>`;
}
