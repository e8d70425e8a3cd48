/**
 * The embedded system through its front doors: a live simulated fleet streaming through
 * the real pipeline into DuckDB, read back over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVigil, type Vigil } from '../src/api/vigil.js';
import { parseConfig } from '../src/runtime/config.js';
import { apiToken, authedFetch } from './http-helpers.js';

let vigil: Vigil;
let url: string;
/** fetch with an operator admin token (the fleet's tenant is the config default). */
let get: (url: string) => Promise<Response>;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  vigil = await startVigil(
    parseConfig({
      store: { path: ':memory:' },
      http: { port: 0 },
      runtime: { workers: 2 },
      // Ten simulated seconds a second, one malformed message in fifty: the dead-letter path stays busy.
      sources: [{ type: 'simulator', name: 'fleet', vehicles: 200, speed: 10, malformedRate: 0.02 }],
    }),
  );
  url = vigil.url!;
  get = authedFetch(await apiToken(vigil));
});

afterAll(async () => {
  await vigil?.stop();
});

describe('embedded server', () => {
  it('answers /health with ok', async () => {
    const res = await fetch(`${url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', problems: [] });
  });

  it('stores the live fleet and reports rates above zero in /metrics', async () => {
    const metrics = await until('signal rate above zero', async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      const rate = Number(/^vigil_signals_stored_per_second (\S+)$/m.exec(text)?.[1]);
      return rate > 0 ? text : undefined;
    });
    expect(metrics).toMatch(/^# TYPE vigil_signals_stored_total counter$/m);
    expect(Number(/^vigil_messages_received_per_second (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/^vigil_ingest_to_store_latency_ms\{quantile="0.99"\} \d/m);
    expect(metrics).toMatch(/^vigil_inflight_messages \d+$/m);
  });

  it('shows stored counts, the registered fleet and latency in /v1/status', async () => {
    const status = await until('signals, security events and dead letters stored', async () => {
      const s = (await (await get(`${url}/v1/status`)).json()) as { stored: { signals: number; securityEvents: number; deadLetters: number; vehicles: number } };
      return s.stored.signals > 0 && s.stored.securityEvents > 0 && s.stored.deadLetters > 0 ? s : undefined;
    });
    expect(status.stored.vehicles).toBe(200);
    const vehicles = await vigil.store.listVehicles('demo', { limit: 5 });
    expect(vehicles[0]!.make).toBeTruthy();
    expect(vehicles[0]!.software).toBeTruthy();
  });

  it('lists dead letters with reason codes and raw bytes', async () => {
    const body = (await (await get(`${url}/v1/dead-letters?limit=500`)).json()) as { items: { code: string; reason: string; raw: string; source: string }[] };
    expect(body.items.length).toBeGreaterThan(0);
    for (const d of body.items) {
      expect(d.code).toMatch(/^[a-z_]+\.[a-z_]+$/);
      expect(d.reason.length).toBeGreaterThan(5);
      expect(d.raw.length).toBeGreaterThan(0);
      expect(d.source).toBe('sim:fleet');
    }
    const codes = new Set(body.items.map((d) => d.code));
    const filtered = (await (await get(`${url}/v1/dead-letters?code=${[...codes][0]}`)).json()) as { items: { code: string }[] };
    expect(filtered.items.every((d) => d.code === [...codes][0])).toBe(true);
  });

  it('answers an unknown route with a JSON 404, not a stack trace', async () => {
    const res = await fetch(`${url}/v1/nothing-here`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'NotFound', message: 'no route GET /v1/nothing-here' });
  });

  it('asks for a token on the API (401) while health and metrics stay open', async () => {
    const res = await fetch(`${url}/v1/status`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(await res.json()).toMatchObject({ error: 'Unauthorized' });
    expect((await fetch(`${url}/v1/dead-letters`, { headers: { authorization: 'Bearer vgl_not-a-token' } })).status).toBe(401);
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });
});
