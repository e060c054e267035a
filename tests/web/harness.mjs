// harness.mjs: what the dashboard's browser tests share: the real binary
// on a seeded SQLite database in a temporary directory, Debian's Chromium
// through playwright-core (nothing downloaded), and pages that record
// everything that went wrong in them (console errors, page errors, failed
// or refused requests, dialogs).
//
//   INSIGHTS_BIN  the binary (default build/insights)
//   CHROMIUM      the browser (default /usr/bin/chromium)
//   WEB_SHOTS     where screenshots go (default build/web-shots)
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = process.env.INSIGHTS_BIN || path.join(REPO, 'build', 'insights');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const SHOTS = process.env.WEB_SHOTS || path.join(REPO, 'build', 'web-shots');
export const AXE = fs.readFileSync(path.join(REPO, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

const SANITIZER = /(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer)/;

export class Server {
  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'insights-web-'));
    this.dbUrl = `sqlite:///${path.join(this.dir, 'web.db')}`;
    this.stderr = '';
  }

  // Seeds `count` insights (deterministic), creates the API tokens asked
  // for with the CLI (tokens: { name: role }; kept in this.tokens[name]),
  // then serves on a free port with `args` added (['--auth', 'on']).
  async start(count, { args = [], tokens = {} } = {}) {
    const seed = spawnSync(BIN, ['seed', '--count', String(count), '--random-seed', '12', '--database', this.dbUrl],
      { encoding: 'utf8' });
    if (seed.status !== 0) throw new Error(`seed failed: ${seed.stderr}`);
    this.tokens = {};
    for (const [name, role] of Object.entries(tokens)) {
      const made = spawnSync(BIN, ['token', 'create', '--name', name, '--role', role, '--database', this.dbUrl],
        { encoding: 'utf8' });
      if (made.status !== 0) throw new Error(`token create failed: ${made.stderr}`);
      this.tokens[name] = made.stdout.trim();
    }
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    this.proc = spawn(BIN, ['serve', '--port', String(this.port), '--database', this.dbUrl, '--log-level', 'warn', ...args],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    for (let i = 0; i < 600; i++) {
      try {
        const r = await fetch(`${this.url}/health`);
        if (r.ok) return;
      } catch (e) { /* not listening yet */ }
      if (this.proc.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the server did not become healthy: ${this.stderr}`);
  }

  // The API, as a test reads it to know what the page should show (with
  // this.bearer, when set, as the credential).
  async api(method, p, body) {
    const headers = body === undefined ? {} : { 'Content-Type': 'application/json' };
    if (this.bearer) headers.Authorization = `Bearer ${this.bearer}`;
    const r = await fetch(this.url + p, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  get(p) { return this.api('GET', p); }

  // Stops with SIGTERM: exit status 0 and no sanitizer report, or it throws.
  async stop() {
    if (!this.proc) return;
    this.proc.kill('SIGTERM');
    const { code, signal } = await this.exited;
    this.proc = null;
    fs.rmSync(this.dir, { recursive: true, force: true });
    if (code !== 0) throw new Error(`the server exited with ${code ?? signal}: ${this.stderr.slice(-4000)}`);
    if (SANITIZER.test(this.stderr)) throw new Error(`sanitizer report:\n${this.stderr.slice(-8000)}`);
  }
}

export async function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}

// A page in a fresh context (no cache) that records its problems in
// page.problems; `allow(text)` exempts an expected one (an API's 4xx).
// Requests to any other origin are refused and recorded: the dashboard
// must work with the network cable out.
export async function openPage(browser, server, { width = 1280, height = 800, scheme = 'light' } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, colorScheme: scheme, serviceWorkers: 'block' });
  const page = await context.newPage();
  page.problems = [];
  page.dialogs = [];
  page.allowed = [];
  const note = (text) => { if (!page.allowed.some((re) => re.test(text))) page.problems.push(text); };
  page.allow = (re) => page.allowed.push(re);
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') note(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => note(`page error: ${e.message}`));
  page.on('requestfailed', (r) => note(`request failed: ${r.method()} ${r.url()} ${r.failure() && r.failure().errorText}`));
  page.on('response', (r) => { if (r.status() >= 400) note(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`); });
  page.on('dialog', (d) => { page.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  // Only other origins are intercepted (a routed 204 reads as aborted).
  await context.route((url) => !url.href.startsWith(`${server.url}/`) && url.protocol !== 'data:', (route) => {
    page.problems.push(`request to another origin: ${route.request().url()}`);
    return route.abort();
  });
  page.close = ((close) => async () => { await close.call(page); await context.close(); })(page.close);
  return page;
}

// Opens `hash` and waits for `ready` (a selector that appears once the view
// shows its data).
export async function visit(page, server, hash, ready) {
  await page.goto(`${server.url}/${hash}`);
  if (ready) await page.waitForSelector(ready);
}

// The data Chart.js holds for the canvas with id `id`.
export function chartData(page, id) {
  return page.evaluate((cid) => {
    const c = window.Chart && window.Chart.getChart(document.getElementById(cid));
    return c ? { type: c.config.type, labels: c.data.labels, datasets: c.data.datasets.map((d) => ({ label: d.label, data: d.data })) } : null;
  }, id);
}

// axe-core's serious and critical violations on the page as it is.
export async function axeViolations(page) {
  // evaluate() runs outside the page's Content-Security-Policy, which
  // (rightly) refuses injected scripts.
  await page.evaluate(`${AXE}\n;0`);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

export function shotPath(name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  return path.join(SHOTS, `${name}.png`);
}
