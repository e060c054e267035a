// auth.test.mjs: the dashboard and GraphiQL against a server started with
// `--auth on` (issue 13), on a fresh SQLite file whose tokens were made
// with the CLI before the server started (an editor and a reader). The
// pages ask for a token when the API answers 401, keep it in the tab's
// session storage, say who is signed in, explain a 403 in the role's words
// and sign out. Every page records its problems (harness.mjs): the only
// ones allowed are the 401s and 403s a test expects.
// Screenshots go to WEB_SHOTS (signin-*.png, graphiql-signin-*.png).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  Server, axeViolations, launch, openPage, shotPath, visit,
} from './harness.mjs';

let server;
let browser;

const TOKEN_KEY = 'insights.token';
const storedToken = (page) => page.evaluate((k) => sessionStorage.getItem(k), TOKEN_KEY);
const focusedId = (page) => page.evaluate(() => document.activeElement && document.activeElement.id);

function assertClean(page) {
  assert.deepEqual(page.problems, [], 'the page reported problems');
  assert.deepEqual(page.dialogs, [], 'a dialog opened');
}

// The 401s a page shows before its user signs in.
function allow401(page) {
  page.allow(/status of 401/);
  page.allow(/HTTP 401: /);
}

// Signs in through the dashboard's prompt (which must be open).
async function signIn(page, token) {
  await page.fill('#signin-token', token);
  await page.click('dialog.signin button[type="submit"]');
  await page.waitForSelector('dialog.signin', { state: 'detached' });
}

// Replaces GraphiQL's query and waits until GraphiQL has taken it in (its
// tab state holds it, with no stale operation name) before it is run.
async function setQuery(page, query) {
  await page.evaluate((q) => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(q), query);
  await page.waitForFunction((q) => {
    const t = JSON.parse(localStorage.getItem('graphiql:tabState') || 'null');
    return t && t.tabs[t.activeTabIndex].query === q && !t.tabs[t.activeTabIndex].operationName;
  }, query);
}

describe('authentication on', () => {
  before(async () => {
    server = new Server();
    await server.start(60, { args: ['--auth', 'on'], tokens: { 'web-editor': 'editor', 'web-reader': 'reader' } });
    for (const t of Object.values(server.tokens)) assert.match(t, /^ins_.{49}$/);
    server.bearer = server.tokens['web-editor'];
    browser = await launch();
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  test('the API refuses a call without a token, and /auth/me names the token', async () => {
    const r = await fetch(`${server.url}/statistics`);
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer');
    assert.deepEqual(await r.json(), { detail: 'Not authenticated' });
    assert.deepEqual(await server.get('/auth/me'), { name: 'web-editor', role: 'editor', authenticated: true });
  });

  test('the overview asks for a token; a wrong one is refused; the editor\'s signs in, survives a reload, not a new context; Sign out', async () => {
    const page = await openPage(browser, server);
    allow401(page);
    await visit(page, server, '#/', '#signin-token');
    // A modal dialog, its field focused and of the password type.
    assert.equal(await page.$eval('dialog.signin', (d) => d.open && d.matches(':modal')), true);
    assert.equal(await focusedId(page), 'signin-token');
    assert.equal(await page.getAttribute('#signin-token', 'type'), 'password');
    assert.equal(await page.textContent('label[for="signin-token"]'), 'API token');
    assert.deepEqual(await axeViolations(page), []);

    // A wrong token: the reason under the field, the dialog still open, focus back in the field.
    await page.fill('#signin-token', `ins_${'x'.repeat(49)}`);
    await page.click('dialog.signin button[type="submit"]');
    await page.waitForSelector('#signin-error');
    assert.match(await page.textContent('#signin-error'), /This token was refused/);
    assert.equal(await page.getAttribute('#signin-token', 'aria-invalid'), 'true');
    assert.equal(await focusedId(page), 'signin-token');
    assert.equal(await storedToken(page), null);
    assert.deepEqual(await axeViolations(page), []);

    // The editor's token: the view is loaded again and shows the API's numbers.
    await signIn(page, server.tokens['web-editor']);
    const stats = await server.get('/statistics');
    await page.waitForSelector('#total-insights');
    assert.equal(await page.textContent('#total-insights'), stats.total_insights.toLocaleString('en'));
    assert.equal(await page.textContent('#who-name'), 'web-editor');
    assert.equal(await page.textContent('#who-role'), 'editor');
    assert.equal(await storedToken(page), server.tokens['web-editor']);

    // A reload keeps the session (the tab's session storage) ...
    await page.reload();
    await page.waitForSelector('#total-insights');
    await page.waitForSelector('#who-name');
    assert.equal(await page.textContent('#who-name'), 'web-editor');
    assert.equal(await page.$('dialog.signin'), null);

    // ... a new browser context does not.
    const other = await openPage(browser, server);
    allow401(other);
    await visit(other, server, '#/', '#signin-token');
    assert.equal(await storedToken(other), null);
    assertClean(other);
    await other.close();

    // Sign out: the token is gone and the view asks again.
    await page.click('#signout');
    await page.waitForSelector('#signin-token');
    assert.equal(await storedToken(page), null);
    assert.equal(await page.$('#who-name'), null);
    assertClean(page);
    await page.close();
  });

  test('keyboard: Escape closes the prompt, the header\'s Sign in opens it again, Enter signs in', async () => {
    const page = await openPage(browser, server);
    allow401(page);
    await visit(page, server, '#/insights', '#signin-token');
    await page.keyboard.press('Escape');
    await page.waitForSelector('dialog.signin', { state: 'detached' });
    // The view says why it is empty; focus is on the way back in.
    await page.waitForSelector('.notice.error');
    assert.match(await page.textContent('.notice.error'), /Sign in to see this/);
    assert.equal(await focusedId(page), 'signin-open');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#signin-token');
    assert.equal(await focusedId(page), 'signin-token');
    // Tab stays in the dialog (the page behind it is inert).
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => !!document.activeElement.closest('dialog.signin')), true, `Tab ${i + 1} left the dialog`);
    }
    await page.focus('#signin-token');
    await page.keyboard.type(server.tokens['web-editor']);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#insight-table');
    assert.equal(await page.textContent('#who-name'), 'web-editor');
    assertClean(page);
    await page.close();
  });

  test('a reader sees the list; the capture form and Delete explain in words that the role cannot save', async () => {
    const page = await openPage(browser, server);
    allow401(page);
    // The refusals the reader's attempts earn, and no other.
    page.allow(/status of 403/);
    page.allow(/HTTP 403: (POST .*\/insights|DELETE .*\/insights\/\d+)$/);
    await visit(page, server, '#/insights', '#signin-token');
    await signIn(page, server.tokens['web-reader']);
    await page.waitForSelector('#insight-table');
    const first = await server.get('/insights?page=1&page_size=20');
    assert.deepEqual(await page.$$eval('#insight-table tbody tr', (trs) => trs.map((t) => Number(t.dataset.id))),
      first.insights.map((i) => i.id));
    assert.equal(await page.textContent('#who-role'), 'reader');

    // The capture form says so before anything is typed, and again when the save is refused.
    await page.click('a[href="#/new"]');
    await page.waitForSelector('#in-title');
    assert.match(await page.textContent('#form-readonly'), /role reader: .*saving needs an editor or admin token/);
    await page.fill('#in-title', 'A reader tries to write');
    await page.fill('#in-description', 'This must be refused.');
    await page.fill('#in-author', 'reader');
    await page.click('button[type="submit"]');
    await page.waitForSelector('#form-error');
    assert.equal(await page.textContent('#form-error'), 'Your role (reader) cannot do this. Saving needs an editor or admin token.');
    assert.equal(new URL(page.url()).hash, '#/new');
    assert.equal((await server.get('/insights?page_size=1')).total, first.total);

    // Delete on the detail view: the same words, the insight still there.
    const id = first.insights[0].id;
    await visit(page, server, `#/insights/${id}`, '#related-section[data-loaded="true"]');
    await page.click('.detail-head button:has-text("Delete")');
    await page.click('.detail-head button.danger');
    await page.waitForSelector('.notice.error');
    assert.equal(await page.textContent('.notice.error'), 'Your role (reader) cannot do this.');
    assert.equal((await server.get(`/insights/${id}`)).id, id);
    assertClean(page);
    await page.close();
  });

  for (const scheme of ['light', 'dark']) {
    for (const width of [1280, 375]) {
      test(`the sign-in prompt passes axe-core at ${width} px, ${scheme}; screenshots`, async () => {
        const page = await openPage(browser, server, { width, scheme });
        allow401(page);
        await visit(page, server, '#/', '#signin-token');
        await page.screenshot({ path: shotPath(`signin-${width}-${scheme}`) });
        assert.deepEqual(await axeViolations(page), []);
        // The dialog fits the viewport, and so does the refusal under the field.
        await page.fill('#signin-token', 'not-a-token');
        await page.click('dialog.signin button[type="submit"]');
        await page.waitForSelector('#signin-error');
        const box = await page.$eval('dialog.signin', (d) => { const r = d.getBoundingClientRect(); return [r.left, r.right, innerWidth]; });
        assert.ok(box[0] >= 0 && box[1] <= box[2], `the dialog overflows: ${box}`);
        await page.screenshot({ path: shotPath(`signin-error-${width}-${scheme}`) });
        assert.deepEqual(await axeViolations(page), []);
        assertClean(page);
        await page.close();
      });
    }
  }

  test('GraphiQL asks for a token, then runs a query with it and explores the schema', async () => {
    const page = await openPage(browser, server);
    allow401(page);
    await page.goto(`${server.url}/graphiql`);
    await page.waitForSelector('#signin:not([hidden]) #signin-token');
    await page.waitForSelector('.graphiql-container');
    await page.screenshot({ path: shotPath('graphiql-signin') });
    assert.deepEqual(await axeViolations(page).then((v) => v.filter((x) => /#signin|#auth/.test(x))), []);
    // A wrong token first.
    await page.fill('#signin-token', 'ins_wrong');
    await page.click('#signin button[type="submit"]');
    await page.waitForSelector('#signin-error:not([hidden])');
    assert.match(await page.textContent('#signin-error'), /This token was refused/);
    // The reader's: its name shows, and the same key as the dashboard's holds it.
    await page.fill('#signin-token', server.tokens['web-reader']);
    await page.click('#signin button[type="submit"]');
    await page.waitForSelector('#account:not([hidden])');
    assert.equal(await page.textContent('#who-name'), 'web-reader');
    assert.equal(await page.isHidden('#signin'), true);
    assert.equal(await storedToken(page), server.tokens['web-reader']);

    const query = '{ insights(limit: 1) { id } }';
    await setQuery(page, query);
    await page.locator('.graphiql-execute-button').click();
    await page.waitForFunction(() => {
      const r = document.querySelector('.result-window');
      return r && /"id": \d+/.test(r.innerText);
    });
    const expected = await server.api('POST', '/v1/graphql', { query });
    const shown = await page.locator('.result-window').innerText();
    assert.equal(Number(shown.match(/"id": (\d+)/)[1]), expected.data.insights[0].id);
    await page.screenshot({ path: shotPath('graphiql-signed-in') });

    // The documentation explorer reads the schema through the same fetcher.
    await page.locator('[aria-label="Show Documentation Explorer"]').click();
    await page.getByText('query_root').first().click();
    await page.getByText('insights_groups').first().waitFor();

    // A reload keeps the session: the query runs without the form.
    await page.reload();
    await page.waitForSelector('#account:not([hidden])');
    assert.equal(await page.isHidden('#signin'), true);
    assertClean(page);
    await page.close();
  });

  test('GraphiQL: a mutation from a reader is refused as a permission error', async () => {
    const page = await openPage(browser, server);
    allow401(page); // the first load, before the token is put in the tab's storage
    await page.goto(`${server.url}/graphiql`);
    await page.evaluate(([k, t]) => sessionStorage.setItem(k, t), [TOKEN_KEY, server.tokens['web-reader']]);
    await page.reload();
    await page.waitForSelector('#account:not([hidden])');
    await page.waitForSelector('.graphiql-container');
    await setQuery(page, 'mutation { delete_insights_by_pk(id: 1) { id } }');
    await page.locator('.graphiql-execute-button').click();
    await page.waitForFunction(() => /"code": "permission-error"/.test((document.querySelector('.result-window') || {}).innerText || ''));
    assert.match(await page.locator('.result-window').innerText(), /no permission to run mutation field 'delete_insights_by_pk'/);
    assert.equal((await server.get('/insights/1')).id, 1);
    assertClean(page);
    await page.close();
  });
});
