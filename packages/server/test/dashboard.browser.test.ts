import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createStrata, type Strata } from '@strata/core';
import { generateWorkload } from '@strata/testing';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStrataServer, type AlertsPanelData, type StrataServer } from '../src/index.js';
import { DAY_MS, TOKENS, TOKEN_SPECS, bearer, catalog } from './helpers.js';

/** What the page's elements look like from a test: no DOM types here (tests compile for Node). */
type Tagged = { dataset: Record<string, string | undefined>; textContent: string | null };

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];
/** Where the run leaves its screenshot (reports/ is git-ignored; CI keeps the folder with vitest.json). */
const SCREENSHOT = resolve(import.meta.dirname, '..', '..', '..', 'reports', 'dashboard.png');

const chromiumFound = existsSync(CHROMIUM);
const mustRun = process.env.CI === 'true';
if (!chromiumFound && !mustRun) console.warn(`dashboard browser tests skipped: ${CHROMIUM} not found (install Debian's chromium; in CI, where CI=true, these tests fail instead)`);

const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
/** Three groups of sessions, each inside exactly one of the 7/30/90-day ranges' differences. */
const SEGMENTS = [
  { idPrefix: 'recent', events: 400, seed: 21, start: today - 5 * DAY_MS, days: 4 },
  { idPrefix: 'month', events: 600, seed: 22, start: today - 25 * DAY_MS, days: 10 },
  { idPrefix: 'quarter', events: 800, seed: 23, start: today - 80 * DAY_MS, days: 30 },
];
const EXPECTED = { '7d': 400, '30d': 1_000, '90d': 1_800, custom: 600 };

const FIRING: AlertsPanelData = {
  rules: [
    { name: 'slow-answers', metric: 'insights.p95_response_time_seconds', severity: 'warning', state: 'firing', since: Date.now() - 600_000 },
    { name: 'low-success', metric: 'insights.success_rate', severity: 'critical', state: 'inactive', since: Date.now() - 3_600_000 },
  ],
  alerts: [
    { rule: 'slow-answers', status: 'firing', severity: 'warning', summary: 'p95 response time is 6.2 s (threshold 5 s)', value: 6.2, activeSince: Date.now() - 900_000, firingSince: Date.now() - 600_000, silenced: false },
  ],
  silences: 1,
};

describe.skipIf(!chromiumFound && !mustRun)('the dashboard in headless Chromium', () => {
  let strata: Strata;
  let server: StrataServer;
  let url: string;
  let browser: Browser;
  let dir: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    expect(chromiumFound, `${CHROMIUM} is required when CI=true: the dashboard is tested in a real browser`).toBe(true);
    // One server for every test of the file (the helpers' per-test cleanup would close it after the first).
    dir = mkdtempSync(join(tmpdir(), 'strata-dashboard-'));
    strata = await createStrata({ config: { dataDir: join(dir, 'analytics'), plugins: ['hot-sqlite'] }, cwd: dir, catalog, logLevel: 'silent', scheduleJobs: false, monitor: false });
    server = await createStrataServer({ strata, tokens: TOKEN_SPECS, port: 0, closeStrata: false, panels: { alerts: async () => FIRING } });
    url = (await server.listen()).url;
    // The workload goes in through the API, as an assistant would send it.
    for (const segment of SEGMENTS) {
      const events = [...generateWorkload({ ...segment, networkFields: false })];
      for (let start = 0; start < events.length; start += 250) {
        const response = await fetch(`${url}/v1/interactions`, { method: 'POST', headers: { ...bearer('admin'), 'content-type': 'application/json' }, body: JSON.stringify(events.slice(start, start + 250)) });
        const body = (await response.json()) as { stored: number; received: number };
        expect(response.status).toBe(200);
        expect(body.stored).toBe(body.received);
      }
    }
    await strata.sampleSystemMetrics();
    await strata.sampleSystemMetrics();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await strata?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function openPage(path: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(`page error: ${error.message}`));
    // An answer of 4xx is logged by the browser itself ("Failed to load resource"); those the page
    // expects (404 of an unconfigured panel, 401 of a wrong token) are not errors. A 5xx always is.
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource: the server responded with a status of 4')) pageErrors.push(`console: ${message.text()}`);
    });
    page.on('response', (response) => {
      if (response.status() >= 500) pageErrors.push(`${response.status()} from ${response.url()}`);
    });
    await page.goto(`${url}${path}`);
    return page;
  }

  const waitForRange = (page: Page, range: string) => page.waitForSelector(`#dashboard[data-state="ready"][data-range="${range}"]`, { timeout: 20_000 });
  const attribute = async (page: Page, selector: string, name: string) => page.getAttribute(selector, name);
  const numberOf = async (page: Page, selector: string, name: string) => Number(await attribute(page, selector, name));
  const sumOf = (page: Page, selector: string) =>
    page.$$eval(selector, (cells) => cells.reduce((sum, cell) => sum + Number((cell as unknown as Tagged).dataset.value ?? (cell as unknown as Tagged).dataset.interactions), 0));

  it('shows the seeded numbers for the default range and updates them when the range changes', async () => {
    const page = await openPage(`/?token=${encodeURIComponent(TOKENS.admin)}`);
    await waitForRange(page, '30d');
    expect(page.url(), 'the token is taken out of the address bar').not.toContain('token=');

    // Summary, daily chart and table agree with the workload.
    expect(await numberOf(page, '[data-panel="summary"]', 'data-interactions')).toBe(EXPECTED['30d']);
    expect(await numberOf(page, '[data-panel="daily"]', 'data-total-interactions')).toBe(EXPECTED['30d']);
    expect(await sumOf(page, '[data-panel="daily"] td[data-field="interactions"]')).toBe(EXPECTED['30d']);
    expect(await numberOf(page, '[data-panel="daily"]', 'data-days')).toBe(30);
    expect(await page.locator('[data-panel="daily"] canvas').count()).toBeGreaterThan(0);
    expect(await page.locator('[data-panel="latency"] canvas').count()).toBeGreaterThan(0);

    // Every other number is the API's answer for exactly the range the page asked for.
    const from = Number(await attribute(page, '#dashboard', 'data-from'));
    const to = Number(await attribute(page, '#dashboard', 'data-to'));
    expect(to - from).toBe(30 * DAY_MS);
    const report = await strata.report({ range: { from, to } });
    expect(await numberOf(page, '[data-panel="summary"]', 'data-sessions')).toBe(report.totals.sessions);
    expect(Number(await attribute(page, '[data-panel="summary"]', 'data-p95-response'))).toBeCloseTo(report.totals.p95ResponseTime!, 9);

    const roles = await strata.insights.userBehaviour({ range: { from, to } });
    for (const role of roles.items) {
      expect(await numberOf(page, `[data-panel="roles"] tr[data-role="${role.userRole}"]`, 'data-interactions'), role.userRole).toBe(role.interactions);
    }
    for (const type of report.byQueryType) {
      expect(await numberOf(page, `[data-panel="queryTypes"] tr[data-query-type="${type.queryType}"]`, 'data-interactions'), type.queryType).toBe(type.interactions);
    }
    const questions = await strata.insights.commonQuestions({ range: { from, to }, limit: 10 });
    const shownHashes = await page.$$eval('[data-panel="topQuestions"] tbody tr', (rows) => rows.map((row) => (row as unknown as Tagged).dataset.queryHash));
    expect(shownHashes).toEqual(questions.items.map((question) => question.queryHash));
    expect(await numberOf(page, '[data-panel="topQuestions"] tbody tr:first-child', 'data-asks')).toBe(questions.items[0]!.asks);
    const content = await strata.insights.contentEffectiveness({ range: { from, to }, limit: 20 });
    expect(await page.$$eval('[data-panel="content"] tbody tr', (rows) => rows.map((row) => (row as unknown as Tagged).dataset.contentId))).toEqual(content.items.map((item) => item.contentId));

    // Optional plugins: alerts given a reader, quality not configured.
    expect(await attribute(page, '[data-panel="alerts"]', 'data-state')).toBe('ready');
    expect(await numberOf(page, '[data-panel="alerts"]', 'data-firing')).toBe(1);
    expect(await page.textContent('[data-panel="alerts"] tbody')).toContain('p95 response time is 6.2 s');
    expect(await attribute(page, '[data-panel="quality"]', 'data-state')).toBe('not-configured');
    expect(await page.textContent('[data-panel="quality"] [data-status]')).toContain('not configured');

    // System performance from the samples taken, and the raw rows an admin may read.
    expect(await numberOf(page, '[data-panel="system"]', 'data-metrics')).toBeGreaterThan(0);
    expect(await page.locator('[data-panel="system"] tr[data-metric="system.memory_rss_mb"]').count()).toBe(1);
    expect(await page.isVisible('[data-panel="interactions"]')).toBe(true);
    expect(await numberOf(page, '[data-panel="interactions"]', 'data-rows')).toBe(20);

    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);

    await page.click('[data-range="7d"]');
    await waitForRange(page, '7d');
    expect(await numberOf(page, '[data-panel="summary"]', 'data-interactions')).toBe(EXPECTED['7d']);
    expect(await numberOf(page, '[data-panel="daily"]', 'data-total-interactions')).toBe(EXPECTED['7d']);
    expect(await numberOf(page, '[data-panel="daily"]', 'data-days')).toBe(7);

    await page.click('[data-range="90d"]');
    await waitForRange(page, '90d');
    expect(await numberOf(page, '[data-panel="summary"]', 'data-interactions')).toBe(EXPECTED['90d']);
    expect(await sumOf(page, '[data-panel="roles"] tbody tr')).toBe(EXPECTED['90d']);

    await page.click('[data-range="custom"]');
    await page.fill('#custom-from', new Date(today - 25 * DAY_MS).toISOString().slice(0, 10));
    await page.fill('#custom-to', new Date(today - 15 * DAY_MS).toISOString().slice(0, 10));
    await page.click('#custom-range button[type="submit"]');
    await waitForRange(page, 'custom');
    expect(await numberOf(page, '[data-panel="summary"]', 'data-interactions')).toBe(EXPECTED.custom);
    expect(await numberOf(page, '[data-panel="daily"]', 'data-days')).toBe(11);

    expect(pageErrors).toEqual([]);
    await page.context().close();
  }, 90_000);

  it('shows a viewer summaries only: no raw-interactions panel, and the API refuses it the rows', async () => {
    const page = await openPage(`/?token=${encodeURIComponent(TOKENS.viewer)}&range=7d`);
    await waitForRange(page, '7d');
    expect(await page.textContent('[data-who-role]')).toBe('viewer');
    expect(await numberOf(page, '[data-panel="summary"]', 'data-interactions')).toBe(EXPECTED['7d']);
    expect(await page.isVisible('[data-panel="roles"]')).toBe(true);
    expect(await page.isVisible('[data-panel="interactions"]')).toBe(false);
    expect(await attribute(page, '[data-panel="interactions"]', 'data-state')).toBe('denied');
    expect(await page.locator('[data-panel="interactions"] tbody tr').count()).toBe(0);
    const status = await page.evaluate(async (token) => (await fetch('/v1/interactions?limit=5', { headers: { authorization: `Bearer ${token}` } })).status, TOKENS.viewer);
    expect(status).toBe(403);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  }, 60_000);

  it('asks for a token, refuses a wrong one with a reason, and signs in with a right one', async () => {
    const page = await openPage('/');
    await page.waitForSelector('#login:not([hidden])');
    expect(await page.isVisible('#dashboard')).toBe(false);
    await page.fill('#token-input', 'not-a-real-token-at-all');
    await page.click('#login-form button[type="submit"]');
    await page.waitForFunction(() => (globalThis as unknown as { document: { querySelector(selector: string): Tagged | null } }).document.querySelector('#login-error')?.textContent !== '');
    expect(await page.textContent('#login-error')).toContain('not accepted');
    await page.fill('#token-input', TOKENS.analyst);
    await page.click('#login-form button[type="submit"]');
    await waitForRange(page, '30d');
    expect(await page.textContent('[data-who-name]')).toBe('analyst-user');
    expect(await numberOf(page, '[data-panel="summary"]', 'data-interactions')).toBe(EXPECTED['30d']);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  }, 60_000);
});
