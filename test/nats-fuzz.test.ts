/**
 * Fuzz through the real NATS on localhost:4222: 100,000 malformed messages — truncated JSON,
 * wrong types, binary garbage, wrong encodings and content types, payloads near the server's
 * 1 MiB limit, bad subjects — mixed with valid ones, to a core subscription and a JetStream
 * durable consumer. The process keeps serving, every malformed message is dead-lettered
 * once with a reason and its raw bytes, every valid one is stored: in = stored + dead-lettered.
 */
import { randomBytes } from 'node:crypto';
import { encode } from '@msgpack/msgpack';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Vigil } from '../src/api/vigil.js';
import { MAX_MESSAGE_BYTES } from '../src/decode/json.js';
import { garbage, malformedRecord, validRecord, vins } from './fuzz-inputs.js';
import { prng, until } from './ingest-helpers.js';
import { startWith, TENANT } from './mqtt-helpers.js';

const NATS_URL = 'nats://127.0.0.1:4222';
const CORE_TOTAL = 95_000;
const JS_TOTAL = 5000;
/** Every VALID_EVERY-th message is valid (not counted in the totals above). */
const VALID_EVERY = 50;
const HUGE = 16;
const run = randomBytes(4).toString('hex');
const CORE_ROOT = `fzc${run}`;
const JS_ROOT = `fzj${run}`;
const STREAM = `VIGIL_FUZZ_${run}`;

interface Msg {
  readonly subject: string;
  readonly payload: Uint8Array | string;
  readonly headers?: MsgHdrs;
}

const withType = (type: string): MsgHdrs => {
  const h = headers();
  h.set('Content-Type', type);
  return h;
};

/** Malformed message i under `root` (subjects `<root>.vigil.<tenant>.<vehicle>.<kind>`). */
function malformed(i: number, rnd: () => number, root: string): Msg {
  const vin = vins[i % vins.length]!;
  const ts = Date.now();
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const subject = (kind = 'signals'): string => `${root}.vigil.${TENANT}.${vin}.${kind}`;
  if (i < HUGE) {
    // Near the server's max_payload (1 MiB): valid JSON without signals, refused by the lane.
    const size = MAX_MESSAGE_BYTES - 64 - i * 1000;
    const head = `{"vin":"${vin}","ts":${ts},"pad":"`;
    return { subject: subject(), payload: `${head}${'x'.repeat(size - head.length - 2)}"}` };
  }
  const good = JSON.stringify({ vin, ts, seq: i, signals: { 'Vehicle.Speed': 50 } });
  switch (i % 5) {
    case 0: // bad subjects, good payloads
      return { subject: pick(badSubjects(root, vin, i)), payload: good };
    case 1: { // content types: none we decode, or the wrong one for the bytes
      const variant = Math.floor(rnd() * 4);
      if (variant === 0) return { subject: subject(), payload: good, headers: withType(pick(['text/plain', 'application/protobuf', 'application/cbor', 'x', 'application/json-seq'])) };
      if (variant === 1) return { subject: subject(pick(['signals', 'security'])), payload: good, headers: withType('application/msgpack') };
      if (variant === 2) return { subject: subject(), payload: garbage(rnd, 1 + Math.floor(rnd() * 256)), headers: withType(pick(['application/msgpack', 'application/x-msgpack'])) };
      return {
        subject: subject(),
        headers: withType('application/vnd.msgpack'),
        payload: pick([
          Buffer.from(encode([vin, ts])),
          Buffer.from(encode({ vin, ts, samples: { paths: ['Vehicle.Speed'], p: [0, 0], t: [0], v: [1] } })),
          Buffer.from(encode({ vin, ts, signals: { 'Vehicle.Speed': 1 } })).subarray(0, 20),
          Buffer.from(encode({ vin: 7, ts })),
        ]),
      };
    }
    default: { // the shared malformed records (truncated, wrong types, garbage, wrong text encodings, not objects), now and then an empty message
      if (i % 5 === 2 && rnd() < 0.02) return { subject: subject(pick(['signals', 'security', 'log'])), payload: '' };
      const r = malformedRecord(i, rnd);
      return { subject: r.kind === 'log' ? `${root}.vigil.${TENANT}._.log` : subject(r.kind), payload: r.payload };
    }
  }
}

function badSubjects(root: string, vin: string, i: number): string[] {
  return [
    `${root}.vigil.${TENANT}.${vin}`,
    `${root}.vigil.${TENANT}.${vin}.signals.more`,
    `${root}.vigil.${TENANT}.${vin}.Signals`,
    `${root}.vigil.${TENANT}.${vin}.signals-msgpack`,
    `${root}.vigil.other-tenant.${vin}.signals`,
    `${root}.vigil.UPPER.${vin}.signals`,
    `${root}.vigil.${TENANT}.${'v'.repeat(65)}.signals`,
    `${root}.vigil.${TENANT}.véhicule.signals`,
    `${root}.Vigil.${TENANT}.${vin}.signals`,
    `${root}.telemetry.${i}`,
    `${root}.vigil`,
    `${root}.${'x.'.repeat(40)}end`,
  ];
}

/** Valid message j (signals, security or log in turn). */
function valid(j: number, root: string): Msg & { kind: 'signals' | 'security' | 'log' } {
  const kind = (['signals', 'security', 'log'] as const)[j % 3]!;
  const vin = vins[j % vins.length]!;
  return { kind, subject: `${root}.vigil.${TENANT}.${kind === 'log' ? '_' : vin}.${kind}`, payload: validRecord(kind, j) };
}

let vigil: Vigil;
let pub: NatsConnection;

beforeAll(async () => {
  pub = await connect({ servers: NATS_URL });
  const base = { type: 'nats', servers: [NATS_URL], tenants: [TENANT] };
  vigil = await startWith(
    [
      { ...base, name: 'core-fuzz', subjectPrefix: `${CORE_ROOT}.vigil`, subjects: [`${CORE_ROOT}.>`] },
      { ...base, name: 'js-fuzz', subjectPrefix: `${JS_ROOT}.vigil`, jetstream: { stream: STREAM, durable: `fuzz-${run}`, create: true, filterSubject: `${JS_ROOT}.>`, maxAckPending: 5000, ackWaitMs: 120_000 } },
    ],
    { workers: 1 },
  );
});

afterAll(async () => {
  await vigil?.stop();
  if (pub) {
    await (await jetstreamManager(pub)).streams.delete(STREAM).catch(() => undefined);
    await pub.drain();
  }
});

describe('NATS fuzz', () => {
  it(`dead-letters ${(CORE_TOTAL + JS_TOTAL).toLocaleString('en-US')} malformed messages with a reason, stores the valid ones, and the conservation law holds`, async () => {
    const rnd = prng(20_261_203);
    const m = vigil.pipeline.metrics;
    const t0 = Date.now();
    const validKinds = { signals: 0, security: 0, log: 0 };
    let sent = 0;
    let validSeq = 0;
    const next = (i: number, root: string): Msg => {
      if (sent++ % VALID_EVERY === VALID_EVERY - 1) {
        const v = valid(validSeq++, root);
        validKinds[v.kind]++;
        return v;
      }
      return malformed(i, rnd, root);
    };

    // JetStream: every publish acknowledged by the stream; the consumer acks each once durable.
    const js = jetstream(pub);
    for (let i = 0; i < JS_TOTAL; ) {
      const acks: Promise<unknown>[] = [];
      const end = Math.min(JS_TOTAL, i + 1000);
      while (i < end) {
        const msg = next(i + CORE_TOTAL, JS_ROOT);
        if (!validMsg(msg)) i++;
        acks.push(js.publish(msg.subject, msg.payload, msg.headers ? { headers: msg.headers } : undefined));
      }
      await Promise.all(acks);
    }
    const jsm = await jetstreamManager(pub);
    await until('JetStream consumer caught up', async () => {
      const ci = await jsm.consumers.info(STREAM, `fuzz-${run}`);
      return ci.num_pending === 0 && ci.num_ack_pending === 0 ? true : undefined;
    }, 60_000);
    const jsSent = sent;

    // Core NATS: no acks, so publish in windows and let Vigil catch up before the next one.
    const WINDOW = 5000;
    for (let i = 0; i < CORE_TOTAL; ) {
      const end = Math.min(CORE_TOTAL, i + WINDOW);
      while (i < end) {
        const msg = next(i, CORE_ROOT);
        if (!validMsg(msg)) i++;
        pub.publish(msg.subject, msg.payload, msg.headers ? { headers: msg.headers } : undefined);
      }
      await pub.flush();
      const target = sent;
      await until('core messages received', () => (m.get('vigil_nats_messages_total') >= target ? true : undefined), 30_000);
    }

    await vigil.pipeline.drain();
    const seconds = (Date.now() - t0) / 1000;

    // The process still serves: a good message after the storm is stored.
    const after = valid(validSeq++, CORE_ROOT);
    pub.publish(after.subject, after.payload);
    validKinds[after.kind]++;
    const total = CORE_TOTAL + JS_TOTAL;
    const validTotal = validKinds.signals + validKinds.security + validKinds.log;
    await until('the last message', () => (m.get('vigil_nats_messages_total') === total + validTotal ? true : undefined));
    await vigil.pipeline.drain();

    const counts = await vigil.store.counts();
    expect(m.get('vigil_nats_messages_total')).toBe(total + validTotal);
    expect(sent + 1).toBe(total + validTotal);
    expect(jsSent).toBeGreaterThan(JS_TOTAL);
    expect(m.get('vigil_nats_redelivered_total')).toBe(0);
    // Conservation: in = stored + dead-lettered, and nothing malformed was stored.
    expect(counts.signals).toBe(validKinds.signals * 2);
    expect(counts.securityEvents).toBe(validKinds.security);
    expect(counts.apiEvents).toBe(validKinds.log);
    expect(counts.deadLetters).toBe(total);
    expect(m.get('vigil_nats_overflow_total')).toBe(0);
    const early = m.get('vigil_nats_dead_lettered_total');
    expect(early + m.get('vigil_messages_dead_lettered_total')).toBe(total);
    expect(m.get('vigil_messages_received_total')).toBe(total + validTotal - early);

    // Every dead letter has a code, a reason, its source and its raw bytes.
    const codes = new Map<string, number>();
    const sources = new Map<string, number>();
    for (let offset = 0; offset < total; offset += 20_000) {
      for (const d of await vigil.store.listDeadLetters({ limit: 20_000, offset })) {
        expect(d.code).toMatch(/^[a-z_]+\.[a-z_]+$/);
        expect(d.reason.length).toBeGreaterThan(5);
        sources.set(d.source, (sources.get(d.source) ?? 0) + 1);
        codes.set(d.code, (codes.get(d.code) ?? 0) + 1);
      }
    }
    expect([...codes.values()].reduce((a, b) => a + b, 0)).toBe(total);
    for (const c of ['subject.invalid', 'encoding.unsupported', 'json.malformed', 'json.not_object', 'message.encoding', 'msgpack.malformed', 'msgpack.not_map', 'vin.invalid', 'time.invalid', 'signals.missing']) {
      expect(codes.get(c), c).toBeGreaterThan(0);
    }
    expect(Object.fromEntries(sources)).toEqual({ 'nats:core-fuzz': CORE_TOTAL, 'nats:js-fuzz': JS_TOTAL });
    console.log(`nats fuzz: ${total} malformed + ${validTotal} valid messages in ${seconds.toFixed(1)} s; dead-letter codes ${JSON.stringify(Object.fromEntries([...codes].sort()))}`);
  }, 300_000);
});

function validMsg(msg: Msg): boolean {
  return 'kind' in msg;
}
