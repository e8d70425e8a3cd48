/**
 * The pipeline through its front door (offer/push/drain), with real worker threads and a
 * real DuckDB file: the conservation law, backpressure, and idempotent redelivery.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DuckDBStore } from '../src/adapters/duckdb/duckdb-store.js';
import { CanFrameBatchBuilder } from '../src/core/can.js';
import { systemClock } from '../src/core/clock.js';
import type { Store } from '../src/core/store.js';
import { DEFAULT_POLICY } from '../src/normalize/policy.js';
import { makeVin } from '../src/normalize/vin.js';
import { parseConfig } from '../src/runtime/config.js';
import type { InputItem } from '../src/runtime/lane.js';
import { Pipeline } from '../src/runtime/pipeline.js';
import { defaultCatalog } from '../src/sim/default-catalog.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(runtime: Record<string, unknown> = {}): Promise<{ pipeline: Pipeline; store: Store }> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-pipeline-'));
  const store = await DuckDBStore.open({ path: join(dir, 'v.duckdb') });
  const catalog = defaultCatalog(await store.signalDictionary());
  await store.saveSignalDictionary(catalog.dictionary());
  const pipeline = new Pipeline({ store, catalog, clock: systemClock, policy: DEFAULT_POLICY, secret: 'pipeline-test-secret', ...parseConfig({ runtime: { workers: 2, ...runtime } }).runtime });
  await pipeline.start();
  cleanups.push(async () => {
    await pipeline.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { pipeline, store };
}

const now = Date.now();
const vins = Array.from({ length: 50 }, (_, i) => makeVin({ wmi: '1FT', vds: 'EW1EP', year: 2021, plant: 'K' }, i + 1));
const item = (payload: string | Uint8Array, kind: InputItem['kind'] = 'signals'): InputItem => ({ kind, tenant: 'acme', source: 'test', payload, receivedAt: Date.now() });

/** A deterministic mix: mostly valid messages, plus every kind of malformed input. */
function mixedInput(n: number): { items: InputItem[]; validEntries: number } {
  const items: InputItem[] = [];
  let validEntries = 0;
  for (let i = 0; i < n; i++) {
    const vin = vins[i % vins.length]!;
    switch (i % 10) {
      case 3: items.push(item(`{"vin":"${vin}","ts":${now},"signals":{"Vehicle.Speed":`)); break; // truncated
      case 5: items.push(item(new Uint8Array([0x7b, 0xff, 0xfe, 0x00, i & 0xff]))); break; // binary garbage
      case 7: items.push(item(JSON.stringify({ vin: vin.replace(/.$/, 'I'), ts: now, signals: { 'Vehicle.Speed': 1 } }))); break; // bad VIN
      case 8: // valid message with one unknown signal and one out-of-range value
        items.push(item(JSON.stringify({ vin, ts: now + i, signals: { 'Vehicle.Speed': 10, 'Vehicle.Nope': 1, 'Vehicle.Powertrain.TractionBattery.StateOfCharge.Current': 101 } })));
        validEntries += 1;
        break;
      case 9:
        items.push(item(JSON.stringify({ vin, ts: now + i, eventId: 0x8601, sensor: 'gw' }), 'security'));
        break;
      default:
        items.push(item(JSON.stringify({ vin, ts: now + i, seq: i, signals: { 'Vehicle.Speed': (i % 200) / 2, 'Vehicle.TraveledDistance': 1000 + i, 'Vehicle.Cabin.Door.Row1.DriverSide.IsLocked': i % 2 === 0 } })));
        validEntries += 3;
    }
  }
  return { items, validEntries };
}

describe('pipeline', () => {
  it('conserves records: every message is stored or dead-lettered, with signals counted exactly', async () => {
    const { pipeline, store } = await setup();
    const { items, validEntries } = mixedInput(5000);
    for (const it of items) await pipeline.push(it);
    await pipeline.drain();
    const m = pipeline.metrics;
    const counts = await store.counts('acme');
    const wholeDead = m.get('vigil_messages_dead_lettered_total');
    const entryDead = m.get('vigil_signal_entries_dead_lettered_total');
    expect(m.get('vigil_messages_received_total')).toBe(items.length);
    expect(wholeDead).toBe(1500); // truncated, garbage, bad VIN
    expect(entryDead).toBe(1000); // two bad entries in each of 500 messages
    expect(counts.signals).toBe(validEntries);
    expect(counts.securityEvents).toBe(500);
    expect(counts.deadLetters).toBe(wholeDead + entryDead);
    // The conservation law, in messages: in = accepted (stored) + dead-lettered whole.
    const accepted = items.length - wholeDead - m.get('vigil_messages_duplicate_total');
    expect(accepted + wholeDead).toBe(items.length);
    expect(counts.signals + entryDead).toBe(validEntries + entryDead);
    const codes = new Set((await store.listDeadLetters({ tenant: 'acme', limit: 5000 })).map((d) => d.code));
    expect([...codes].sort()).toEqual(['json.malformed', 'message.encoding', 'signal.unknown', 'value.out_of_range', 'vin.invalid']);
  });

  it('applies backpressure instead of dropping: offer refuses when full, push waits', async () => {
    const { pipeline, store } = await setup({ maxInFlightPerWorker: 8, handoffBatch: 4 });
    const { items, validEntries } = mixedInput(400);
    let refused = 0;
    for (const it of items) {
      while (!pipeline.offer(it)) {
        refused++;
        await pipeline.ready();
      }
    }
    await pipeline.drain();
    expect(refused).toBeGreaterThan(0);
    expect(pipeline.metrics.get('vigil_backpressure_total')).toBe(refused);
    expect((await store.counts('acme')).signals).toBe(validEntries);
  });

  it('rejects with a retry hint in reject mode', async () => {
    const { pipeline } = await setup({ maxInFlightPerWorker: 2, handoffBatch: 1, onFull: 'reject' });
    const { items } = mixedInput(50);
    let error: unknown;
    try {
      for (const it of items) pipeline.offer(it);
    } catch (e) {
      error = e;
    }
    expect((error as { _tag?: string })._tag).toBe('BackpressureError');
    expect((error as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
  });

  it('suppresses a redelivered message with the same record id', async () => {
    const { pipeline, store } = await setup();
    const msg = JSON.stringify({ vin: vins[0], ts: now, seq: 77, signals: { 'Vehicle.Speed': 42 } });
    for (let i = 0; i < 3; i++) await pipeline.push(item(msg));
    await pipeline.drain();
    expect(pipeline.metrics.get('vigil_messages_duplicate_total')).toBe(2);
    expect((await store.counts('acme')).signals).toBe(1);
  });

  it('acks a message only once it is durable: stored, or dead-lettered', async () => {
    const { pipeline, store } = await setup();
    const order: string[] = [];
    const good = pipeline.pushDurable(item(JSON.stringify({ vin: vins[1], ts: now, seq: 9001, signals: { 'Vehicle.Speed': 12 } }))).then(async () => {
      order.push(`good acked, stored=${(await store.counts('acme')).signals}`);
    });
    const bad = pipeline.pushDurable(item('{broken')).then(async () => {
      order.push(`bad acked, dead=${(await store.counts('acme')).deadLetters}`);
    });
    await Promise.all([good, bad]);
    expect(order.sort()).toEqual(['bad acked, dead=1', 'good acked, stored=1']);
  });

  it('stores raw CAN frame batches of a vehicle, and dead-letters a batch with a bad VIN as candump text', async () => {
    const { pipeline, store } = await setup();
    const frames = (vin: string, n: number) => {
      const b = new CanFrameBatchBuilder({ tenant: 'acme', vin, source: 'test-trace' }, n, 8, true);
      for (let i = 0; i < n; i++) b.push(now + i, 0x100 + (i % 7), [i & 0xff, 1, 2, 3, 4, 5, 6, 7], i % 10 === 0 ? 1 : 0);
      return b.build();
    };
    const acked: string[] = [];
    await pipeline.pushFrames(frames(vins[3]!, 70_000), () => acked.push('good'));
    await pipeline.pushFrames(frames('NOT A VIN', 3), () => acked.push('bad'));
    await pipeline.drain();
    expect(acked.sort()).toEqual(['bad', 'good']);
    const counts = await store.counts('acme');
    expect(counts.canFrames).toBe(70_000);
    const [dead] = await store.listDeadLetters({ tenant: 'acme', limit: 5 });
    expect(dead).toMatchObject({ kind: 'can', code: 'vin.invalid', source: 'test-trace' });
    expect(new TextDecoder().decode(dead!.raw).split('\n')).toHaveLength(3);
    expect(new TextDecoder().decode(dead!.raw)).toMatch(/^\(\d+\.\d{6}\) can0 100#0001020304050607$/m);
    expect(pipeline.metrics.get('vigil_can_frames_dead_lettered_total')).toBe(3);
  });

  it('writes twin summaries to the vehicles table', async () => {
    const { pipeline, store } = await setup();
    const { items } = mixedInput(1000);
    for (const it of items) await pipeline.push(it);
    await pipeline.stop();
    const vehicles = await store.listVehicles('acme', { limit: 100 });
    // Twins exist for vehicles that sent signals: message kinds 0,1,2,4,6,8 of every ten.
    const senders = new Set(Array.from({ length: 1000 }, (_, i) => i).filter((i) => [0, 1, 2, 4, 6, 8].includes(i % 10)).map((i) => i % vins.length));
    expect(vehicles).toHaveLength(senders.size);
    const total = vehicles.reduce((s, v) => s + v.signalCount, 0);
    expect(total).toBe((await store.counts('acme')).signals);
  });
});
