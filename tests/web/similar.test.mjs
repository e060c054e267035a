// similar.test.mjs: duplicate warnings in the capture form: as a new
// insight's title is typed (three words or more, 300 ms after typing
// stops), the insights most like it are listed under the title, each
// linking to its page with its score as a percentage. See harness.mjs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  Server, axeViolations, launch, openPage, shotPath, visit,
} from './harness.mjs';

let server;
let browser;
let original;

describe('duplicate warnings', () => {
  before(async () => {
    server = new Server();
    await server.start(60);
    original = await server.api('POST', '/insights', {
      title: 'Connection pool exhaustion during the Zephyrine batch import',
      description: 'Zephyrine workers held database connections across slow calls.',
      author: 'web-test',
    });
    browser = await launch();
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  test('candidates show as the title is typed, linked, with their score', async () => {
    const page = await openPage(browser, server);
    const asked = [];
    page.on('request', (r) => { if (r.url().endsWith('/insights/similar')) asked.push(r.postDataJSON()); });
    await visit(page, server, '#/new', '#in-title');
    // Two words: nothing is asked, nothing shown.
    await page.type('#in-title', 'Zephyrine pool', { delay: 30 });
    await page.waitForTimeout(800);
    assert.deepEqual(asked, []);
    assert.equal(await page.$('#similar'), null);
    // A third word, typed a key at a time: asked once, after typing stops.
    await page.type('#in-title', ' exhaustion', { delay: 30 });
    await page.waitForSelector('#similar li');
    assert.equal(asked.length, 1);
    assert.equal(asked[0].title, 'Zephyrine pool exhaustion');
    const want = (await server.api('POST', '/insights/similar', { title: 'Zephyrine pool exhaustion', description: '' })).similar;
    assert.equal(want[0].insight.id, original.id);
    const shown = await page.$$eval('#similar li', (lis) => lis.map((li) => ({
      href: li.querySelector('a').getAttribute('href'),
      title: li.querySelector('a').textContent,
      score: li.querySelector('.score').textContent,
    })));
    assert.deepEqual(shown, want.map((m) => ({
      href: `#/insights/${m.insight.id}`, title: m.insight.title, score: `${Math.round(m.score * 100)}%`,
    })));
    assert.deepEqual(await axeViolations(page), []);
    await page.screenshot({ path: shotPath('similar'), fullPage: false });
    // Back under three words: the list goes.
    await page.fill('#in-title', 'Zephyrine');
    await page.waitForSelector('#similar', { state: 'detached' });
    // A candidate's link opens it.
    await page.fill('#in-title', 'Zephyrine pool exhaustion again');
    await page.click(`#similar a[href="#/insights/${original.id}"]`);
    await page.waitForFunction((id) => location.hash === `#/insights/${id}`, original.id);
    await page.waitForFunction((t) => document.querySelector('h1')?.textContent === t, original.title);
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  test('the edit form shows no candidates', async () => {
    const page = await openPage(browser, server);
    await visit(page, server, `#/insights/${original.id}/edit`, '#in-title');
    await page.fill('#in-title', 'Connection pool exhaustion during the Zephyrine import');
    await page.waitForTimeout(800);
    assert.equal(await page.$('#similar'), null);
    assert.deepEqual(page.problems, []);
    await page.close();
  });
});
