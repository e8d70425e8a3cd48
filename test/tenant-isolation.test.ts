/**
 * The tenant isolation matrix (issue 5 item 6): no role of tenant A can read or change anything
 * of tenant B, through any route.
 *
 * The routes come from the OpenAPI document (`GET /openapi.json`) plus the hidden ingest routes,
 * so a route added later is covered without editing this file. Path parameters are filled with
 * B's own ids, found by listing B's resources as the operator: `/v1/x/{id}` takes an id from
 * `GET /v1/x?tenant=b`, nested parameters from the nested list. Request bodies are the smallest
 * document the route's schema accepts, with `tenant: "b"` added where the schema allows one.
 *
 * For every route, every role of A, and every way of aiming at B (B's ids in the path,
 * `?tenant=b`, `X-Vigil-Tenant: b`, `tenant` in the body): the answer is a refusal or carries
 * nothing of B (no B id, vehicle key, token id or `"tenant":"b"`), and afterwards B's data and
 * B's audit trail are what they were. Also: no token -> 401 on every route; a viewer changes
 * nothing (403 on every non-GET); an ingest token only ingests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVigil, type Vigil } from '../src/api/vigil.js';
import { ROLES, type Role } from '../src/core/access.js';
import { makeVin } from '../src/normalize/vin.js';
import { parseConfig } from '../src/runtime/config.js';
import { apiToken, bearer } from './http-helpers.js';

const TENANTS = ['a', 'b'] as const;
type Tenant = (typeof TENANTS)[number];
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
/** Routes the OpenAPI document hides on purpose (raw bodies), added by hand. */
const HIDDEN_ROUTES: Route[] = ['signals', 'security', 'logs'].map((k) => ({ method: 'POST', path: `/v1/ingest/${k}`, permissionGuess: 'ingest', body: undefined }));
/** Path parameters that are not resource ids, and the value to use. */
const PARAM_EXAMPLES: Record<string, string> = { kind: 'signals', format: 'json', tag: 'isolation-test' };
/** Bodies for seeding B where the smallest schema-valid document is not enough (rules across fields). */
const SEED_BODIES: Record<string, unknown> = {
  'POST /v1/suppressions': { rule: 'odometer.rollback', days: 7, reason: 'isolation test' },
  'POST /v1/detections': { template: 'ocpp-charging-abuse', vulnerability: { id: 'CVE-2099-0001' } },
  // A listing of alerts with their vehicles: the matrix and the viewer send it too (the smallest schema-valid body asks nothing).
  'POST /v1/ask': { query: { entity: 'alerts', measures: [], limit: 1000 } },
};
/** The body a route is called with: its seed body, else the smallest schema-valid document. */
const bodyOf = (r: { method: string; path: string; body: JsonSchema | undefined }): unknown => SEED_BODIES[`${r.method} ${r.path}`] ?? example(r.body);
/** Keys of answers that change by themselves between two reads (clocks, rates, queues, time buckets up to now). */
const VOLATILE = /(^uptime|At$|^rates$|^latencyMs$|^queues$|^time$|^lastSeen$|Ms$|^problems$|^due|^sla|^age|^from$|^to$|^buckets$)/;

interface Route {
  method: string;
  path: string;
  permissionGuess?: string;
  /** JSON schema of the request body (OpenAPI), if any. */
  body: JsonSchema | undefined;
}
interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  minimum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  minItems?: number;
  maxItems?: number;
  format?: string;
  pattern?: string;
  default?: unknown;
  additionalProperties?: boolean | JsonSchema;
}

let vigil: Vigil;
let operator: string;
const tokens = {} as Record<Tenant, Record<Role, string>>;
const T0 = Date.now() - 120_000;
const vinsOf = (t: Tenant): string[] => Array.from({ length: 4 }, (_, i) => makeVin({ wmi: t === 'a' ? 'YV1' : 'WBA', vds: 'MV39H', year: 2017, plant: 'G' }, i + 1));

async function call(method: string, path: string, opts: { token?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<{ status: number; text: string }> {
  const res = await fetch(`${vigil.url}${path}`, {
    method,
    headers: { ...(opts.token ? bearer(opts.token) : {}), ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
    ...(opts.body !== undefined ? { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) } : {}),
  });
  return { status: res.status, text: await res.text() };
}

async function ingest(t: Tenant): Promise<void> {
  const lines: object[] = [];
  for (const [i, vin] of vinsOf(t).entries()) {
    for (let k = 0; k < 4; k++) lines.push({ vin, ts: T0 + k * 1000, seq: k, signals: { 'Vehicle.Speed': 50 + k + i, 'Vehicle.TraveledDistance': 100_000 + k * 15 } });
    // An odometer rolled back: an alert for every vehicle.
    lines.push({ vin, ts: T0 + 10_000, seq: 10, signals: { 'Vehicle.TraveledDistance': 95_000 } });
  }
  const sig = await call('POST', '/v1/ingest/signals', { token: tokens[t].ingest, headers: { 'content-type': 'application/x-ndjson' }, body: lines.map((l) => JSON.stringify(l)).join('\n') });
  expect(sig.status, sig.text).toBe(202);
  const sec = await call('POST', '/v1/ingest/security', { token: tokens[t].ingest, body: vinsOf(t).map((vin, i) => ({ vin, ts: T0 + 11_000, eventId: 0x8103, sensor: 'gw', seq: 100 + i })) });
  expect(sec.status, sec.text).toBe(202);
}

/** Every route: the OpenAPI document's paths and methods, plus the hidden ingest routes. */
async function routes(): Promise<Route[]> {
  const doc = JSON.parse((await call('GET', '/openapi.json')).text) as { paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: JsonSchema }> } }>> };
  const out: Route[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    if (!path.startsWith('/v1/')) continue;
    for (const m of METHODS) {
      const op = ops[m];
      if (!op) continue;
      out.push({ method: m.toUpperCase(), path, body: op.requestBody?.content?.['application/json']?.schema });
    }
  }
  for (const h of HIDDEN_ROUTES) if (!out.some((r) => r.method === h.method && r.path === h.path)) out.push(h);
  return out;
}

/** The smallest value a schema accepts; objects get `tenant: "b"` where they declare a tenant. */
function example(s: JsonSchema | undefined, depth = 0): unknown {
  if (!s || depth > 6) return {};
  if (s.const !== undefined) return s.const;
  if (s.enum?.length) return s.enum[0];
  if (s.default !== undefined) return s.default;
  const alt = s.anyOf ?? s.oneOf;
  if (alt?.length) return example(alt.find((x) => x.type !== 'null') ?? alt[0], depth + 1);
  if (s.allOf?.length) return Object.assign({}, ...s.allOf.map((x) => example(x, depth + 1) as object));
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (type) {
    case 'object': {
      const o: Record<string, unknown> = {};
      for (const k of s.required ?? []) o[k] = example(s.properties?.[k], depth + 1);
      if (s.properties?.['tenant']) o['tenant'] = 'b';
      return o;
    }
    case 'array':
      // One element at least, so a change route is asked for a real change.
      return Array.from({ length: Math.max(1, s.minItems ?? 0) }, () => example(s.items, depth + 1));
    case 'string':
      if (s.format === 'date-time') return new Date(T0).toISOString();
      return 'isolation-test'.padEnd(s.minLength ?? 0, 'x');
    case 'integer':
    case 'number':
      return Math.max(1, s.minimum ?? 0, (s.exclusiveMinimum ?? 0) + 1);
    case 'boolean':
      return true;
    default:
      return {};
  }
}

/** B's id for each path parameter of `path`, by listing B's resources as the operator; undefined when B has none. */
async function bPathOf(path: string): Promise<string | undefined> {
  const segments = path.split('/');
  const filled: string[] = [];
  for (const seg of segments) {
    const m = /^\{(.+)\}$/.exec(seg);
    if (!m) {
      filled.push(seg);
      continue;
    }
    const name = m[1]!;
    if (PARAM_EXAMPLES[name] !== undefined) {
      filled.push(PARAM_EXAMPLES[name]);
      continue;
    }
    // The list this parameter indexes: the path so far, else the top-level list named after it (`{playbook}` -> /v1/playbooks).
    let list = await call('GET', `${filled.join('/')}?tenant=b&limit=5`, { token: operator });
    if (list.status !== 200) list = await call('GET', `/v1/${name.replace(/Id$/, '')}s?tenant=b&limit=5`, { token: operator });
    if (list.status !== 200) return undefined;
    const body = JSON.parse(list.text) as { items?: Record<string, unknown>[] } | Record<string, unknown>[];
    const items = Array.isArray(body) ? body : (body.items ?? []);
    const id = items.map((it) => it[name] ?? it['id']).find((v) => typeof v === 'string' || typeof v === 'number');
    if (id === undefined) return undefined;
    filled.push(encodeURIComponent(String(id)));
  }
  return filled.join('/');
}

/** The parsed JSON of an answer, or undefined for a document that is not JSON (HTML, PDF). */
function asJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The ids and vehicle keys the operator lists for tenant `t`. */
async function listedIds(t: Tenant): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const r of await routes()) {
    if (r.method !== 'GET' || r.path.includes('{')) continue;
    const res = await call('GET', `${r.path}?tenant=${t}&limit=100`, { token: operator });
    const body = res.status === 200 ? asJson(res.text) as { items?: Record<string, unknown>[] } | undefined : undefined;
    if (!body) continue;
    for (const it of body.items ?? []) {
      for (const k of ['id', 'vehicle', 'incidentId', 'alertId']) {
        const v = it[k];
        if (typeof v === 'string' && v.length >= 8) ids.add(v);
      }
    }
  }
  return ids;
}

/**
 * Everything that would show B's data leaked: its ids, vehicle keys and token ids, found by the
 * operator. An id A lists as its own too (a shipped playbook every tenant has) shows nothing of B.
 */
async function bMarkers(): Promise<string[]> {
  const own = await listedIds('a');
  const markers = new Set<string>(['"tenant":"b"', ...[...(await listedIds('b'))].filter((id) => !own.has(id))]);
  for (const t of await vigil.tokens.list({ tenant: 'b' })) markers.add(t.id);
  return [...markers];
}

/** What B holds, as the operator reads it through every parameterless list, minus what changes by itself. */
function bSnapshot(): Promise<Record<string, unknown>> {
  return tenantSnapshot('b');
}

/** What tenant `t` holds, as the operator reads it through every parameterless list, minus what changes by itself. */
async function tenantSnapshot(t: Tenant): Promise<Record<string, unknown>> {
  const snap: Record<string, unknown> = {};
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => !VOLATILE.test(k)).map(([k, x]) => [k, strip(x)]));
    return v;
  };
  for (const r of await routes()) {
    if (r.method !== 'GET' || r.path.includes('{') || r.path === '/v1/audit/verify') continue;
    const res = await call('GET', `${r.path}?tenant=${t}&limit=1000`, { token: operator });
    // A document (the bulletin: HTML) carries its generation time; its status stands for it.
    const body = res.status === 200 ? asJson(res.text) : undefined;
    snap[r.path] = body === undefined ? res.status : strip(body);
  }
  snap['store counts'] = await vigil.store.counts(t);
  snap[`audit entries of ${t}`] = await vigil.audit.count({ tenant: t });
  snap[`tokens of ${t}`] = (await vigil.tokens.list({ tenant: t })).map((k) => [k.id, k.revokedAt ?? null]);
  return snap;
}

beforeAll(async () => {
  vigil = await startVigil(parseConfig({ tenant: 'a', store: { path: ':memory:' }, http: { port: 0, auth: { enabled: true, adminTokenEnv: 'VIGIL_TEST_ISOLATION_ADMIN' } }, runtime: { workers: 1 } }), { inline: true });
  operator = await apiToken(vigil);
  for (const t of TENANTS) {
    tokens[t] = {} as Record<Role, string>;
    for (const role of ROLES) tokens[t][role] = await apiToken(vigil, role, t, `${role} of ${t}`);
    await vigil.pipeline.registerVehicles(t, vinsOf(t).map((vin, i) => ({ vin, make: t === 'a' ? 'Volvo' : 'BMW', model: 'V40', year: 2017, region: 'EU', software: { TCU: `4.1.${i}` } })));
    await ingest(t);
  }
  await vigil.pipeline.drain();
  for (let i = 0; i < 100 && (await vigil.store.listAlerts({ tenant: 'b', limit: 1 })).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  // B gets something of every kind a route makes (suppressions, comments, tags, links, ...): every
  // creating route called once by the operator for B, with the smallest body its schema takes.
  for (const r of await routes()) {
    if ((r.method !== 'POST' && r.method !== 'PUT') || r.path.startsWith('/v1/ingest/') || r.path.endsWith('/import')) continue;
    const path = await bPathOf(r.path);
    if (path) await call(r.method, `${path}?tenant=b`, { token: operator, body: SEED_BODIES[`${r.method} ${r.path}`] ?? example(r.body) });
  }
}, 120_000);
afterAll(async () => {
  await vigil?.stop();
});

describe('tenant isolation matrix', () => {
  it('has data of both tenants to leak: vehicles, alerts, security events, tokens', async () => {
    for (const t of TENANTS) {
      const c = await vigil.store.counts(t);
      expect(c.vehicles, t).toBe(4);
      expect(c.alerts, t).toBeGreaterThan(0);
      expect(c.securityEvents, t).toBe(4);
    }
    const all = await routes();
    console.log(`isolation matrix: ${all.length} routes: ${all.map((r) => `${r.method} ${r.path}`).join(', ')}`);
    expect(all.length).toBeGreaterThanOrEqual(10);
  });

  it('answers 401 on every route without a token, or with a token that does not exist', async () => {
    const wrong: string[] = [];
    for (const r of await routes()) {
      const path = r.path.replace(/\{[^}]+\}/g, 'x');
      for (const token of [undefined, 'vgl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']) {
        const res = await call(r.method, path, { ...(token ? { token } : {}), body: r.method === 'GET' || r.method === 'DELETE' ? undefined : example(r.body) });
        if (res.status !== 401) wrong.push(`${r.method} ${r.path} ${token ? 'unknown token' : 'no token'}: ${res.status}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("no role of tenant A reads or changes anything of tenant B, on any route, however it aims at B", { timeout: 600_000 }, async () => {
    const markers = await bMarkers();
    expect(markers.length).toBeGreaterThan(8);
    const before = await bSnapshot();
    const all = await routes();
    const leaks: string[] = [];
    let calls = 0;
    const aimedWithIds: string[] = [];
    const operatorSees: string[] = [];
    for (const r of all) {
      const bPath = await bPathOf(r.path);
      if (bPath && r.path.includes('{')) aimedWithIds.push(`${r.method} ${r.path}`);
      // The control: the operator, asking for B, does see B's data here, so the markers would catch a leak.
      if (r.method === 'GET' && bPath) {
        const seen = await call('GET', `${bPath}?tenant=b`, { token: operator });
        if (seen.status === 200 && markers.some((m) => seen.text.includes(m))) operatorSees.push(r.path);
      }
      const plain = r.path.replace(/\{[^}]+\}/g, (m) => PARAM_EXAMPLES[m.slice(1, -1)] ?? 'zzzzzzzzzzzzzzzz');
      const aims: { how: string; path: string; headers?: Record<string, string> }[] = [
        ...(bPath ? [{ how: "B's ids in the path", path: bPath }, { how: "B's ids and ?tenant=b", path: `${bPath}?tenant=b` }] : []),
        { how: '?tenant=b', path: `${plain}?tenant=b` },
        { how: 'X-Vigil-Tenant: b', path: bPath ?? plain, headers: { 'x-vigil-tenant': 'b' } },
      ];
      for (const role of ROLES) {
        for (const aim of aims) {
          const body = r.method === 'GET' || r.method === 'DELETE' ? undefined : r.path.startsWith('/v1/ingest/') ? ingestBody() : r.path === '/v1/ask' ? bodyOf(r) : example(r.body);
          const res = await call(r.method, aim.path, { token: tokens.a[role], ...(aim.headers ? { headers: aim.headers } : {}), ...(body !== undefined ? { body } : {}) });
          calls++;
          const where = `${role} of a: ${r.method} ${aim.path} (${aim.how}) -> ${res.status}`;
          if (res.status === 401 || res.status >= 500) leaks.push(`${where}: ${res.text.slice(0, 200)}`);
          if (res.status < 300) {
            const hit = markers.find((m) => res.text.includes(m));
            if (hit) leaks.push(`${where} shows ${hit}: ${res.text.slice(0, 200)}`);
          }
        }
      }
    }
    expect(leaks).toEqual([]);
    expect(await bSnapshot()).toEqual(before);
    expect(aimedWithIds).toEqual(expect.arrayContaining(['GET /v1/vehicles/{id}', 'GET /v1/vehicles/{id}/timeline', 'DELETE /v1/tokens/{id}']));
    const notAimed = all.filter((r) => r.path.includes('{') && !aimedWithIds.includes(`${r.method} ${r.path}`)).map((r) => `${r.method} ${r.path}`);
    if (notAimed.length) console.log(`isolation matrix: B has nothing to aim at for ${notAimed.join(', ')} (aimed with ?tenant=b and the header only)`);
    expect(operatorSees).toEqual(expect.arrayContaining(['/v1/vehicles', '/v1/vehicles/{id}', '/v1/tokens', '/v1/alerts', '/v1/incidents']));
    console.log(`isolation matrix: aimed with B's ids: ${aimedWithIds.join(', ')}; the operator sees B's data on ${operatorSees.length} GET routes`);
    console.log(`isolation matrix: ${all.length} routes x ${ROLES.length} roles of tenant a, ${calls} calls aimed at tenant b; nothing of b shown or changed`);
  });

  it('a viewer changes nothing: every route but GET answers 403, or (a query sent as POST) changes and audits nothing', async () => {
    const wrong: string[] = [];
    const reads: string[] = [];
    const before = await tenantSnapshot('a');
    for (const r of await routes()) {
      if (r.method === 'GET') continue;
      const path = r.path.replace(/\{[^}]+\}/g, (m) => PARAM_EXAMPLES[m.slice(1, -1)] ?? 'zzzzzzzzzzzzzzzz');
      const audited = await vigil.audit.count({});
      const res = await call(r.method, path, { token: tokens.a.viewer, ...(r.method !== 'DELETE' ? { body: r.path.startsWith('/v1/ingest/') ? ingestBody() : r.path === '/v1/ask' ? bodyOf(r) : example(r.body) } : {}) });
      if (res.status === 403) continue;
      if (res.status < 300 && r.method === 'POST' && (await vigil.audit.count({})) === audited) reads.push(`${r.method} ${r.path}`);
      else wrong.push(`${r.method} ${r.path}: ${res.status} ${res.text.slice(0, 120)}`);
    }
    expect(wrong).toEqual([]);
    expect(await tenantSnapshot('a')).toEqual(before);
    if (reads.length) console.log(`isolation matrix: viewers may use ${reads.join(', ')} (reads sent as POST: nothing changed, nothing audited)`);
  });

  it('an ingest token only ingests: 403 everywhere else, and ingests into its own tenant only', async () => {
    const wrong: string[] = [];
    for (const r of await routes()) {
      if (r.path.startsWith('/v1/ingest/')) continue;
      const path = r.path.replace(/\{[^}]+\}/g, (m) => PARAM_EXAMPLES[m.slice(1, -1)] ?? 'zzzzzzzzzzzzzzzz');
      const res = await call(r.method, path, { token: tokens.a.ingest, ...(r.method !== 'GET' && r.method !== 'DELETE' ? { body: example(r.body) } : {}) });
      if (res.status !== 403) wrong.push(`${r.method} ${r.path}: ${res.status}`);
    }
    expect(wrong).toEqual([]);
    const before = (await vigil.store.counts('a')).signals;
    const own = await call('POST', '/v1/ingest/signals', { token: tokens.a.ingest, headers: { 'content-type': 'application/x-ndjson' }, body: ingestBody() });
    expect(own.status).toBe(202);
    await vigil.pipeline.drain();
    expect((await vigil.store.counts('a')).signals).toBe(before + 1);
    expect((await call('POST', '/v1/ingest/signals?tenant=b', { token: tokens.a.ingest, headers: { 'content-type': 'application/x-ndjson' }, body: ingestBody() })).status).toBe(403);
  });
});

let ingestSeq = 1000;
/** One valid signal record for an ingest body (into A when the request is allowed at all). */
function ingestBody(): string {
  return JSON.stringify({ vin: vinsOf('a')[0], ts: T0 + 20_000 + ingestSeq, seq: ingestSeq++, signals: { 'Vehicle.Speed': 42 } });
}
