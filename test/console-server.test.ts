/**
 * What the web console needs of the server, through the front door of a running Vigil: the
 * console at / (static files, SPA fallback, cache headers, the API untouched), GET /v1/session,
 * GET /v1/rules, and the live alert stream (server-sent events, tenant-scoped, with replay
 * after Last-Event-ID, and its JSON form).
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerConsole } from '../src/adapters/http/console.js';
import { startVigil, type Vigil } from '../src/api/vigil.js';
import { makeVin } from '../src/normalize/vin.js';
import { parseConfig } from '../src/runtime/config.js';
import { apiToken, bearer } from './http-helpers.js';

let vigil: Vigil;
let operator: string;
let tenantA: string;
const T0 = Date.now() - 60_000;
const vin = (i: number) => makeVin({ wmi: 'YV1', vds: 'MV39H', year: 2017, plant: 'G' }, i);

/** Signals that roll an odometer back: one alert (odometer rollback) per call. */
function rollback(i: number, t: number): string {
  return [
    { vin: vin(i), ts: t, seq: 1, signals: { 'Vehicle.TraveledDistance': 120_000 } },
    { vin: vin(i), ts: t + 1000, seq: 2, signals: { 'Vehicle.TraveledDistance': 90_000 } },
  ].map((l) => JSON.stringify(l)).join('\n');
}

async function ingest(tenant: string, body: string): Promise<void> {
  const res = await fetch(`${vigil.url}/v1/ingest/signals?tenant=${tenant}`, { method: 'POST', headers: { ...bearer(operator), 'content-type': 'application/x-ndjson' }, body });
  expect(res.status, await res.text()).toBe(202);
  await vigil.pipeline.drain();
}

/** Reads server-sent events from an open stream until `until` holds or `ms` pass. */
async function readEvents(res: Response, until: (events: { id?: string; event?: string; data: string }[]) => boolean, ms = 20_000) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: { id?: string; event?: string; data: string }[] = [];
  let buf = '';
  const deadline = Date.now() + ms;
  while (!until(events) && Date.now() < deadline) {
    const r = await Promise.race([reader.read(), new Promise<{ done: true; value: undefined }>((ok) => setTimeout(() => ok({ done: true, value: undefined }), deadline - Date.now()))]);
    if (r.done) break;
    buf += r.value;
    let cut: number;
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      const ev: { id?: string; event?: string; data: string } = { data: '' };
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) ev.id = line.slice(4);
        else if (line.startsWith('event: ')) ev.event = line.slice(7);
        else if (line.startsWith('data: ')) ev.data += line.slice(6);
      }
      if (ev.event) events.push(ev);
    }
  }
  await reader.cancel().catch(() => undefined);
  return events;
}

beforeAll(async () => {
  vigil = await startVigil(parseConfig({ tenant: 'a', store: { path: ':memory:' }, http: { port: 0, auth: { enabled: true, adminTokenEnv: 'VIGIL_TEST_CONSOLE_ADMIN' } }, runtime: { workers: 1 } }), { inline: true });
  operator = await apiToken(vigil);
  tenantA = await apiToken(vigil, 'viewer', 'a', 'viewer of a');
});
afterAll(async () => {
  await vigil?.stop();
});

describe('the alert stream', () => {
  it('sends each new alert of the caller\'s tenant as an event, and nothing of another tenant', async () => {
    const res = await fetch(`${vigil.url}/v1/alerts/stream`, { headers: { ...bearer(tenantA), accept: 'text/event-stream' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reading = readEvents(res, (ev) => ev.length >= 1, 20_000);
    await ingest('b', rollback(1, T0));
    await ingest('a', rollback(2, T0));
    const events = await reading;
    expect(events.length).toBeGreaterThanOrEqual(1);
    const alerts = events.map((e) => JSON.parse(e.data) as { id: string; tenant: string; rule: string });
    expect(alerts.every((a) => a.tenant === 'a')).toBe(true);
    expect(events[0]!.event).toBe('alert');
    expect(events[0]!.id).toBe(alerts[0]!.id);
    const stored = await vigil.store.listAlerts({ tenant: 'a', limit: 10 });
    expect(stored.map((a) => a.id)).toContain(alerts[0]!.id);
  });

  it('replays what a client missed after Last-Event-ID, and answers JSON without the event-stream Accept', async () => {
    const json = await fetch(`${vigil.url}/v1/alerts/stream`, { headers: bearer(tenantA) });
    expect(json.status).toBe(200);
    const body = (await json.json()) as { items: { id: string; tenant: string }[] };
    expect(body.items.length).toBeGreaterThanOrEqual(1);
    expect(body.items.every((a) => a.tenant === 'a')).toBe(true);
    const last = body.items[0]!.id;
    await ingest('a', rollback(3, T0 + 5000));
    const res = await fetch(`${vigil.url}/v1/alerts/stream`, { headers: { ...bearer(tenantA), accept: 'text/event-stream', 'last-event-id': last } });
    const events = await readEvents(res, (ev) => ev.length >= 1, 5000);
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(events.map((e) => e.id)).not.toContain(last);
    expect(events.map((e) => (JSON.parse(e.data) as { vehicle: string }).vehicle).length).toBe(events.length);
  });

  it('refuses a tenant token aiming at another tenant, and a request without a token', async () => {
    expect((await fetch(`${vigil.url}/v1/alerts/stream?tenant=b`, { headers: { ...bearer(tenantA), accept: 'text/event-stream' } })).status).toBe(403);
    expect((await fetch(`${vigil.url}/v1/alerts/stream`, { headers: { accept: 'text/event-stream' } })).status).toBe(401);
  });
});

describe('the alert stream at shutdown', () => {
  it('stop() ends the open streams instead of waiting for their clients', async () => {
    const other = await startVigil(parseConfig({ tenant: 'a', store: { path: ':memory:' }, http: { port: 0, auth: { enabled: false } }, runtime: { workers: 1 } }), { inline: true });
    const res = await fetch(`${other.url}/v1/alerts/stream`, { headers: { accept: 'text/event-stream' } });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain('retry: 3000');
    // Without the preClose hook, stop() would wait for this client forever (the test would time out).
    await other.stop();
    let ended = false;
    for (let r = await reader.read(); !r.done; r = await reader.read());
    ended = true;
    expect(ended).toBe(true);
  });
});

describe('session and rules', () => {
  it('GET /v1/session tells who the token is and where it acts', async () => {
    const op = (await (await fetch(`${vigil.url}/v1/session?tenant=b`, { headers: bearer(operator) })).json()) as Record<string, unknown>;
    expect(op).toMatchObject({ role: 'admin', tokenTenant: '*', actingTenant: 'b', operator: true, defaultTenant: 'a' });
    const a = (await (await fetch(`${vigil.url}/v1/session`, { headers: bearer(tenantA) })).json()) as Record<string, unknown>;
    expect(a).toMatchObject({ role: 'viewer', tokenTenant: 'a', actingTenant: 'a', operator: false, name: 'viewer of a' });
  });

  it('GET /v1/rules lists the shipped pack with status and ATM tags, and counts the tenant\'s hits', async () => {
    type Rules = { items: { id: string; status: string; tags: string[]; threatGroups: string[]; alerts: number }[] };
    const get = async () => (await (await fetch(`${vigil.url}/v1/rules`, { headers: bearer(tenantA) })).json()) as Rules;
    // The counts are of alerts the alert pipeline has decided, which it does in the background.
    let body = await get();
    for (let i = 0; i < 100 && body.items.every((r) => r.alerts === 0); i++) {
      await new Promise((r) => setTimeout(r, 100));
      body = await get();
    }
    expect(body.items.filter((r) => r.status === 'enabled').length).toBeGreaterThan(20);
    expect(body.items.some((r) => r.tags.some((t) => /^ATM-T\d{4}$/.test(t)))).toBe(true);
    // Each rule's R155 tags give its threat groups: a rule tagged R155-A5:12.1 is in 4.3.3 (update procedures).
    const tagged = body.items.find((r) => r.tags.includes('R155-A5:12.1'))!;
    expect(tagged.threatGroups).toContain('4.3.3');
    expect(body.items.reduce((n, r) => n + r.alerts, 0)).toBeGreaterThanOrEqual(1);
  });
});

describe('the console at /', () => {
  const root = mkdtempSync(join(tmpdir(), 'vigil-console-'));
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>console</title><div id="root"></div>');
  writeFileSync(join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
  const serve = async (dir: string) => {
    const app = Fastify();
    await registerConsole(app, { root: dir });
    app.get('/v1/thing', async () => ({ ok: true }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const addr = app.server.address() as { port: number };
    return { app, url: `http://127.0.0.1:${addr.port}` };
  };

  it('serves index.html at / and at any page path, hashed assets for a year, and leaves the API alone', async () => {
    const { app, url } = await serve(root);
    try {
      for (const path of ['/', '/incidents/abc', '/vehicles/0123456789abcdef']) {
        const res = await fetch(`${url}${path}`);
        expect(res.status, path).toBe(200);
        expect(res.headers.get('cache-control'), path).toBe('no-cache');
        expect(await res.text()).toContain('<div id="root">');
      }
      const asset = await fetch(`${url}/assets/index-abc123.js`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('cache-control')).toContain('immutable');
      expect((await fetch(`${url}/assets/missing.js`)).status).toBe(404);
      const unknownApi = await fetch(`${url}/v1/nothing-here`);
      expect(unknownApi.status).toBe(404);
      expect(await unknownApi.json()).toMatchObject({ error: 'NotFound' });
      expect(await (await fetch(`${url}/v1/thing`)).json()).toEqual({ ok: true });
    } finally {
      await app.close();
    }
  });

  it('says how to build the console when it is not built', async () => {
    const { app, url } = await serve(join(root, 'nothing'));
    try {
      const res = await fetch(`${url}/`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('npm run build:console');
    } finally {
      await app.close();
    }
  });

  it('the running Vigil serves the built console and keeps /health and /openapi.json', async () => {
    expect((await fetch(`${vigil.url}/health`)).status).toBeLessThan(600);
    expect(((await (await fetch(`${vigil.url}/openapi.json`)).json()) as { paths: Record<string, unknown> }).paths['/v1/alerts/stream']).toBeDefined();
    const res = await fetch(`${vigil.url}/alerts`);
    expect([200, 503]).toContain(res.status);
  });
});
