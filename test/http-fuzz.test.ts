/**
 * Fuzz through the real HTTP server: 100,000 malformed inputs — 95,000 malformed records
 * (truncated, wrong types, binary garbage, wrong text encodings, not objects, too large)
 * batched in NDJSON, gzip NDJSON and JSON-array bodies with valid records mixed in, and
 * 5,000 malformed requests (bad gzip, gzip bombs, bodies past the limits, wrong media types
 * and codings, bad paths, bodies that are not JSON or MessagePack). Every answer has the
 * status the README documents, every malformed input ends as exactly one dead letter with a
 * reason, every valid record is stored: in = stored + dead-lettered. Refusals that keep
 * nothing by design (405, a bad tenant, an empty body) are sent too, and keep nothing.
 */
import { gzipSync } from 'node:zlib';
import { encode } from '@msgpack/msgpack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVigil, type Vigil } from '../src/api/vigil.js';
import type { RecordKind } from '../src/core/records.js';
import { MAX_MESSAGE_BYTES } from '../src/decode/json.js';
import { parseConfig } from '../src/runtime/config.js';
import { garbage, malformedRecord, validRecord, type FuzzRecord } from './fuzz-inputs.js';
import { apiToken, bearer, gzipBomb } from './http-helpers.js';
import { prng } from './ingest-helpers.js';

const TENANT = 'acme';
const RECORDS = 95_000;
const REQUESTS = 5000;
/** Every VALID_EVERY-th record of a body is valid (not counted in RECORDS). */
const VALID_EVERY = 50;
const PER_BODY = 4000;
const MAX_BODY = 4 << 20;
const MAX_RECORDS = 5000;
const PATHS: Record<RecordKind, string> = { signals: 'signals', security: 'security', log: 'logs' };

interface Req {
  readonly path: string;
  readonly method?: string;
  readonly headers: Record<string, string>;
  readonly body?: Uint8Array | string;
  readonly status: number;
  /** Records in the body and those refused by framing (checked against the answer's counts). */
  readonly records?: number;
  readonly rejected?: number;
  /** The dead letter a request refused whole leaves. */
  readonly code?: string;
}

interface Expected {
  malformed: number;
  valid: Record<RecordKind, number>;
  /** Codes of dead letters written before the lanes, with their counts. */
  early: Map<string, number>;
}

const ndjsonType = { 'content-type': 'application/x-ndjson' };
const count = (e: Expected, code: string, n = 1): void => void e.early.set(code, (e.early.get(code) ?? 0) + n);

/** The record bodies: each kind's records in NDJSON (some gzip) and JSON-array bodies, valid ones mixed in. */
function recordRequests(rnd: () => number, e: Expected): Req[] {
  const buckets: Record<RecordKind, FuzzRecord[]> = { signals: [], security: [], log: [] };
  const arrays: Record<RecordKind, FuzzRecord[]> = { signals: [], security: [], log: [] };
  for (let i = 0; i < RECORDS - 8; i++) {
    const r = malformedRecord(i, rnd);
    (r.json && rnd() < 0.3 ? arrays : buckets)[r.kind].push(r);
  }
  const reqs: Req[] = [];
  let seq = 0;
  const line = (r: FuzzRecord): Buffer => Buffer.from(r.payload);
  for (const kind of ['signals', 'security', 'log'] as const) {
    for (const [pool, format] of [[buckets[kind], 'ndjson'], [arrays[kind], 'json']] as const) {
      for (let at = 0; at < pool.length; at += PER_BODY) {
        const chunk = pool.slice(at, at + PER_BODY);
        const parts: Buffer[] = [];
        let rejected = 0;
        for (let j = 0; j < chunk.length; j++) {
          const r = chunk[j]!;
          parts.push(line(r));
          e.malformed++;
          if (r.frameCode) {
            rejected++;
            count(e, r.frameCode);
          }
          if (j % (VALID_EVERY - 1) === VALID_EVERY - 2) {
            parts.push(Buffer.from(validRecord(kind, seq++)));
            e.valid[kind]++;
          }
        }
        const records = parts.length;
        if (format === 'json') {
          reqs.push({ path: `/v1/ingest/${PATHS[kind]}`, headers: { 'content-type': 'application/json' }, body: `[${parts.map((p) => p.toString()).join(',')}]`, status: records > rejected ? 202 : 400, records, rejected });
          continue;
        }
        const body = Buffer.concat(parts.flatMap((p) => [p, Buffer.from(rnd() < 0.1 ? '\r\n' : '\n')]));
        const gzip = rnd() < 0.3;
        reqs.push({ path: `/v1/ingest/${PATHS[kind]}`, headers: { ...ndjsonType, ...(gzip ? { 'content-encoding': 'gzip' } : {}) }, body: gzip ? gzipSync(body) : body, status: records > rejected ? 202 : 400, records, rejected });
      }
    }
  }
  // Lines past the 1 MiB message limit, one per body beside a valid record.
  for (let i = 0; i < 8; i++) {
    const huge = `{"vin":"x","ts":1,"pad":"${'h'.repeat(MAX_MESSAGE_BYTES + i * 1000)}"}`;
    e.malformed++;
    count(e, 'message.too_large');
    e.valid.signals++;
    reqs.push({ path: '/v1/ingest/signals', headers: ndjsonType, body: `${validRecord('signals', seq++)}\n${huge}\n`, status: 202, records: 2, rejected: 1 });
  }
  return reqs;
}

/** Malformed request i: refused whole, one dead letter with `code`. */
function badRequest(i: number, rnd: () => number, e: Expected): Req {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const kindPath = `/v1/ingest/${pick(['signals', 'security', 'logs'])}`;
  const small = `${validRecord('signals', 1_000_000 + i)}\n`;
  const req = ((): Req => {
    if (i < 4) return { path: kindPath, headers: { ...ndjsonType, 'content-encoding': 'gzip' }, body: gzipBomb(3000), status: 413, code: 'body.too_large' };
    if (i < 8) return { path: kindPath, headers: ndjsonType, body: Buffer.alloc(MAX_BODY + 1 + i, 0x61), status: 413, code: 'body.too_large' };
    if (i < 12) return { path: kindPath, headers: ndjsonType, body: '{}\n'.repeat(MAX_RECORDS + i), status: 413, code: 'body.too_many_records' };
    switch (i % 10) {
      case 0: // gzip that does not decompress: truncated, garbage, or another format
        return { path: kindPath, headers: { ...ndjsonType, 'content-encoding': pick(['gzip', 'x-gzip']) }, body: pick([gzipSync(small).subarray(0, 1 + Math.floor(rnd() * 20)), garbage(rnd, 64), Buffer.from(small)]), status: 400, code: 'body.gzip' };
      case 1: // media types we do not take, or none
        return { path: kindPath, headers: pick<Record<string, string>>([{ 'content-type': pick(['text/plain', 'text/csv', 'application/xml', 'application/octet-stream', 'application/protobuf', 'multipart/form-data; boundary=x', 'application/json-seq', 'json']) }, {}]), body: small, status: 415, code: 'body.media_type' };
      case 2: // codings we do not take
        return { path: kindPath, headers: { ...ndjsonType, 'content-encoding': pick(['br', 'deflate', 'compress', 'zstd', 'gzip, gzip', 'GZIP2']) }, body: small, status: 415, code: 'body.content_encoding' };
      case 3: // paths that are no ingest kind
        return { path: pick(['/v1/ingest/signal', '/v1/ingest/Signals', '/v1/ingest/log', '/v1/ingest/signals/extra', '/v1/ingest/', '/v1/ingest/%00', '/v1/ingest/..%2Fsignals', `/v1/ingest/${'k'.repeat(300)}`]), headers: ndjsonType, body: small, status: 404, code: 'path.invalid' };
      case 4: // a JSON body that is malformed or truncated
        return { path: kindPath, headers: { 'content-type': 'application/json' }, body: `[${small},${small}`.slice(0, 10 + Math.floor(rnd() * small.length)), status: 400, code: 'json.malformed' };
      case 5: // a JSON body that is not UTF-8
        return { path: kindPath, headers: { 'content-type': 'application/json; charset=utf-8' }, body: Buffer.from(`{"vin":"Véhicule","ts":1}`, 'latin1'), status: 400, code: 'message.encoding' };
      case 6: // a JSON body that is neither an object nor an array
        return { path: kindPath, headers: { 'content-type': 'application/json' }, body: pick(['42', '"text"', 'null', 'true']), status: 400, code: 'json.not_object' };
      case 7: // MessagePack garbage (0xc1 is never used in MessagePack)
        return { path: kindPath, headers: { 'content-type': 'application/msgpack' }, body: Buffer.concat([Buffer.from([0xc1]), garbage(rnd, 1 + Math.floor(rnd() * 128))]), status: 400, code: 'msgpack.malformed' };
      case 8: // MessagePack that is not a map
        return { path: kindPath, headers: { 'content-type': 'application/x-msgpack' }, body: encode(pick([[1, 2], 'text', 42, null])), status: 400, code: 'msgpack.not_map' };
      default: // JSON sent as MessagePack
        return { path: kindPath, headers: { 'content-type': 'application/msgpack' }, body: small, status: 400, code: 'msgpack.malformed' };
    }
  })();
  e.malformed++;
  count(e, req.code!);
  return req;
}

/** Refusals that keep nothing by design. */
function unkept(i: number): Req {
  const small = `${validRecord('signals', 2_000_000 + i)}\n`;
  switch (i % 5) {
    case 0:
      return { path: '/v1/ingest/signals', method: 'GET', headers: {}, status: 405 };
    case 1:
      return { path: '/v1/ingest/security', method: 'PUT', headers: ndjsonType, body: small, status: 405 };
    case 2:
      return { path: '/v1/ingest/signals?tenant=Not%20A%20Tenant', headers: ndjsonType, body: small, status: 400 };
    case 3:
      return { path: '/v1/ingest/logs?tenant=a', headers: { ...ndjsonType, 'x-vigil-tenant': 'b' }, body: small, status: 400 };
    default: // no records: empty, or blank lines only
      return { path: '/v1/ingest/signals', headers: ndjsonType, body: ['', '\n\n', ' \r\n\t\n'][i % 3]!, status: 400 };
  }
}

let vigil: Vigil;
/** An operator ingest token: it names the tenant per request, so bad and conflicting tenants answer 400 as they would. */
let auth: Record<string, string> = {};
beforeAll(async () => {
  vigil = await startVigil(
    // maxWaitMs: a batch under way waits for room rather than answering 503 part-taken.
    parseConfig({ tenant: TENANT, store: { path: ':memory:' }, http: { port: 0, ingest: { maxBodyBytes: MAX_BODY, maxRecords: MAX_RECORDS, maxWaitMs: 600_000 } }, runtime: { workers: 1 } }),
  );
  auth = bearer(await apiToken(vigil, 'ingest'));
});
afterAll(async () => {
  await vigil?.stop();
});

describe('HTTP fuzz', () => {
  it(`dead-letters ${(RECORDS + REQUESTS).toLocaleString('en-US')} malformed inputs with a reason, answers each as documented, and the conservation law holds`, async () => {
    const rnd = prng(20_261_204);
    const e: Expected = { malformed: 0, valid: { signals: 0, security: 0, log: 0 }, early: new Map() };
    const reqs = [...recordRequests(rnd, e), ...Array.from({ length: REQUESTS }, (_, i) => badRequest(i, rnd, e)), ...Array.from({ length: 200 }, (_, i) => unkept(i))];
    expect(e.malformed).toBe(RECORDS + REQUESTS);
    // Shuffle, so record bodies, bad requests and refusals interleave.
    for (let i = reqs.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [reqs[i], reqs[j]] = [reqs[j]!, reqs[i]!];
    }

    const t0 = Date.now();
    const wrong: string[] = [];
    let next = 0;
    let retried = 0;
    const worker = async (): Promise<void> => {
      while (next < reqs.length) {
        const r = reqs[next++]!;
        let res: Response;
        let answer: { accepted?: number; rejected?: number; error?: string };
        for (;;) {
          res = await fetch(`${vigil.url}${r.path}`, { method: r.method ?? 'POST', headers: { ...r.headers, ...auth }, ...(r.body !== undefined ? { body: r.body } : {}) });
          answer = (await res.json()) as typeof answer;
          // A full pipeline took nothing: send the same request again after Retry-After, as a client does.
          if (res.status !== 503 || answer.accepted !== undefined) break;
          retried++;
          await new Promise((resolve) => setTimeout(resolve, Number(res.headers.get('retry-after')) * 1000));
        }
        const counts = r.records === undefined ? true : answer.accepted === r.records - r.rejected! && answer.rejected === r.rejected;
        if (res.status !== r.status || !counts) wrong.push(`${r.method ?? 'POST'} ${r.path} ${JSON.stringify(r.headers)}: want ${r.status} ${r.records ?? ''}/${r.rejected ?? ''}, got ${res.status} ${JSON.stringify(answer).slice(0, 300)}`);
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    const seconds = (Date.now() - t0) / 1000;
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(wrong).toHaveLength(0);

    // The server still serves, and every 202 came after its records were durable.
    const counts = await vigil.store.counts();
    expect(counts.signals).toBe(e.valid.signals * 2);
    expect(counts.securityEvents).toBe(e.valid.security);
    expect(counts.apiEvents).toBe(e.valid.log);

    const codes = new Map<string, number>();
    for (let offset = 0; offset < counts.deadLetters; offset += 20_000) {
      for (const d of await vigil.store.listDeadLetters({ limit: 20_000, offset })) {
        expect(d.code).toMatch(/^[a-z_]+\.[a-z_]+$/);
        expect(d.reason.length).toBeGreaterThan(5);
        expect(d).toMatchObject({ source: 'http', tenant: TENANT });
        expect(d.raw.length).toBeLessThanOrEqual(MAX_MESSAGE_BYTES + 10_000);
        codes.set(d.code, (codes.get(d.code) ?? 0) + 1);
      }
    }
    expect(counts.deadLetters).toBe(RECORDS + REQUESTS);
    // Codes known before the lanes match one for one; the lanes refused the rest, each with its own code.
    for (const [code, n] of e.early) expect(codes.get(code), code).toBe(n);
    const laneCodes = [...codes].filter(([c]) => !e.early.has(c));
    expect(laneCodes.reduce((s, [, n]) => s + n, 0)).toBe(RECORDS + REQUESTS - [...e.early.values()].reduce((a, b) => a + b, 0));
    for (const c of ['vin.invalid', 'time.invalid', 'signals.missing', 'security.event_id', 'log.status']) expect(codes.get(c), c).toBeGreaterThan(0);
    const m = vigil.pipeline.metrics;
    expect(m.get('vigil_http_ingest_refusals_kept_total')).toBe([...e.early].filter(([c]) => c.startsWith('body.') && c !== 'body.gzip').reduce((s, [, n]) => s + n, 0) + (e.early.get('path.invalid') ?? 0));
    console.log(`http fuzz: ${reqs.length} requests (${retried} sent again after a 503), ${RECORDS + REQUESTS} malformed inputs in ${seconds.toFixed(1)} s; dead-letter codes ${JSON.stringify(Object.fromEntries([...codes].sort()))}`);
  }, 300_000);
});
