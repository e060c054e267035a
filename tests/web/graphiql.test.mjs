// graphiql.test.mjs: GraphiQL at /graphiql in Debian's Chromium, offline:
// it loads every file from the binary, runs a query against /v1/graphql
// and shows the answer, and its documentation explorer reads the schema.
// Screenshots go to WEB_SHOTS (graphiql-*.png).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Server, launch, openPage, shotPath } from './harness.mjs';

let server, browser;

before(async () => {
  server = new Server();
  await server.start(60);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('GraphiQL loads offline, runs a query and explores the schema', async () => {
  const page = await openPage(browser, server);
  await page.goto(`${server.url}/graphiql`);
  await page.waitForSelector('.graphiql-container');
  // The editor holds the example query; run it.
  await page.locator('.graphiql-execute-button').click();
  await page.waitForFunction(() => {
    const r = document.querySelector('.result-window');
    return r && r.innerText.includes('"insights"');
  });
  const shown = await page.locator('.result-window').innerText();
  const expected = await server.api('POST', '/v1/graphql', {
    query: '{ insights(where: {status: {_eq: "published"}, priority: {_eq: "high"}}, order_by: {created_at: desc}, limit: 20) { id } }',
  });
  assert.ok(expected.data.insights.length > 0, 'the seed has published high-priority insights');
  // The result pane draws only the lines in view: the first insight is there.
  const first = shown.match(/"id": (\d+)/);
  assert.ok(first, shown.slice(0, 300));
  assert.equal(Number(first[1]), expected.data.insights[0].id);
  await page.screenshot({ path: shotPath('graphiql-query') });

  // The documentation explorer, from introspection.
  await page.locator('[aria-label="Show Documentation Explorer"]').click();
  await page.getByText('query_root').first().click();
  await page.getByText('insights_groups').first().waitFor();
  await page.screenshot({ path: shotPath('graphiql-docs') });
  // Authentication off: the sign-in bar never showed.
  assert.equal(await page.isHidden('#auth'), true);
  assert.deepEqual(page.problems, []);
  await page.close();
});
