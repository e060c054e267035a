// form.js: capture (#/new) and edit (#/insights/{id}/edit). A new insight
// starts from the specification's content template; the preview shows the
// content as the server renders it (POST /render, the same safe renderer as
// the detail view), refreshed as one types. 422 problems are shown next to
// their fields; any other refusal above the form, in the API's words (a
// 403 in the role's: "Your role (reader) cannot do this.").
import { html, useEffect, useRef, useState } from './preact-htm.js';

import {
  describe, get, getAll, getIdentity, problemsByField, request, similar,
} from './api.js';
import {
  Failure, Loading, PRIORITIES, STATUSES, Title, categoryTree, flatten, useLoad,
} from './util.js';

export const TEMPLATE = `## Context

What was the situation or problem?

## Insight

What did we learn or discover?

## Impact

What was the result or benefit?

## Action Items

- Specific actions taken or recommended

## References

- Links to related documentation, incidents, PRs

## Related

- Links to related insights
`;

function Problems({ id, list }) {
  return list && list.length ? html`<p class="field-error" id=${id}>${list.join(' ')}</p>` : null;
}

function Field({ name, label, problems, hint, children }) {
  return html`<div class=${`field${problems[name] ? ' invalid' : ''}`}>
    <label for=${`in-${name}`}>${label}</label>${hint && html`<span class="hint" id=${`hint-${name}`}>${hint}</span>`}
    ${children}
    <${Problems} id=${`err-${name}`} list=${problems[name]} />
  </div>`;
}

// Attributes that tie a control to its problems for assistive technology.
const aria = (name, problems, hint) => ({
  'aria-invalid': problems[name] ? 'true' : undefined,
  'aria-describedby': [hint ? `hint-${name}` : '', problems[name] ? `err-${name}` : ''].filter(Boolean).join(' ') || undefined,
});

function Preview({ content }) {
  const [out, setOut] = useState({ html: '', error: null });
  const seq = useRef(0);
  useEffect(() => {
    const mine = ++seq.current;
    const timer = setTimeout(() => {
      request('POST', '/render', { content }).then(
        (r) => { if (mine === seq.current) setOut({ html: r.html, error: null }); },
        (err) => { if (mine === seq.current) setOut({ html: '', error: describe(err) }); });
    }, 250);
    return () => clearTimeout(timer);
  }, [content]);
  return html`<section class="panel preview" aria-labelledby="preview-h"><h2 id="preview-h">Preview</h2>
    ${out.error ? html`<p class="field-error">${out.error}</p>`
      : html`<div class="markdown" id="preview" aria-live="polite" dangerouslySetInnerHTML=${{ __html: out.html }}></div>`}
  </section>`;
}

// Possible duplicates of the draft: asked 300 ms after the title stops changing.
function Similar({ title, description }) {
  const [items, setItems] = useState([]);
  const seq = useRef(0);
  const words = title.trim().split(/\s+/).filter(Boolean).length;
  useEffect(() => {
    const mine = ++seq.current;
    if (words < 3) { setItems([]); return undefined; }
    const timer = setTimeout(() => {
      similar({ title, description }).then(
        (list) => { if (mine === seq.current) setItems(list); },
        () => { if (mine === seq.current) setItems([]); });
    }, 300);
    return () => clearTimeout(timer);
  }, [title]);
  if (!items.length) return null;
  return html`<aside class="similar" id="similar" aria-live="polite" aria-label="Possible duplicates">
    <p class="similar-h">Already captured? Insights like this one:</p>
    <ul>${items.map((m) => html`<li>
      <a href=${`#/insights/${m.insight.id}`}>${m.insight.title}</a>
      <span class="score" title=${m.reasons.join('; ')}>${Math.round(m.score * 100)}%</span>
    </li>`)}</ul>
  </aside>`;
}

function Editor({ initial, id, cats, tags }) {
  const [v, setV] = useState(initial);
  const [problems, setProblems] = useState({});
  const [error, setError] = useState(null);
  const [saving, setSaving] = useState(false);
  const set = (k) => (e) => setV({ ...v, [k]: e.target.value });
  const chosen = new Set(v.tag_ids);
  const flat = flatten(categoryTree(cats));
  const save = async (e) => {
    e.preventDefault();
    setSaving(true);
    const body = {
      title: v.title, description: v.description, content: v.content || null, source: v.source || null,
      author: v.author, category_id: v.category_id ? Number(v.category_id) : null,
      priority: v.priority, status: v.status, tag_ids: v.tag_ids,
    };
    try {
      const saved = await request(id ? 'PUT' : 'POST', id ? `/insights/${id}` : '/insights', body);
      location.hash = `#/insights/${saved.id}`;
    } catch (err) {
      setSaving(false);
      const byField = problemsByField(err);
      setProblems(byField);
      setError(Object.keys(byField).length ? 'Some fields need attention.'
        : err.status === 403 ? `${describe(err)} Saving needs an editor or admin token.` : describe(err));
      const first = Object.keys(byField).find((k) => document.getElementById(`in-${k}`));
      if (first) document.getElementById(`in-${first}`).focus();
    }
  };
  return html`<form class="insight-form" onSubmit=${save} noValidate aria-label=${id ? 'Edit insight' : 'New insight'}>
    ${error && html`<div class="notice error" role="alert" id="form-error"><p>${error}</p>
      ${problems._ && html`<p>${problems._.join(' ')}</p>`}</div>`}
    <div class="grid form-grid">
      <div class="stack">
        <${Field} name="title" label="Title" problems=${problems}>
          <input id="in-title" value=${v.title} onInput=${set('title')} maxlength="500" required ...${aria('title', problems)} /><//>
        ${!id && html`<${Similar} title=${v.title} description=${v.description} />`}
        <${Field} name="description" label="Description" problems=${problems} hint="One sentence that sums it up.">
          <textarea id="in-description" rows="2" value=${v.description} onInput=${set('description')} ...${aria('description', problems, true)}></textarea><//>
        <${Field} name="content" label="Content (Markdown)" problems=${problems}>
          <textarea id="in-content" class="mono" rows="18" value=${v.content} onInput=${set('content')} ...${aria('content', problems)}></textarea><//>
        <div class="row">
          <${Field} name="author" label="Author" problems=${problems}>
            <input id="in-author" value=${v.author} onInput=${set('author')} maxlength="255" required ...${aria('author', problems)} /><//>
          <${Field} name="source" label="Source" problems=${problems}>
            <input id="in-source" value=${v.source} onInput=${set('source')} maxlength="255" ...${aria('source', problems)} /><//>
        </div>
        <div class="row">
          <${Field} name="category_id" label="Category" problems=${problems}>
            <select id="in-category_id" value=${v.category_id} onChange=${set('category_id')} ...${aria('category_id', problems)}>
              <option value="">Uncategorized</option>
              ${flat.map((n) => html`<option value=${String(n.cat.id)}>${'\u00a0\u00a0'.repeat(n.depth)}${n.cat.name}</option>`)}
            </select><//>
          <${Field} name="priority" label="Priority" problems=${problems}>
            <select id="in-priority" value=${v.priority} onChange=${set('priority')} ...${aria('priority', problems)}>
              ${PRIORITIES.map((p) => html`<option value=${p}>${p}</option>`)}</select><//>
          <${Field} name="status" label="Status" problems=${problems}>
            <select id="in-status" value=${v.status} onChange=${set('status')} ...${aria('status', problems)}>
              ${STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}</select><//>
        </div>
        <fieldset class=${`tagpick${problems.tag_ids ? ' invalid' : ''}`}><legend>Tags</legend>
          ${tags.length === 0 ? html`<p class="muted">No tags yet: <a href="#/tags">create some</a>.</p>`
            : html`<div class="checks">${tags.map((t) => html`<label class="check">
              <input type="checkbox" checked=${chosen.has(t.id)} data-tag-id=${t.id} onChange=${(e) => {
                const next = new Set(chosen);
                if (e.target.checked) next.add(t.id); else next.delete(t.id);
                setV({ ...v, tag_ids: [...next].sort((a, b) => a - b) });
              }} /> ${t.name}</label>`)}</div>`}
          <${Problems} id="err-tag_ids" list=${problems.tag_ids} />
        </fieldset>
        <div class="actions">
          <button type="submit" disabled=${saving}>${id ? 'Save changes' : 'Create insight'}</button>
          <a class="button secondary" href=${id ? `#/insights/${id}` : '#/'}>Cancel</a>
        </div>
      </div>
      <${Preview} content=${v.content} />
    </div>
  </form>`;
}

export function Form({ id }) {
  const data = useLoad(async () => {
    const [cats, tags, ins] = await Promise.all([getAll('/categories'), getAll('/tags'),
      id ? get(`/insights/${id}`) : Promise.resolve(null)]);
    return { cats, tags: tags.sort((a, b) => a.name.localeCompare(b.name)), ins };
  }, [id]);
  const title = id ? 'Edit insight' : 'New insight';
  if (data.error) return html`<${Title}>${title}<//><${Failure} error=${data.error} retry=${data.reload} />`;
  if (!data.data) return html`<${Title}>${title}<//><${Loading} what="the form" />`;
  const { cats, tags, ins } = data.data;
  const initial = ins ? {
    title: ins.title, description: ins.description, content: ins.content || '', source: ins.source || '',
    author: ins.author, category_id: ins.category_id ? String(ins.category_id) : '', priority: ins.priority,
    status: ins.status, tag_ids: ins.tags.map((t) => t.id),
  } : {
    title: '', description: '', content: TEMPLATE, source: '', author: '', category_id: '',
    priority: 'medium', status: 'draft', tag_ids: [],
  };
  // A role that may read but not write (known from GET /auth/me): said
  // before the user types, not only when the server refuses the save.
  const me = getIdentity();
  const readOnly = me && me.authenticated && !['editor', 'admin'].includes(me.role);
  return html`<${Title}>${title}<//>
    ${readOnly && html`<div class="notice" id="form-readonly"><p>You are signed in as <strong>${me.name}</strong> with the role
      ${' '}<strong>${me.role}</strong>: you can fill in and preview this form, but saving needs an editor or admin token.</p></div>`}
    <${Editor} key=${id || 'new'} initial=${initial} id=${id} cats=${cats} tags=${tags} />`;
}
