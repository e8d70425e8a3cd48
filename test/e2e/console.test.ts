/**
 * The web console end to end: Debian's Chromium (/usr/bin/chromium), driven by playwright-core,
 * against a running Vigil with a small simulated fleet. Log in with a token, see alerts arrive
 * live, work the alert queue with the keyboard, open an incident and change its state, look at a
 * vehicle, the detections (switching a rule off and on), the intel exposure, a question asked, a
 * playbook run on the incident, a 100,000-alert queue sorted by the server, and the bulletin.
 * Screenshots of each page go to test-artifacts/console/; each page's load time, measured in
 * the browser (navigation to the page's main content drawn: a full load for the overview, a
 * click on the page's link for the others), to timings.json and the log.
 *
 * Skips with a message when Chromium is absent, except under CI=true (.ci/run installs it).
 * Never downloads a browser: playwright-core has none of its own.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVigil, type Vigil } from '../../src/api/vigil.js';
import { makeVin } from '../../src/normalize/vin.js';
import { parseConfig } from '../../src/runtime/config.js';
import { apiToken, bearer } from '../http-helpers.js';

const CHROMIUM = process.env.VIGIL_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) {
  if (process.env.CI === 'true') throw new Error(`Chromium is not at ${CHROMIUM} (.ci/run installs Debian's chromium)`);
  console.warn(`console e2e: skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set VIGIL_CHROMIUM)`);
}
/** Launch options for Debian's Chromium on these machines (no GPU, no network besides localhost). */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ROOT = join(import.meta.dirname, '..', '..');
const ARTIFACTS = join(ROOT, 'test-artifacts', 'console');
const TENANT = 'demo';
const VEHICLES = 6;
const vin = (i: number) => makeVin({ wmi: 'YV1', vds: 'MV39H', year: 2019, plant: 'G' }, 100 + i);
/** Where the injected vehicles are (lat, lon): the map shows them. */
const PLACES: [number, number][] = [[57.7, 11.97], [48.14, 11.58], [40.71, -74.0], [35.68, 139.69], [-33.87, 151.21], [51.5, -0.12]];

/** In the page (a string: this file is compiled without the DOM types): bars in the charts, numbers in the counters, countries on the map. */
const OVERVIEW_DRAWN = `document.querySelectorAll('.chart-card .recharts-bar-rectangle').length >= 2
  && !document.querySelector('.counter .value')?.textContent?.includes('…') && document.querySelectorAll('.map .land').length > 100`;

/** The overview must be drawn within this after navigation start (the goal is 1 s; loaded CI machines get room). */
const OVERVIEW_BUDGET_MS = Number(process.env.VIGIL_E2E_OVERVIEW_BUDGET_MS ?? 5000);

/** The entry script (index-*.js) at most: React, the router, the query cache and the shell (~310 KB). */
const ENTRY_BUDGET_BYTES = 400_000;

let vigil: Vigil;
let token: string;
let context: BrowserContext;
let page: Page;
let profile: string;
const timings: Record<string, number> = {};

/**
 * Opens a page by `go` (a click on its link, usually) and records in `timings` how long the
 * browser took from just before it to `drawn` (run in the page, every animation frame) holding.
 */
async function timed(name: string, go: () => Promise<unknown>, drawn: string): Promise<number> {
  await page.evaluate('window.__navStart = performance.now(); window.__navDone = undefined');
  await go();
  await page.waitForFunction(`(${drawn}) && (window.__navDone ??= performance.now(), true)`, undefined, { timeout: 30_000 });
  const ms = Math.round((await page.evaluate('window.__navDone - window.__navStart')) as number);
  timings[name] = ms;
  console.log(`console e2e: ${name} drawn ${ms} ms after navigation`);
  return ms;
}
/** In the page: a table (by its aria-label) has at least one body row. */
const rowsIn = (label: string, n = 1): string => `document.querySelectorAll('table[aria-label="${label}"] tbody tr').length >= ${n}`;

/** Odometer rollbacks (an alert each) for vehicles `from`..`to`-1, with a position each. */
async function attack(from: number, to: number, at: number): Promise<void> {
  const lines: object[] = [];
  for (let i = from; i < to; i++) {
    const [lat, lon] = PLACES[i % PLACES.length]!;
    lines.push({ vin: vin(i), ts: at, seq: at, signals: { 'Vehicle.Speed': 40 + i, 'Vehicle.TraveledDistance': 120_000 + i, 'Vehicle.CurrentLocation.Latitude': lat, 'Vehicle.CurrentLocation.Longitude': lon } });
    lines.push({ vin: vin(i), ts: at + 1000, seq: at + 1, signals: { 'Vehicle.Speed': 42 + i, 'Vehicle.TraveledDistance': 90_000 + i } });
  }
  const res = await fetch(`${vigil.url}/v1/ingest/signals?tenant=${TENANT}`, { method: 'POST', headers: { ...bearer(token), 'content-type': 'application/x-ndjson' }, body: lines.map((l) => JSON.stringify(l)).join('\n') });
  expect(res.status, await res.text()).toBe(202);
}

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${vigil.url}${path}`, { headers: bearer(token) });
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Scrolls an element to its end (run in the page). */
const toBottom = (el: { scrollTop: number; scrollHeight: number }): void => {
  el.scrollTop = el.scrollHeight;
};

/** expect.poll with room for a refetch on a busy machine. */
function poll<T>(f: () => Promise<T>) {
  return expect.poll(f, { timeout: 30_000, interval: 200 });
}

async function shot(name: string, fullPage = true): Promise<void> {
  await page.evaluate('window.scrollTo(0, 0)');
  // No tooltip of where the last click left the pointer.
  await page.mouse.move(1, 1);
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage });
}

describe.skipIf(!HAVE_CHROMIUM)('the web console in Chromium', () => {
  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'console', 'dist', 'index.html'))) execFileSync('npm', ['run', 'build:console'], { cwd: ROOT, stdio: 'inherit' });
    mkdirSync(ARTIFACTS, { recursive: true });
    vigil = await startVigil(parseConfig({
      tenant: TENANT, store: { path: ':memory:' }, runtime: { workers: 1 },
      http: { port: 0, auth: { enabled: true, adminTokenEnv: 'VIGIL_E2E_ADMIN_TOKEN' } },
      sources: [{ type: 'simulator', name: 'e2e-fleet', vehicles: 20, seed: 7, malformedRate: 0, attacks: false }],
      // The example advisories, matched against the simulated fleet's SBOMs: the Intel page has exposure to show.
      intel: { feeds: [join(ROOT, 'examples', 'intel')], simSboms: true, exposureCheck: '5s' },
    }));
    token = await apiToken(vigil, 'admin', '*', 'e2e operator');
    await vigil.pipeline.registerVehicles(TENANT, Array.from({ length: VEHICLES }, (_, i) => ({
      vin: vin(i), make: 'Volvo', model: i % 2 ? 'XC40' : 'V60', year: 2019, region: 'EU', software: { TCU: `5.2.${i}`, GW: '3.0.1', IVI: `12.${i}` },
    })));
    // Alerts and incidents before the browser opens: the overview has something to draw.
    await attack(0, 3, Date.now() - 90_000);
    await until('the first incidents', async () => (await api<{ total: number }>(`/v1/incidents?tenant=${TENANT}&limit=1`)).total >= 1);
    profile = mkdtempSync(join(tmpdir(), 'vigil-e2e-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 900 }, colorScheme: 'dark' });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(20_000);
  }, 180_000);

  afterAll(async () => {
    writeFileSync(join(ARTIFACTS, 'timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await vigil?.stop();
  });

  it('refuses a wrong token, logs in with a right one, and starts focus on the skip link', async () => {
    await page.goto(`${vigil.url}/`);
    const field = page.getByLabel('API token');
    await field.fill('vgl_not-a-real-token');
    await page.getByRole('button', { name: 'Log in' }).click();
    await poll(async () => page.getByRole('alert').textContent()).toMatch(/unknown|revoked|expired/);
    await shot('01-login');
    await field.fill(token);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Skip to content');
  });

  it('loads a small entry script first: the pages, the charts and the map are chunks of their own', async () => {
    const html = readFileSync(join(ROOT, 'console', 'dist', 'index.html'), 'utf8');
    const entries = [...html.matchAll(/src="\/assets\/([^"]+\.js)"/g)].map((m) => m[1]!);
    expect(entries.length).toBe(1);
    const size = statSync(join(ROOT, 'console', 'dist', 'assets', entries[0]!)).size;
    console.log(`console e2e: entry script ${Math.round(size / 1024)} KiB`);
    expect(size, 'entry script bytes (recharts, d3 or a page drawn into it?)').toBeLessThan(ENTRY_BUDGET_BYTES);
  });

  it('draws the overview (counters, charts, map) and records how long it took in the browser', async () => {
    await page.reload();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    // Drawn: the severity bars and the by-model bars are in the SVG, the counters have numbers, the map has its countries.
    await page.waitForFunction(OVERVIEW_DRAWN);
    const t = (await page.evaluate(`(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      return { drawnMs: performance.now(), domContentLoadedMs: nav.domContentLoadedEventEnd, loadMs: nav.loadEventEnd };
    })()`)) as { drawnMs: number; domContentLoadedMs: number; loadMs: number };
    timings['overview'] = Math.round(t.drawnMs);
    timings['overviewDomContentLoaded'] = Math.round(t.domContentLoadedMs);
    timings['overviewLoadEvent'] = Math.round(t.loadMs);
    console.log(`console e2e: overview drawn ${Math.round(t.drawnMs)} ms after navigation start (DOMContentLoaded ${Math.round(t.domContentLoadedMs)} ms; load ${(await import('node:os')).loadavg()[0]!.toFixed(1)})`);
    // What the overview waited for: each request's start and end (ms after navigation start).
    const waits = (await page.evaluate(`performance.getEntriesByType('resource').filter((r) => r.startTime < ${Math.ceil(t.drawnMs)})
      .map((r) => [new URL(r.name).pathname.replace(/^\\/assets\\//, '').split('?')[0], Math.round(r.startTime), Math.round(r.responseEnd)])`)) as [string, number, number][];
    console.log(`console e2e: overview requests (start-end ms): ${waits.map(([n, a, b]) => `${n} ${a}-${b}`).join(', ')}`);
    // The goal: under a second on localhost. A loaded machine (CI, other jobs) gets room.
    expect(t.drawnMs, 'overview drawn (ms)').toBeLessThan(OVERVIEW_BUDGET_MS);
    await until('vehicles on the map', async () => (await page.locator('.map .pin').count()) >= 1);
    await shot('02-overview');
  });

  it('shows new alerts as they arrive, and works the queue from the keyboard', async () => {
    await timed('alerts', () => page.getByRole('link', { name: 'Alerts', exact: true }).click(), "document.querySelectorAll('[data-testid=alert-table] [role=row][aria-rowindex]').length > 0");
    const shown = async () => Number((/([\d,]+) alerts/.exec((await page.locator('.filters').textContent()) ?? '')?.[1] ?? '-1').replace(/,/g, ''));
    const before = (await api<{ total: number }>(`/v1/alerts?tenant=${TENANT}&limit=1`)).total;
    await poll(shown).toBeGreaterThanOrEqual(before);
    const at = Date.now() - 30_000;
    await attack(3, VEHICLES, at);
    await poll(async () => page.getByTestId('live-count').textContent()).toMatch(/live · [1-9]\d* new/);
    const fresh = await until('the new alerts stored', async () => {
      const page = await api<{ items: { vehicle?: string }[] }>(`/v1/alerts?tenant=${TENANT}&since=${at}&rule=odometer.rollback&limit=100`);
      return page.items.length >= VEHICLES - 3 && page.items.map((a) => a.vehicle!);
    });
    // The queue refreshes by itself on the live events: no reload.
    await poll(shown).toBeGreaterThanOrEqual(before + fresh.length);
    await poll(async () => page.getByTestId('alert-table').textContent()).toContain(fresh[0]!);
    const table = page.getByTestId('alert-table');
    await table.focus();
    await page.keyboard.press('j');
    await page.keyboard.press('x');
    await poll(async () => page.getByRole('toolbar').textContent()).toContain('1 selected');
    await page.keyboard.press('k');
    await page.keyboard.press('x');
    await poll(async () => page.getByRole('toolbar').textContent()).toContain('2 selected');
    await shot('03-alerts');
  });

  it('opens an incident, sees its alerts, evidence chart and techniques, and moves it to another state', async () => {
    // The incident of an injected odometer rollback: a vehicle, and evidence captured (its alert is 90 s old).
    const incidents = await api<{ items: { id: string; vehicle?: string; firstAlertAt: number }[] }>(`/v1/incidents?tenant=${TENANT}&rule=odometer.rollback&limit=100&sort=createdAt`);
    const target = incidents.items.find((i) => i.vehicle && i.firstAlertAt < Date.now() - 80_000);
    expect(target, 'an incident of an injected vehicle').toBeDefined();
    await timed('incidents', () => page.getByRole('link', { name: 'Incidents', exact: true }).click(), rowsIn('Incidents'));
    await shot('04-incidents');
    await timed('incident', () => page.locator(`a[href="/incidents/${encodeURIComponent(target!.id)}"]`).click(),
      "document.querySelector('[data-testid=incident-state]') && document.querySelectorAll('.timeline li').length >= 1");
    const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    const before = await page.getByTestId('incident-state').textContent();
    expect(before).toBe('new');
    // The moves offered are the server's (the incident carries them), not a copy of the workflow.
    const moves = page.getByRole('group', { name: 'Change state' });
    const offered = async () => (await moves.locator('button').allTextContents()).filter((t) => !t.endsWith('…'));
    expect(await offered()).toEqual(((await api<{ incident: { allowed: string[] } }>(`/v1/incidents/${encodeURIComponent(id)}?tenant=${TENANT}`)).incident.allowed).map((m) => m.replace('_', ' ')));
    await moves.getByRole('button', { name: 'investigating' }).click();
    await poll(async () => page.getByTestId('incident-state').textContent()).toBe('investigating');
    await poll(offered).toEqual(['contained', 'resolved', 'false positive']);
    const stored = await api<{ incident: { state: string }; history: { kind: string }[] }>(`/v1/incidents/${encodeURIComponent(id)}?tenant=${TENANT}`);
    expect(stored.incident.state).toBe('investigating');
    expect(stored.history.map((h) => h.kind)).toContain('state');
    await page.getByLabel('Add a comment').fill('looked at it in the console');
    await page.getByRole('button', { name: 'Comment', exact: true }).click();
    await poll(async () => page.locator('#com-title ~ ol').textContent()).toContain('looked at it in the console');
    expect((await api<{ items: { text: string }[] }>(`/v1/incidents/${encodeURIComponent(id)}/comments?tenant=${TENANT}`)).items.map((c) => c.text)).toContain('looked at it in the console');
    // The evidence chart is drawn once the capture (60 s after the alert) is in; the alerts are 90 s old.
    // A playbook run from the page: each step's status and result show up in its table.
    await page.getByLabel('Run playbook').selectOption('remote-command-abuse');
    const runs = page.getByRole('table', { name: 'Playbook runs' });
    await poll(async () => runs.locator('tbody tr').count()).toBeGreaterThanOrEqual(2);
    const ran = (await api<{ items: { playbook?: string; action: string; status: string; result?: unknown }[] }>(`/v1/action-runs?tenant=${TENANT}&incident=${encodeURIComponent(id)}`)).items;
    expect(ran.length).toBeGreaterThanOrEqual(2);
    expect(ran.every((r) => r.playbook === 'remote-command-abuse')).toBe(true);
    await poll(async () => runs.locator('tbody').textContent()).toMatch(/succeeded|failed|skipped/);
    for (const r of ran) expect(await runs.locator('tbody').textContent()).toContain(r.action);
    await until('an evidence chart', async () => {
      if ((await page.locator('figure.chart .recharts-line').count()) >= 1) return true;
      await page.waitForTimeout(3000);
      if ((await page.locator('figure.chart .recharts-line').count()) >= 1) return true;
      await page.reload();
      await page.getByTestId('incident-state').waitFor();
      return false;
    }, 90_000);
    await shot('04-incident');
  }, 150_000);

  it('looks at a vehicle: identity, ECUs and software, live signals, timeline', async () => {
    await timed('vehicle', () => page.locator('#veh-title').locator('..').getByRole('link').first().click(),
      "document.querySelector('[data-testid=live-signals] tbody tr') && document.body.textContent.includes('ECUs and software')");
    await poll(async () => page.locator('main').textContent()).toContain('TCU');
    await poll(async () => page.getByTestId('live-signals').textContent()).toContain('Vehicle.Speed');
    await shot('05-vehicle');
    await timed('vehicles', () => page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Vehicles', exact: true }).click(), rowsIn('Vehicles'));
    await shot('05-vehicles');
  });

  it('shows the detections with their status and the ATM coverage matrix', async () => {
    await timed('detections', () => page.getByRole('link', { name: 'Detections', exact: true }).click(),
      `${rowsIn('Detection rules', 20)} && document.querySelectorAll('table.matrix td[title*="rule(s)"]').length > 10`);
    expect(await page.getByRole('table', { name: 'Detection rules' }).textContent()).toContain('enabled');
    await shot('06-detections-atm-tactics', false);
    await page.getByLabel('Rows').selectOption('r155');
    await poll(async () => page.locator('table.matrix tbody tr').count()).toBeGreaterThanOrEqual(5);
    await shot('06-detections', false);
    // Switch a rule of the pack off for this tenant, and on again: the API says so both times.
    const status = async () => (await api<{ items: { id: string; status: string }[] }>(`/v1/rules?tenant=${TENANT}`)).items.find((r) => r.id === 'odometer.impossible-increase')?.status;
    const row = page.getByRole('table', { name: 'Detection rules' }).locator('tr', { hasText: 'odometer.impossible-increase' });
    await row.getByRole('button', { name: /Disable rule odometer.impossible-increase/ }).click();
    await poll(async () => row.locator('.status').textContent()).toBe('disabled');
    expect(await status()).toBe('disabled');
    await row.getByRole('button', { name: /Enable rule odometer.impossible-increase/ }).click();
    await poll(async () => row.locator('.status').textContent()).toBe('enabled');
    expect(await status()).toBe('enabled');
  });

  it('switches to the light theme and another tenant', async () => {
    await page.getByRole('link', { name: 'Overview', exact: true }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('dark');
    await page.getByRole('button', { name: /Switch to light theme/ }).click();
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('light');
    await page.waitForFunction("document.querySelectorAll('.map .land').length > 100");
    await shot('07-overview-light');
    await page.getByLabel('Tenant').fill('other');
    await page.getByRole('button', { name: 'Switch', exact: true }).click();
    await poll(async () => page.getByRole('listitem').filter({ hasText: 'Alerts stored' }).textContent()).toContain('0');
    await page.getByLabel('Tenant').fill(TENANT);
    await page.getByRole('button', { name: 'Switch', exact: true }).click();
    await poll(async () => page.getByLabel('Tenant').inputValue()).toBe(TENANT);
  });

  it('lists vulnerabilities with KEV and EPSS flags, and shows the exposure of one by model', async () => {
    await timed('intel', () => page.getByRole('link', { name: 'Intel', exact: true }).click(), rowsIn('Vulnerabilities'));
    const table = page.getByRole('table', { name: 'Vulnerabilities' });
    await poll(async () => table.locator('tbody tr').count()).toBeGreaterThanOrEqual(1);
    expect(await table.textContent()).toContain('VIGIL-DEMO-2026');
    await table.locator('tbody tr button').first().click();
    await page.getByRole('heading', { name: /Exposure of .* by model/ }).waitFor();
    await poll(async () => page.getByRole('table', { name: 'Exposed vehicles' }).locator('tbody tr').count()).toBeGreaterThanOrEqual(1);
    await shot('08-intel');
  });

  it('asks a question and sees the answer table, its chart and the query', async () => {
    await timed('ask', () => page.getByRole('link', { name: 'Ask', exact: true }).click(), "document.querySelector('textarea, input') && document.querySelector('h1')?.textContent === 'Ask'");
    await page.getByLabel('Question', { exact: true }).fill('alerts by make in the last 30 days');
    await timed('askAnswer', () => page.getByRole('button', { name: 'Ask', exact: true }).click(), rowsIn('Answer table'));
    const table = page.getByRole('table', { name: 'Answer table' });
    await poll(async () => table.locator('tbody tr').count()).toBeGreaterThanOrEqual(1);
    expect(await table.textContent()).toContain('Volvo');
    await page.locator('figure.chart .recharts-bar-rectangle').first().waitFor();
    await page.getByText('The query that ran').click();
    await poll(async () => page.locator('.answer pre').last().textContent()).toMatch(/SELECT/i);
    // The viewport only: in a full-page capture the sticky question bar lands over the answer.
    await shot('10-ask', false);
  });

  it('scrolls a queue of 100,000 alerts, drawing only the rows in view and loading pages as it goes', async () => {
    const BULK = 100_000;
    const t0 = Date.now() - 3_600_000;
    const sev = ['low', 'medium', 'high', 'critical'];
    const body = Array.from({ length: BULK }, (_, i) => JSON.stringify({ id: `bulk-${i}`, time: t0 - i * 1000, rule: 'bulk.history', title: `Historical alert ${i}`, severity: sev[i % 4] })).join('\n');
    const res = await fetch(`${vigil.url}/v1/alerts/import?tenant=bulk`, { method: 'POST', headers: { ...bearer(token), 'content-type': 'application/x-ndjson' }, body });
    const report = (await res.json()) as { imported: number };
    expect(res.status, JSON.stringify(report).slice(0, 300)).toBe(200);
    expect(report.imported).toBe(BULK);
    await page.getByLabel('Tenant').fill('bulk');
    await page.getByRole('button', { name: 'Switch', exact: true }).click();
    await page.getByRole('link', { name: 'Alerts', exact: true }).click();
    const filters = page.locator('.filters');
    await poll(async () => filters.textContent()).toContain('100,000 alerts (1,000 loaded)');
    const drawn = async () => page.locator('[data-testid=alert-table] [role=row][aria-rowindex]').count();
    expect(await drawn()).toBeLessThan(100);
    // Scrolled to the bottom (again while waiting, as a reader would: a page request that a
    // refetch overtook on a busy machine is asked for anew by the next scroll).
    const scrolledUntil = async (): Promise<string | null> => {
      await page.locator('.tbody').evaluate(toBottom);
      return filters.textContent();
    };
    const loaded = async (): Promise<number> => Number(/\(([\d,]+) loaded\)/.exec((await scrolledUntil()) ?? '')?.[1]?.replace(/,/g, '') ?? 0);
    await poll(loaded).toBeGreaterThanOrEqual(3000);
    expect((await loaded()) % 1000, 'pages of 1,000').toBe(0);
    expect(await drawn()).toBeLessThan(100);
    await shot('11-alerts-100k', false);
    // Sorting is the server's, over all 100,000: oldest first is the last imported, though only
    // a page of the newest was loaded; by severity, the newest critical one (ties newest first).
    const first = page.locator('[data-testid=alert-table] [role=row][aria-rowindex="2"]');
    await page.getByRole('button', { name: 'Sort by Time' }).click();
    await poll(async () => first.textContent()).toContain('Historical alert 99999');
    expect(await filters.textContent()).toContain('100,000 alerts (1,000 loaded)');
    await page.getByRole('button', { name: 'Sort by Severity' }).click();
    await poll(async () => first.textContent()).toMatch(/critical.*Historical alert 3(?!\d)/);
    expect(await page.getByRole('columnheader', { name: /Severity/ }).getAttribute('aria-sort')).toBe('descending');
    await shot('11-alerts-100k-by-severity', false);
    await page.getByLabel('Tenant').fill(TENANT);
    await page.getByRole('button', { name: 'Switch', exact: true }).click();
    await poll(async () => page.getByLabel('Tenant').inputValue()).toBe(TENANT);
  }, 180_000);

  it('generates the bulletin and previews it', async () => {
    await timed('reports', () => page.getByRole('link', { name: 'Reports', exact: true }).click(), "[...document.querySelectorAll('button')].some((b) => b.textContent === 'Generate')");
    await page.getByRole('button', { name: 'Generate' }).click();
    const frame = page.frameLocator('iframe[title="Bulletin preview"]');
    await poll(async () => frame.locator('body').textContent()).toMatch(/bulletin/i);
    await shot('09-reports');
  });
});
