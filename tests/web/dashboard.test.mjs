// dashboard.test.mjs: the web dashboard in a real browser (Debian's
// Chromium, headless) against the real binary on a seeded SQLite database,
// run by node's test runner (`make test-web`). See harness.mjs.
//
// Every page records console errors, page errors, failed requests, HTTP
// errors, requests to other origins and dialogs; a test that expects an
// API refusal allows exactly that one. Nothing here is timed: waits are
// for what the page shows.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  Server, axeViolations, chartData, launch, openPage, shotPath, visit,
} from './harness.mjs';

const STATUSES = ['draft', 'published', 'archived'];
const PRIORITIES = ['low', 'medium', 'high', 'critical'];

// The XSS corpus: every user text the dashboard shows holds markup that
// would run if it were inserted as HTML.
const XSS = {
  tag: '<img src=x onerror=alert(1)>',
  tag2: '"><svg onload=alert(1)>',
  category: '<script>alert(1)</script><img src=x onerror=alert(1)>',
  title: '<script>window.__xss=1;alert(1)</script><img src=x onerror="window.__xss=1;alert(1)">"><svg onload=alert(1)>',
  description: '<img src=x onerror="window.__xss=1;alert(1)">',
  author: '"><svg onload="window.__xss=1">',
  source: 'javascript:alert(1)',
  content: [
    '## Context', '', '<script>window.__xss=1;alert(1)</script>', '',
    '<img src=x onerror="window.__xss=1;alert(1)">', '',
    '"><svg onload="window.__xss=1;alert(1)">', '',
    '[click](javascript:alert(1)) [mixed](JaVaScRiPt:alert(1)) [tab](java\tscript:alert(1))',
    '[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==) ![img](javascript:alert(1))',
    '<a href="javascript:alert(1)">raw link</a> <javascript:alert(1)> [fine](https://example.org/x)',
  ].join('\n'),
};

let server;
let browser;
const fixtures = {};

async function rowIds(page) {
  return page.$$eval('#insight-table tbody tr', (trs) => trs.map((t) => Number(t.dataset.id)));
}

// Waits until the list shows exactly `ids` (in order).
async function waitRows(page, ids) {
  try {
    await page.waitForFunction((want) => JSON.stringify([...document.querySelectorAll('#insight-table tbody tr')]
      .map((t) => Number(t.dataset.id))) === JSON.stringify(want), ids, { timeout: 20000 });
  } catch (e) {
    assert.deepEqual(await rowIds(page), ids, `the list shows other rows (at ${page.url()})`);
  }
}

function hashOf(page) { return new URL(page.url()).hash; }

async function waitHash(page, hash) {
  await page.waitForFunction((h) => location.hash === h, hash, { timeout: 20000 }).catch(() => {});
  assert.equal(hashOf(page), hash);
}

function assertClean(page) {
  assert.deepEqual(page.problems, [], 'the page reported problems');
  assert.deepEqual(page.dialogs, [], 'a dialog opened');
}

const ids = (page) => page.insights.map((i) => i.id);

describe('dashboard', () => {
  before(async () => {
    server = new Server();
    await server.start(240);
    // Fixtures: a small tree with its own insights, and the XSS corpus.
    const root = await server.api('POST', '/categories', { name: 'Fixture Root', slug: 'fixture-root', color: '#7c3aed' });
    const child = await server.api('POST', '/categories', { name: 'Fixture Child', slug: 'fixture-child', parent_id: root.id, color: '#0891b2' });
    const grandchild = await server.api('POST', '/categories', { name: 'Fixture Grandchild', slug: 'fixture-grandchild', parent_id: child.id });
    for (const [cat, n] of [[root, 2], [child, 3], [grandchild, 1]]) {
      for (let i = 0; i < n; i++) {
        await server.api('POST', '/insights', { title: `Fixture ${cat.slug} ${i}`, description: 'fixture', author: 'fixture-bot', category_id: cat.id, status: 'published' });
      }
    }
    Object.assign(fixtures, { root, child, grandchild });
    const t1 = await server.api('POST', '/tags', { name: XSS.tag, slug: 'xss-one', color: '#dc2626' });
    const t2 = await server.api('POST', '/tags', { name: XSS.tag2, slug: 'xss-two' });
    const xcat = await server.api('POST', '/categories', { name: XSS.category, slug: 'xss-cat', color: '#111111' });
    fixtures.xss = await server.api('POST', '/insights', {
      title: XSS.title, description: XSS.description, content: XSS.content, source: XSS.source, author: XSS.author,
      category_id: xcat.id, tag_ids: [t1.id, t2.id], status: 'published', priority: 'critical',
    });
    fixtures.xssTags = [t1, t2];
    fixtures.xssCategory = xcat;
    browser = await launch();
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  test('the overview shows the numbers of the API', async () => {
    const page = await openPage(browser, server);
    const stats = await server.get('/statistics');
    const me = page.waitForResponse((r) => new URL(r.url()).pathname === '/auth/me');
    await visit(page, server, '#/', '#chart-category');
    // Authentication off: /auth/me says anonymous, and nothing about signing in shows.
    assert.deepEqual(await (await me).json(), { name: 'anonymous', role: 'anonymous', authenticated: false });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
    assert.equal(await page.$('#account, dialog.signin, #signin-open, #signout'), null);
    assert.equal(await page.textContent('#total-insights'), stats.total_insights.toLocaleString('en'));
    await page.waitForFunction(() => window.Chart && window.Chart.getChart(document.getElementById('chart-status')));
    const status = await chartData(page, 'chart-status');
    assert.equal(status.type, 'pie');
    assert.deepEqual(status.labels, STATUSES);
    assert.deepEqual(status.datasets[0].data, STATUSES.map((s) => stats.insights_by_status[s]));
    const priority = await chartData(page, 'chart-priority');
    assert.equal(priority.type, 'bar');
    assert.deepEqual(priority.labels, PRIORITIES);
    assert.deepEqual(priority.datasets[0].data, PRIORITIES.map((p) => stats.insights_by_priority[p]));
    const category = await chartData(page, 'chart-category');
    const byCat = Object.fromEntries(category.labels.map((l, i) => [l, category.datasets[0].data[i]]));
    assert.deepEqual(byCat, stats.insights_by_category);
    assert.equal(await page.evaluate(() => window.Chart.getChart(document.getElementById('chart-category')).options.indexAxis), 'y');
    // Trends: 30 days, then 90.
    for (const days of [30, 90]) {
      if (days === 90) await page.click('button:has-text("90 days")');
      const trends = await server.get(`/statistics/trends?days=${days}`);
      await page.waitForFunction((n) => {
        const c = window.Chart.getChart(document.getElementById('chart-trends'));
        return c && c.data.labels.length === n;
      }, days);
      const t = await chartData(page, 'chart-trends');
      assert.equal(t.type, 'line');
      assert.deepEqual(t.datasets.map((d) => d.label), STATUSES);
      for (const s of STATUSES) assert.deepEqual(t.datasets.find((d) => d.label === s).data, trends.trends.map((d) => d[s]), s);
    }
    const authors = await server.get('/statistics/authors?limit=10');
    await page.waitForSelector('#top-authors');
    const shown = await page.$$eval('#top-authors tbody tr', (trs) => trs.map((tr) => [tr.cells[0].textContent, Number(tr.cells[1].textContent)]));
    assert.deepEqual(shown, authors.authors.map((a) => [a.author, a.insight_count]));
    const recent = await page.$$eval('#recent-insights a', (as) => as.map((a) => a.getAttribute('href')));
    assert.deepEqual(recent, stats.recent_insights.map((i) => `#/insights/${i.id}`));
    await page.waitForSelector('#health[data-state="ok"]');
    assertClean(page);
    await page.close();
  });

  test('the overview\'s first load transfers at most 300 KB', async () => {
    const page = await openPage(browser, server);
    await visit(page, server, '#/', '#chart-trends');
    await page.waitForSelector('ul.cloud');
    await page.waitForLoadState('networkidle');
    const sizes = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const res = performance.getEntriesByType('resource');
      return { total: nav.transferSize + res.reduce((s, r) => s + r.transferSize, 0), requests: res.length + 1,
        files: res.map((r) => [r.name.replace(location.origin, ''), r.transferSize, r.decodedBodySize]) };
    });
    console.log(`# first load of the overview: ${sizes.total} bytes transferred in ${sizes.requests} requests`);
    for (const [name, sent, decoded] of sizes.files) console.log(`#   ${name}: ${sent} bytes (${decoded} decoded)`);
    assert.ok(sizes.total > 0 && sizes.total <= 300 * 1024, `${sizes.total} bytes`);
    assertClean(page);
    await page.close();
  });

  test('list filters change the URL and the rows, and Back restores them', async () => {
    const page = await openPage(browser, server);
    await visit(page, server, '#/insights', '#insight-table');
    await waitRows(page, ids(await server.get('/insights?page=1&page_size=20')));
    await page.selectOption('#f-status', 'published');
    await waitHash(page, '#/insights?status=published');
    const published = await server.get('/insights?status=published&page_size=20');
    await waitRows(page, ids(published));
    assert.match(await page.textContent('#list-count'), new RegExp(`^${published.total.toLocaleString('en')} insights`));
    await page.selectOption('#f-priority', 'high');
    await waitHash(page, '#/insights?status=published&priority=high');
    const high = await server.get('/insights?status=published&priority=high&page_size=20');
    await waitRows(page, ids(high));
    // Ranked search on submit.
    const word = high.insights[0].title.split(/\s+/).find((w) => w.length > 4) || high.insights[0].title.split(/\s+/)[0];
    await page.fill('#f-q', word);
    await page.press('#f-q', 'Enter');
    await waitHash(page, `#/insights?q=${encodeURIComponent(word)}&status=published&priority=high`);
    const found = await server.api('POST', '/insights/search', { query: word, status: 'published', priority: 'high', page: 1, page_size: 20 });
    await waitRows(page, ids(found));
    // Back, Back: the filters and rows come back; Forward again.
    await page.goBack();
    await waitHash(page, '#/insights?status=published&priority=high');
    await waitRows(page, ids(high));
    assert.equal(await page.inputValue('#f-q'), '');
    assert.equal(await page.inputValue('#f-priority'), 'high');
    await page.goBack();
    await waitHash(page, '#/insights?status=published');
    await waitRows(page, ids(published));
    assert.equal(await page.inputValue('#f-priority'), '');
    await page.goForward();
    await waitHash(page, '#/insights?status=published&priority=high');
    await waitRows(page, ids(high));
    // Tags (AND, as the API), then the next page.
    await page.goto(`${server.url}/#/insights`);
    const tags = (await server.get('/tags?limit=100')).sort((a, b) => b.usage_count - a.usage_count);
    await page.click('.tagfilter summary');
    await page.check(`.tagfilter input[data-tag-id="${tags[0].id}"]`);
    await waitHash(page, `#/insights?tags=${tags[0].id}`);
    const tagged = await server.api('POST', '/insights/search', { tag_ids: [tags[0].id], page: 1, page_size: 20 });
    await waitRows(page, ids(tagged));
    await page.click('a[rel="next"]');
    await waitHash(page, `#/insights?tags=${tags[0].id}&page=2`);
    const tagged2 = await server.api('POST', '/insights/search', { tag_ids: [tags[0].id], page: 2, page_size: 20 });
    await waitRows(page, ids(tagged2));
    // A link with every parameter, as another tool would write it.
    const all = `#/insights?q=&status=draft&priority=&category_id=${fixtures.root.id}&tags=&author=fixture&page=1&page_size=10`;
    await page.goto(`${server.url}/${all}`);
    await page.waitForSelector('#list-empty, #insight-table');
    const none = await server.get(`/insights?status=draft&category_id=${fixtures.root.id}&author=fixture&page_size=10`);
    assert.equal(none.total, 0);
    assert.match(await page.textContent('#list-empty'), /No insight matches these filters/);
    assertClean(page);
    await page.close();
  });

  test('the category tree shows own and descendant counts and leads to the filtered list', async () => {
    const page = await openPage(browser, server);
    await visit(page, server, '#/categories', '#category-tree');
    const cats = await server.get('/categories?limit=100');
    const total = (id) => cats.filter((c) => c.id === id)[0].insight_count
      + cats.filter((c) => c.parent_id === id).reduce((s, c) => s + total(c.id), 0);
    for (const c of cats) {
      const counts = await page.$eval(`a[data-category-id="${c.id}"] ~ .counts`, (el) => [Number(el.dataset.own), Number(el.dataset.total)]);
      assert.deepEqual(counts, [c.insight_count, total(c.id)], c.name);
    }
    assert.deepEqual([fixtures.root, fixtures.child, fixtures.grandchild].map((c) => total(c.id)), [6, 4, 1]);
    // Collapse and expand a branch.
    const toggle = `button[aria-controls="children-${fixtures.root.id}"]`;
    await page.click(toggle);
    assert.equal(await page.getAttribute(toggle, 'aria-expanded'), 'false');
    assert.equal(await page.$(`a[data-category-id="${fixtures.child.id}"]`), null);
    await page.click(toggle);
    assert.equal(await page.getAttribute(toggle, 'aria-expanded'), 'true');
    // A click opens the list filtered by the category.
    await page.click(`a[data-category-id="${fixtures.child.id}"]`);
    await waitHash(page, `#/insights?category_id=${fixtures.child.id}`);
    await waitRows(page, ids(await server.get(`/insights?category_id=${fixtures.child.id}&page_size=20`)));
    assert.equal(await page.inputValue('#f-category'), String(fixtures.child.id));
    assertClean(page);
    await page.close();
  });

  test('the tag cloud sizes tags by usage and leads to the filtered list', async () => {
    const page = await openPage(browser, server);
    await visit(page, server, '#/tags', '#tag-table');
    const tags = await server.get('/tags?limit=100');
    const sizes = await page.$$eval('a.cloud-tag', (as) => as.map((a) => [Number(a.dataset.tagId), parseFloat(getComputedStyle(a).fontSize)]));
    assert.equal(sizes.length, tags.length);
    const usage = Object.fromEntries(tags.map((t) => [t.id, t.usage_count]));
    for (const [a, sa] of sizes) for (const [b, sb] of sizes) if (usage[a] > usage[b]) assert.ok(sa > sb, `tag ${a} (${usage[a]}) is not larger than ${b} (${usage[b]})`);
    const table = await page.$$eval('#tag-table tbody tr', (trs) => trs.map((tr) => Number(tr.cells[2].textContent)));
    assert.deepEqual(table, tags.map((t) => t.usage_count).sort((a, b) => b - a));
    const busiest = tags.reduce((a, b) => (b.usage_count > a.usage_count ? b : a));
    await page.click(`a.cloud-tag[data-tag-id="${busiest.id}"]`);
    await waitHash(page, `#/insights?tags=${busiest.id}`);
    await waitRows(page, ids(await server.api('POST', '/insights/search', { tag_ids: [busiest.id], page: 1, page_size: 20 })));
    assertClean(page);
    await page.close();
  });

  test('create, edit and delete an insight through the form', async () => {
    const page = await openPage(browser, server);
    await visit(page, server, '#/new', '#in-title');
    const content = await page.inputValue('#in-content');
    for (const section of ['Context', 'Insight', 'Impact', 'Action Items', 'References', 'Related']) {
      assert.match(content, new RegExp(`^## ${section}$`, 'm'), section);
    }
    await page.waitForSelector('#preview h2');
    // Nothing filled in: the API's 422 problems appear next to their fields.
    page.allow(/HTTP 422: POST .*\/insights$/);
    page.allow(/status of 422/);
    await page.click('button[type="submit"]');
    await page.waitForSelector('#err-title');
    assert.match(await page.textContent('#err-title'), /String should have at least 1 character/);
    assert.match(await page.textContent('#err-author'), /Field required|at least 1 character/);
    assert.equal(await page.getAttribute('#in-title', 'aria-invalid'), 'true');
    assert.match(await page.getAttribute('#in-title', 'aria-describedby'), /err-title/);
    // Fill it in; the preview follows the content.
    const tags = await server.get('/tags?limit=3');
    await page.fill('#in-title', 'Round trip through the form');
    await page.fill('#in-description', 'Created by the browser test');
    await page.fill('#in-author', 'browser-test');
    await page.fill('#in-source', 'tests/web');
    await page.fill('#in-content', '## Context\n\nHello **world**');
    await page.waitForSelector('#preview strong:has-text("world")');
    await page.selectOption('#in-category_id', String(fixtures.child.id));
    await page.selectOption('#in-priority', 'high');
    for (const t of tags.slice(0, 2)) await page.check(`.tagpick input[data-tag-id="${t.id}"]`);
    await page.click('button[type="submit"]');
    await page.waitForFunction(() => /^#\/insights\/\d+$/.test(location.hash));
    const id = Number(hashOf(page).split('/')[2]);
    await page.waitForSelector('#content');
    assert.equal(await page.textContent('h1'), 'Round trip through the form');
    assert.equal(await page.innerHTML('#content strong'), 'world');
    let ins = await server.get(`/insights/${id}`);
    assert.deepEqual([ins.title, ins.author, ins.source, ins.category_id, ins.priority, ins.status, ins.tags.map((t) => t.id)],
      ['Round trip through the form', 'browser-test', 'tests/web', fixtures.child.id, 'high', 'draft', tags.slice(0, 2).map((t) => t.id).sort((a, b) => a - b)]);
    // Edit.
    await page.click('a:has-text("Edit")');
    await waitHash(page, `#/insights/${id}/edit`);
    await page.waitForSelector('#in-title');
    assert.equal(await page.inputValue('#in-title'), 'Round trip through the form');
    assert.equal(await page.inputValue('#in-category_id'), String(fixtures.child.id));
    await page.fill('#in-title', 'Round trip, edited');
    await page.selectOption('#in-status', 'published');
    await page.uncheck(`.tagpick input[data-tag-id="${tags[0].id}"]`);
    await page.click('button[type="submit"]');
    await waitHash(page, `#/insights/${id}`);
    await page.waitForSelector('h1:has-text("Round trip, edited")');
    assert.equal(await page.textContent('.badges .status-published'), 'published');
    ins = await server.get(`/insights/${id}`);
    assert.equal(ins.title, 'Round trip, edited');
    assert.equal(ins.status, 'published');
    assert.ok(ins.published_at);
    assert.deepEqual(ins.tags.map((t) => t.id), [tags[1].id]);
    // Delete, with a confirmation.
    await page.click('.detail-head button:has-text("Delete")');
    await page.click('.detail-head button.danger');
    await waitHash(page, '#/insights');
    await assert.rejects(server.get(`/insights/${id}`), /404/);
    assertClean(page);
    await page.close();
  });

  test('tags and categories are created, renamed, recoloured and deleted; 409s are shown as the API words them', async () => {
    const page = await openPage(browser, server);
    page.allow(/status of 409/);
    page.allow(/HTTP 409: (POST|DELETE) /);
    await visit(page, server, '#/tags', '#tag-table');
    await page.fill('#newtag-name', 'Browser Made');
    assert.equal(await page.inputValue('#newtag-slug'), 'browser-made');
    await page.click('button:has-text("Create tag")');
    await page.waitForSelector('#tag-table a:has-text("Browser Made")');
    const made = (await server.get('/tags?limit=100')).find((t) => t.name === 'Browser Made');
    assert.ok(made);
    // The same name again: the API's own words.
    await page.fill('#newtag-name', 'Browser Made');
    await page.click('button:has-text("Create tag")');
    await page.waitForSelector('#newtag-error');
    let detail;
    try { await server.api('POST', '/tags', { name: 'Browser Made', slug: 'other-slug' }); } catch (e) { detail = JSON.parse(e.message.split(' 409 ')[1]).detail; }
    assert.equal(await page.textContent('#newtag-error'), detail);
    // Rename and recolour.
    await page.click('button[aria-label="Edit Browser Made"]');
    await page.fill(`#tag-${made.id}-name`, 'Browser Renamed');
    await page.fill(`#tag-${made.id}-color`, '#10b981');
    await page.click(`form[aria-label="Edit tag Browser Made"] button[type="submit"]`);
    await page.waitForSelector('#tag-table a:has-text("Browser Renamed")');
    const renamed = await server.get(`/tags/${made.id}`);
    assert.deepEqual([renamed.name, renamed.color.toLowerCase()], ['Browser Renamed', '#10b981']);
    await page.click('button[aria-label="Delete Browser Renamed"]');
    await page.click('#tag-table button.danger');
    await page.waitForSelector('#tag-table a:has-text("Browser Renamed")', { state: 'detached' });
    await assert.rejects(server.get(`/tags/${made.id}`), /404/);

    // Categories: deleting one in use shows the API's 409 as it is.
    await page.goto(`${server.url}/#/categories`);
    await page.waitForSelector('#category-tree');
    await page.click(`button[aria-label="Delete ${fixtures.child.name}"]`);
    await page.click('#category-tree button.danger');
    const alert = await page.waitForSelector('#category-tree .field-error');
    try { await server.api('DELETE', `/categories/${fixtures.child.id}`); } catch (e) { detail = JSON.parse(e.message.split(' 409 ')[1]).detail; }
    assert.equal(await alert.textContent(), detail);
    await page.fill('#newcat-name', 'Browser Category');
    await page.selectOption('#newcat-parent', String(fixtures.root.id));
    await page.click('button:has-text("Create category")');
    const link = await page.waitForSelector('#category-tree a:has-text("Browser Category")');
    const catId = Number(await link.getAttribute('data-category-id'));
    assert.equal((await server.get(`/categories/${catId}`)).parent_id, fixtures.root.id);
    await page.click('button[aria-label="Edit Browser Category"]');
    await page.fill(`#cat-${catId}-name`, 'Browser Category 2');
    await page.fill(`#cat-${catId}-color`, '#ef4444');
    await page.click(`form[aria-label="Edit category Browser Category"] button[type="submit"]`);
    await page.waitForSelector('#category-tree a:has-text("Browser Category 2")');
    const cat = await server.get(`/categories/${catId}`);
    assert.deepEqual([cat.name, cat.color.toLowerCase()], ['Browser Category 2', '#ef4444']);
    await page.click('button[aria-label="Delete Browser Category 2"]');
    await page.click('#category-tree button.danger');
    await page.waitForSelector('#category-tree a:has-text("Browser Category 2")', { state: 'detached' });
    assertClean(page);
    await page.close();
  });

  test('the XSS corpus renders inert in every view', async () => {
    const page = await openPage(browser, server);
    const x = fixtures.xss;
    const views = [
      ['#/', '#recent-insights'], ['#/insights', '#insight-table'], [`#/insights/${x.id}`, '#related-section[data-loaded="true"]'],
      ['#/tags', '#tag-table'], ['#/categories', '#category-tree'], [`#/insights/${x.id}/edit`, '#preview'],
      [`#/insights?author=${encodeURIComponent(XSS.author)}`, '#insight-table'],
    ];
    for (const [hash, ready] of views) {
      await visit(page, server, hash, ready);
      if (hash.endsWith('/edit')) await page.waitForSelector('#preview h2');
      const found = await page.evaluate(() => ({
        flag: window.__xss,
        scripts: [...document.querySelectorAll('script')].map((s) => s.getAttribute('src')),
        handlers: [...document.querySelectorAll('*')].filter((el) => [...el.attributes].some((a) => /^on/i.test(a.name))).map((el) => el.outerHTML.slice(0, 120)),
        svg: document.querySelectorAll('svg').length,
        links: [...document.querySelectorAll('a[href], img[src]')].map((a) => a.getAttribute('href') ?? a.getAttribute('src'))
          .filter((h) => /^\s*(javascript|data|vbscript):/i.test(h)),
      }));
      assert.equal(found.flag, undefined, `${hash}: a script ran`);
      assert.deepEqual(found.scripts, ['/web/chart.umd.min.js', '/web/app.js'], `${hash}: scripts`);
      assert.deepEqual(found.handlers, [], `${hash}: event handler attributes`);
      assert.equal(found.svg, 0, `${hash}: an <svg> element was made from text`);
      assert.deepEqual(found.links, [], `${hash}: unsafe addresses`);
    }
    // The text is shown as text.
    await visit(page, server, `#/insights/${x.id}`, '#content');
    assert.equal(await page.textContent('h1'), XSS.title);
    assert.equal(await page.textContent('.lead'), XSS.description);
    assert.ok((await page.textContent('.badges')).includes(XSS.tag));
    assert.ok((await page.textContent('.meta-list')).includes(XSS.source));
    const hrefs = await page.$$eval('#content a', (as) => as.map((a) => [a.textContent, a.getAttribute('href')]));
    assert.deepEqual(hrefs.filter(([, h]) => h !== ''), [['fine', 'https://example.org/x']]);
    assertClean(page);
    await page.close();
  });

  test('a 401 from the API leads to a sign-in prompt, and the token is sent afterwards', async () => {
    const page = await openPage(browser, server);
    page.allow(/status of 401/);
    page.allow(/HTTP 401: /);
    const seen = [];
    await page.route(`${server.url}/statistics`, async (route) => {
      const auth = route.request().headers().authorization;
      seen.push(auth || null);
      if (auth !== 'Bearer secret-token') {
        return route.fulfill({ status: 401, contentType: 'application/json', headers: { 'WWW-Authenticate': 'Bearer' }, body: '{"detail": "Not authenticated"}' });
      }
      return route.continue();
    });
    await visit(page, server, '#/', '#signin-token');
    await page.fill('#signin-token', 'secret-token');
    await page.click('.signin button[type="submit"]');
    await page.waitForSelector('#total-insights');
    assert.equal(seen[0], null);
    assert.equal(seen[seen.length - 1], 'Bearer secret-token');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('insights.token')), 'secret-token');
    assertClean(page);
    await page.close();
  });

  test('polling: /health every 30 s, /statistics every 60 s, paused while the tab is hidden', async () => {
    // The page's clock is Playwright's: time moves only when the test says.
    const page = await openPage(browser, server);
    await page.clock.install();
    const calls = { health: 0, statistics: 0 };
    const path = (r) => new URL(r.url()).pathname;
    page.on('request', (r) => { if (path(r) === '/health') calls.health++; if (path(r) === '/statistics') calls.statistics++; });
    const answered = (p) => page.waitForResponse((r) => path(r) === p);
    // Moves the clock by `ms` and waits for the answers the page must ask for.
    const advance = async (ms, expect) => {
      const waits = expect.map(answered);
      await page.clock.runFor(ms);
      await Promise.all(waits);
      await page.evaluate(() => 0); // any request the timers made is reported by now
    };
    await visit(page, server, '#/', '#total-insights');
    await page.waitForSelector('#health[data-state="ok"]');
    assert.deepEqual(calls, { health: 1, statistics: 1 });
    await advance(30000, ['/health']);
    assert.deepEqual(calls, { health: 2, statistics: 1 });
    await advance(30000, ['/health', '/statistics']);
    assert.deepEqual(calls, { health: 3, statistics: 2 });
    // Hidden: nothing for five minutes; visible again: both at once.
    const setHidden = (hidden) => page.evaluate((h) => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
      document.dispatchEvent(new Event('visibilitychange'));
    }, hidden);
    await setHidden(true);
    await advance(300000, []);
    assert.deepEqual(calls, { health: 3, statistics: 2 });
    const back = [answered('/health'), answered('/statistics')];
    await setHidden(false);
    await Promise.all(back);
    assert.deepEqual(calls, { health: 4, statistics: 3 });
    await advance(30000, ['/health']);
    assert.deepEqual(calls, { health: 5, statistics: 3 });
    assertClean(page);
    await page.close();
  });

  test('unknown addresses and missing insights are explained in words', async () => {
    const page = await openPage(browser, server);
    page.allow(/status of 404/);
    page.allow(/HTTP 404: GET .*\/insights\/99999999/);
    await visit(page, server, '#/nowhere', 'h1');
    assert.equal(await page.textContent('h1'), 'Page not found');
    await visit(page, server, '#/insights/99999999', '.notice');
    assert.match(await page.textContent('.notice'), /There is no insight 99999999/);
    assertClean(page);
    await page.close();
  });

  test('keyboard: the skip link, then the navigation', async () => {
    const page = await openPage(browser, server);
    await visit(page, server, '#/tags', '#tag-table');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
    await page.focus('a.brand');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('href')), '#/insights');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#insight-table');
    assert.equal(hashOf(page), '#/insights');
    assertClean(page);
    await page.close();
  });

  const VIEWS = [
    ['overview', '#/', '#chart-trends'], ['list', '#/insights', '#insight-table'],
    ['detail', null, '#related-section[data-loaded="true"]'], ['categories', '#/categories', '#category-tree'],
    ['tags', '#/tags', '#tag-table'], ['new', '#/new', '#preview h2'], ['edit', null, '#preview h2'],
  ];
  for (const scheme of ['light', 'dark']) {
    for (const width of [1280, 375]) {
      test(`every view passes axe-core (no serious or critical violation) at ${width} px, ${scheme}; screenshots`, async () => {
        const page = await openPage(browser, server, { width, scheme });
        const detailId = (await server.get('/insights?page_size=1')).insights[0].id;
        const problems = [];
        for (const [name, hash, ready] of VIEWS) {
          const h = hash || (name === 'detail' ? `#/insights/${detailId}` : `#/insights/${detailId}/edit`);
          await visit(page, server, h, ready);
          if (name === 'overview') await page.waitForSelector('#top-authors');
          await page.screenshot({ path: shotPath(`${name}-${width}-${scheme}`), fullPage: false });
          for (const v of await axeViolations(page)) problems.push(`${name}: ${v}`);
          // Every form control has a visible label (a placeholder is not one).
          const unlabelled = await page.$$eval('input, select, textarea', (els) => els
            .filter((el) => el.type !== 'hidden' && el.offsetParent !== null)
            .filter((el) => ![...(el.labels || [])].some((l) => l.textContent.trim() && l.getClientRects().length && !l.closest('.sr-only')))
            .map((el) => el.id || el.outerHTML.slice(0, 80)));
          for (const u of unlabelled) problems.push(`${name}: no visible label for ${u}`);
        }
        assert.deepEqual(problems, []);
        assertClean(page);
        await page.close();
      });
    }
  }
});
