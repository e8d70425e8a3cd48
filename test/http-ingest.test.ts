/**
 * HTTP batch ingest through its front door: real requests against the composed server
 * (pipeline, lanes, DuckDB), answers checked against what the store then holds.
 */
import { gzipSync } from 'node:zlib';
import { encode } from '@msgpack/msgpack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBStore } from '../src/adapters/duckdb/duckdb-store.js';
import { registerIngest } from '../src/adapters/http/ingest.js';
import { buildHttpServer } from '../src/adapters/http/server.js';
import { startVigil, type Vigil } from '../src/api/vigil.js';
import { systemClock } from '../src/core/clock.js';
import type { Store } from '../src/core/store.js';
import { DEFAULT_POLICY } from '../src/normalize/policy.js';
import { makeVin } from '../src/normalize/vin.js';
import { parseConfig } from '../src/runtime/config.js';
import { Pipeline } from '../src/runtime/pipeline.js';
import { defaultCatalog } from '../src/sim/default-catalog.js';
import { apiToken, bearer, gzipBomb } from './http-helpers.js';
import { gated, until } from './ingest-helpers.js';

const VIN = makeVin({ wmi: '5YJ', vds: '3E1EA', year: 2022, plant: 'F' }, 4242);
const now = Date.now();
const signals = (i: number, vin = VIN): Record<string, unknown> => ({ vin, ts: now - 10_000 + i, signals: { 'Vehicle.Speed': i % 200 } });
const security = (i: number): Record<string, unknown> => ({ vin: VIN, ts: now - 5000 + i, eventId: 0x8001, sensor: 'CanGatewayIds', count: 1, seq: i });
const ndjson = (lines: unknown[]): string => lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n';

interface Answer {
  status: number;
  retryAfter: string | null;
  body: { accepted?: number; rejected?: number; errors?: { index: number; line?: number; code: string; reason: string }[]; error?: string; message?: string; retryFrom?: number };
}

/** The Authorization header of the server under test: an operator token, which names the tenant per request. */
let auth: Record<string, string> = {};

async function post(url: string, path: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', ...auth, ...headers }, body });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Answer['body'] };
}

describe('HTTP ingest', () => {
  let vigil: Vigil;
  let url: string;
  beforeAll(async () => {
    vigil = await startVigil(parseConfig({ tenant: 'acme', store: { path: ':memory:' }, http: { port: 0, ingest: { maxBodyBytes: 256 * 1024, maxRecords: 500 } }, runtime: { workers: 1 } }), { inline: true });
    url = vigil.url!;
    auth = bearer(await apiToken(vigil));
  });
  afterAll(async () => {
    await vigil?.stop();
  });

  it('takes one JSON object and answers 202 once it is stored', async () => {
    const r = await post(url, '/v1/ingest/security?tenant=fleet-a', JSON.stringify(security(1)), { 'content-type': 'application/json' });
    expect(r).toMatchObject({ status: 202, body: { accepted: 1, rejected: 0, errors: [] } });
    const stored = await vigil.store.listSecurityEvents({ tenant: 'fleet-a', limit: 10 });
    expect(stored).toHaveLength(1);
    expect(stored[0]!.source).toBe('http');
  });

  it('takes a JSON array, each element a record, with rows in the store at the 202', async () => {
    const before = (await vigil.store.counts('fleet-b')).signals;
    const r = await post(url, '/v1/ingest/signals', JSON.stringify(Array.from({ length: 50 }, (_, i) => signals(i))), { 'content-type': 'application/json; charset=utf-8', 'x-vigil-tenant': 'fleet-b' });
    expect(r).toMatchObject({ status: 202, body: { accepted: 50, rejected: 0 } });
    expect((await vigil.store.counts('fleet-b')).signals - before).toBe(50);
  });

  it('takes NDJSON; unframeable lines are 202-partial, listed by line, and dead-lettered with raw bytes', async () => {
    const body = ndjson([signals(1), '{"vin": broken', '', signals(2), '[1,2]', '"a string"']);
    const r = await post(url, '/v1/ingest/signals?tenant=fleet-c', body);
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ accepted: 2, rejected: 3 });
    expect(r.body.errors!.map((e) => [e.line, e.code])).toEqual([[2, 'json.malformed'], [5, 'json.not_object'], [6, 'json.not_object']]);
    const dead = await vigil.store.listDeadLetters({ tenant: 'fleet-c', limit: 10 });
    expect(dead.map((d) => Buffer.from(d.raw).toString()).sort()).toEqual(['"a string"', '[1,2]', '{"vin": broken']);
    expect(dead.every((d) => d.source === 'http' && d.kind === 'signals')).toBe(true);
    expect((await vigil.store.counts('fleet-c')).signals).toBe(2);
  });

  it('answers 400 with per-record reasons when no record can be framed, and keeps them all', async () => {
    const r = await post(url, '/v1/ingest/logs?tenant=fleet-d', Buffer.concat([Buffer.from('nope\n'), Buffer.from([0xff, 0xfe, 0x0a]), Buffer.from('{"a":1')]));
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: 'NoRecordAccepted', accepted: 0, rejected: 3 });
    expect(r.body.errors!.map((e) => e.code)).toEqual(['json.malformed', 'message.encoding', 'json.malformed']);
    expect((await vigil.store.counts('fleet-d')).deadLetters).toBe(3);
  });

  it('counts records a lane refuses later (bad VIN) as accepted; the lane dead-letters them', async () => {
    const r = await post(url, '/v1/ingest/signals?tenant=fleet-e', ndjson([signals(1), signals(2, 'NOT-A-VIN'), { vin: VIN, ts: now, signals: { 'Vehicle.Warp.Drive': 9 } }]));
    expect(r).toMatchObject({ status: 202, body: { accepted: 3, rejected: 0 } });
    const codes = (await vigil.store.listDeadLetters({ tenant: 'fleet-e', limit: 10 })).map((d) => d.code).sort();
    expect(codes).toEqual(['signal.unknown', 'vin.invalid']);
  });

  it('takes logs into the API event store', async () => {
    const r = await post(url, '/v1/ingest/logs?tenant=fleet-f', ndjson([{ ts: now, service: 'telematics', endpoint: '/v1/unlock', status: 200 }]));
    expect(r.status).toBe(202);
    expect(await vigil.store.listApiEvents({ tenant: 'fleet-f', limit: 5 })).toHaveLength(1);
  });

  it('accepts gzip, and dead-letters a gzip body that does not decompress', async () => {
    const good = await post(url, '/v1/ingest/signals?tenant=fleet-g', gzipSync(ndjson([signals(1), signals(2), signals(3)])), { 'content-encoding': 'gzip' });
    expect(good).toMatchObject({ status: 202, body: { accepted: 3 } });
    const truncated = gzipSync(ndjson([signals(4)])).subarray(0, 20);
    const bad = await post(url, '/v1/ingest/signals?tenant=fleet-g', truncated, { 'content-encoding': 'gzip' });
    expect(bad).toMatchObject({ status: 400, body: { rejected: 1, errors: [{ code: 'body.gzip' }] } });
    const dead = await vigil.store.listDeadLetters({ tenant: 'fleet-g', limit: 5 });
    expect(dead.map((d) => d.code)).toEqual(['body.gzip']);
    expect(Buffer.from(dead[0]!.raw).equals(Buffer.from(truncated))).toBe(true);
  });

  it('refuses bodies past the limit with 413, as sent or decompressed (gzip bomb)', async () => {
    const big = await post(url, '/v1/ingest/signals', 'x'.repeat(300 * 1024));
    expect(big).toMatchObject({ status: 413, body: { error: 'PayloadTooLarge' } });
    expect(big.body.message).toMatch(/262144 bytes/);
    const bomb = gzipSync(Buffer.alloc(64 << 20, 0x20));
    expect(bomb.length).toBeLessThan(256 * 1024);
    const r = await post(url, '/v1/ingest/signals', bomb, { 'content-encoding': 'gzip' });
    expect(r).toMatchObject({ status: 413, body: { error: 'PayloadTooLarge' } });
    expect(r.body.message).toMatch(/decompressed/);
  });

  it('refuses more records than maxRecords with 413, other media types and codings with 415', async () => {
    const many = await post(url, '/v1/ingest/signals', ndjson(Array.from({ length: 501 }, (_, i) => signals(i))));
    expect(many).toMatchObject({ status: 413, body: { error: 'TooManyRecords' } });
    expect((await post(url, '/v1/ingest/signals', 'a,b', { 'content-type': 'text/csv' })).status).toBe(415);
    expect((await post(url, '/v1/ingest/signals', 'x', { 'content-encoding': 'br' })).status).toBe(415);
  });

  it('keeps the first bytes of a request refused whole (413, 415, unknown kind) as one dead letter', async () => {
    const big = 'y'.repeat(300 * 1024);
    expect((await post(url, '/v1/ingest/signals?tenant=kept-a', big)).status).toBe(413);
    expect((await post(url, '/v1/ingest/signals?tenant=kept-a', ndjson(Array.from({ length: 501 }, (_, i) => signals(i))))).status).toBe(413);
    expect((await post(url, '/v1/ingest/security?tenant=kept-a', 'a,b\n1,2', { 'content-type': 'text/csv' })).status).toBe(415);
    expect((await post(url, '/v1/ingest/logs?tenant=kept-a', 'zzz', { 'content-encoding': 'br' })).status).toBe(415);
    // A Content-Type the server cannot even parse is refused the same way.
    const unparsable = await post(url, '/v1/ingest/signals?tenant=kept-e', 'q', { 'content-type': 'a/b/c' });
    expect(unparsable).toMatchObject({ status: 415, body: { error: 'UnsupportedMediaType' } });
    expect(await vigil.store.listDeadLetters({ tenant: 'kept-e', limit: 5 })).toMatchObject([{ code: 'body.media_type', kind: 'signals', raw: new TextEncoder().encode('q') }]);
    const wrongKind = await post(url, '/v1/ingest/telemetry?tenant=kept-a', ndjson([signals(1)]));
    expect(wrongKind).toMatchObject({ status: 404, body: { error: 'NotFound' } });
    expect(wrongKind.body.message).toMatch(/\/v1\/ingest\/telemetry.*signals/);
    const dead = new Map((await vigil.store.listDeadLetters({ tenant: 'kept-a', limit: 10 })).map((d) => [d.code, d]));
    expect([...dead.keys()].sort()).toEqual(['body.content_encoding', 'body.media_type', 'body.too_large', 'body.too_many_records', 'path.invalid']);
    // The first bytes up to the limit, as sent.
    expect(dead.get('body.too_large')!.raw.length).toBe(256 * 1024);
    expect(dead.get('body.too_large')!.reason).toMatch(/exceeds the ingest limit of 262144 bytes/);
    expect(Buffer.from(dead.get('body.media_type')!.raw).toString()).toBe('a,b\n1,2');
    expect(dead.get('body.media_type')).toMatchObject({ kind: 'security', source: 'http' });
    expect(dead.get('body.content_encoding')).toMatchObject({ kind: 'log', raw: new TextEncoder().encode('zzz') });
    expect(dead.get('path.invalid')).toMatchObject({ kind: 'unknown' });
    expect(JSON.parse(Buffer.from(dead.get('path.invalid')!.raw).toString())).toMatchObject({ vin: VIN });
  });

  it('keeps the first bytes of a body whose Content-Length is past the limit, reading no more than it keeps', async () => {
    const body = Buffer.alloc(2 << 20, 0x7a);
    const r = await post(url, '/v1/ingest/signals?tenant=kept-b', body);
    expect(r).toMatchObject({ status: 413, body: { error: 'PayloadTooLarge' } });
    expect(r.body.message).toMatch(/Content-Length 2097152/);
    const [d] = await vigil.store.listDeadLetters({ tenant: 'kept-b', limit: 5 });
    expect(d).toMatchObject({ code: 'body.too_large', kind: 'signals' });
    expect(d!.raw.length).toBe(256 * 1024);
  });

  it('answers 405 with Allow: POST for other methods on an ingest path, keeping nothing', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await fetch(`${url}/v1/ingest/signals?tenant=kept-c`, { method, headers: auth, ...(method === 'PUT' ? { body: ndjson([signals(1)]) } : {}) });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow')).toBe('POST');
      await res.body?.cancel();
    }
    expect((await vigil.store.counts('kept-c')).deadLetters).toBe(0);
  });

  it('takes one MessagePack record per body, and answers 400 for a body that is not a MessagePack map', async () => {
    const ok = await post(url, '/v1/ingest/signals?tenant=fleet-m', encode({ vin: VIN, ts: now - 1000, samples: { paths: ['Vehicle.Speed'], p: [0, 0], t: [0, 10], v: [5, 6] } }), { 'content-type': 'application/msgpack' });
    expect(ok).toMatchObject({ status: 202, body: { accepted: 1, rejected: 0 } });
    expect((await vigil.store.counts('fleet-m')).signals).toBe(2);
    const bad = await post(url, '/v1/ingest/signals?tenant=fleet-m', encode([1, 2, 3]), { 'content-type': 'application/vnd.msgpack' });
    expect(bad).toMatchObject({ status: 400, body: { rejected: 1, errors: [{ code: 'msgpack.not_map' }] } });
    const junk = await post(url, '/v1/ingest/signals?tenant=fleet-m', Buffer.from([0xc1, 0x00, 0xff]), { 'content-type': 'application/msgpack' });
    expect(junk).toMatchObject({ status: 400, body: { errors: [{ code: 'msgpack.malformed' }] } });
    expect((await vigil.store.listDeadLetters({ tenant: 'fleet-m', limit: 5 })).map((d) => d.code).sort()).toEqual(['msgpack.malformed', 'msgpack.not_map']);
  });

  it('refuses a bad tenant, and an empty body', async () => {
    expect(await post(url, '/v1/ingest/signals?tenant=Bad%20Tenant', ndjson([signals(1)]))).toMatchObject({ status: 400, body: { error: 'InvalidTenant' } });
    expect(await post(url, '/v1/ingest/signals?tenant=a', ndjson([signals(1)]), { 'x-vigil-tenant': 'b' })).toMatchObject({ status: 400, body: { error: 'TenantConflict' } });
    expect(await post(url, '/v1/ingest/signals', '\n\n')).toMatchObject({ status: 400, body: { error: 'EmptyBody' } });
  });
});

describe('HTTP ingest with the default limits', () => {
  let vigil: Vigil;
  beforeAll(async () => {
    vigil = await startVigil(parseConfig({ tenant: 'acme', store: { path: ':memory:' }, http: { port: 0 }, runtime: { workers: 1 } }), { inline: true });
    auth = bearer(await apiToken(vigil));
  });
  afterAll(async () => {
    await vigil?.stop();
  });

  it('refuses a gzip bomb of 5 GiB with 413 after inflating no more than the 16 MiB limit', async () => {
    // About 5 MB on the wire, within the default 16 MiB body limit.
    const bomb = gzipBomb(5120);
    expect(bomb.length).toBeLessThan(16 << 20);
    const peakBefore = process.resourceUsage().maxRSS;
    const r = await post(vigil.url!, '/v1/ingest/signals', bomb, { 'content-encoding': 'gzip' });
    expect(r).toMatchObject({ status: 413, body: { error: 'PayloadTooLarge' } });
    expect(r.body.message).toMatch(/decompressed body exceeds the ingest limit of 16777216 bytes/);
    // Inflating it whole would have held gigabytes; the peak grows by far less than that (kB).
    expect(process.resourceUsage().maxRSS - peakBefore).toBeLessThan(512 * 1024);
    const [d] = await vigil.store.listDeadLetters({ code: 'body.too_large', limit: 1 });
    expect(Buffer.from(d!.raw).equals(bomb.subarray(0, 1 << 20))).toBe(true);
  });
});

describe('HTTP ingest under backpressure (a pipeline of one message)', () => {
  const MAX_WAIT_MS = 1000;
  let url: string;
  let gate: ReturnType<typeof gated>;
  let store: Store;
  let pipeline: Pipeline;
  let stop: () => Promise<void>;
  beforeAll(async () => {
    store = await DuckDBStore.open({ path: ':memory:' });
    const catalog = defaultCatalog(await store.signalDictionary());
    gate = gated(store);
    const runtime = parseConfig({ runtime: { workers: 1, maxInFlightPerWorker: 1, handoffBatch: 1 } }).runtime;
    pipeline = new Pipeline({ store: gate.store, catalog, clock: systemClock, policy: DEFAULT_POLICY, secret: 'ingest-test-secret', ...runtime, inline: true });
    await pipeline.start();
    const app = await buildHttpServer({ store, pipeline, version: 'test', startedAt: Date.now() });
    // MAX_WAIT_MS: a batch of 4 goes through this pipeline of one message in 4 store writes, which
    // under load (parallel test files) can take longer than a short wait.
    registerIngest(app, { pipeline, defaultTenant: 'acme', maxBodyBytes: 1 << 20, maxRecords: 100, maxWaitMs: MAX_WAIT_MS, retryAfterS: 2 });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    stop = async () => {
      gate.open();
      await app.close();
      await pipeline.stop();
      await store.close();
    };
  });
  afterAll(async () => {
    await stop?.();
  });

  it('answers 202 only once the rows are stored, and 503 + Retry-After while full, taking nothing', async () => {
    gate.close();
    let answered = false;
    const first = post(url, '/v1/ingest/signals', ndjson([signals(1)])).then((r) => ((answered = true), r));
    await new Promise((r) => setTimeout(r, 150));
    expect(answered).toBe(false);
    const refused = await post(url, '/v1/ingest/signals', ndjson([signals(2)]));
    expect(refused).toMatchObject({ status: 503, retryAfter: '2', body: { error: 'BackpressureError' } });
    expect((await store.counts('acme')).signals).toBe(0);
    gate.open();
    expect(await first).toMatchObject({ status: 202, body: { accepted: 1 } });
    expect((await store.counts('acme')).signals).toBe(1);
  });

  it('waits for room within a batch, and past maxWaitMs answers 503 with what was taken and retryFrom', async () => {
    const ok = await post(url, '/v1/ingest/signals?tenant=batch', ndjson([signals(1), signals(2), signals(3), signals(4)]));
    expect(ok).toMatchObject({ status: 202, body: { accepted: 4 } });
    gate.close();
    const refusedBefore = pipeline.metrics.get('vigil_backpressure_total');
    const pending = post(url, '/v1/ingest/signals?tenant=stuck', ndjson([signals(1), 'bad line', signals(2), signals(3)]));
    // Once the batch has met the full pipeline, its MAX_WAIT_MS wait runs out before this longer one (same process, timers in order).
    await until('the batch to meet a full pipeline', () => (pipeline.metrics.get('vigil_backpressure_total') > refusedBefore ? true : undefined));
    await new Promise((r) => setTimeout(r, MAX_WAIT_MS + 100));
    gate.open();
    const r = await pending;
    expect(r).toMatchObject({ status: 503, retryAfter: '2', body: { accepted: 1, rejected: 1, retryFrom: 2 } });
    expect((await store.counts('stuck')).signals).toBe(1);
    expect((await store.counts('stuck')).deadLetters).toBe(1);
  });
});
