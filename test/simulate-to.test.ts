/**
 * `vigil simulate --to URL` as a user runs it, against a running Vigil: over HTTP batch
 * ingest and over MQTT to the embedded broker. What the simulator says it sent is what the
 * store then holds: every signal stored or dead-lettered entry by entry, every malformed
 * message dead-lettered whole, every security and log event stored.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttBrokerSource } from '../src/adapters/mqtt/broker.js';
import { openPublisher } from '../src/adapters/publish/index.js';
import { startVigil, type Vigil } from '../src/api/vigil.js';
import { parseConfig } from '../src/runtime/config.js';
import { runSimulation } from '../src/sim/index.js';
import { apiToken } from './http-helpers.js';

const run = promisify(execFile);

interface Sent {
  messages: number;
  signals: number;
  malformed: number;
  securityEvents: number;
  logEvents: number;
}

/** Run `vigil simulate --to url` and read back its one-line summary of what it sent. */
async function simulate(url: string, seed: number, malformedRate: number): Promise<Sent> {
  const args = ['bin/vigil.js', 'simulate', '--to', url, '--vehicles', '12', '--duration', '40', '--seed', String(seed), '--speed', '0', '--malformed-rate', String(malformedRate)];
  const { stdout } = await run(process.execPath, args, { env: { ...process.env, VIGIL_FROM_SOURCE: '1' }, timeout: 120_000 });
  const n = (re: RegExp): number => Number(re.exec(stdout)![1]!.replace(/,/g, ''));
  expect(stdout).toMatch(/12 vehicles, 40 s simulated/);
  return {
    messages: n(/([\d,]+) signals messages/),
    signals: n(/\(([\d,]+) signals,/),
    malformed: n(/([\d,]+) malformed\)/),
    securityEvents: n(/([\d,]+) security events/),
    logEvents: n(/([\d,]+) log events/),
  };
}

describe('vigil simulate --to', () => {
  let vigil: Vigil;
  beforeAll(async () => {
    vigil = await startVigil(
      parseConfig({ tenant: 'demo', store: { path: ':memory:' }, http: { port: 0 }, runtime: { workers: 1 }, sources: [{ type: 'mqtt-broker', name: 'edge', port: 0 }] }),
    );
    // The HTTP publisher sends VIGIL_TOKEN; an operator ingest token names each record's tenant.
    process.env.VIGIL_TOKEN = await apiToken(vigil, 'ingest');
  });
  afterAll(async () => {
    await vigil?.stop();
  });

  it('http://: every record the simulator sent is stored, once, by the time it finishes', async () => {
    const m = vigil.pipeline.metrics;
    const sent = await simulate(vigil.url!, 11, 0);
    console.log(`simulate --to http: ${JSON.stringify(sent)}`);
    expect(sent.messages).toBeGreaterThan(300);
    // Each NDJSON request was answered 202 once its records were durable: no waiting here.
    const counts = await vigil.store.counts('demo');
    expect(counts.signals).toBe(sent.signals);
    expect(counts.securityEvents).toBe(sent.securityEvents);
    expect(counts.apiEvents).toBe(sent.logEvents);
    expect(counts.deadLetters).toBe(0);
    expect(m.get('vigil_http_ingest_records_total')).toBe(sent.messages + sent.securityEvents + sent.logEvents);
  });

  it('mqtt://: every message the simulator sent arrives; each malformed one leaves one dead letter', async () => {
    const m = vigil.pipeline.metrics;
    const before = await vigil.store.counts('demo');
    const port = (vigil.sources[0] as MqttBrokerSource).port;
    const sent = await simulate(`mqtt://127.0.0.1:${port}`, 12, 0.03);
    console.log(`simulate --to mqtt: ${JSON.stringify(sent)}`);
    expect(sent.malformed).toBeGreaterThan(0);
    // QoS 1: each PUBACK came once the message was durable.
    expect(m.get('vigil_mqtt_messages_total')).toBe(sent.messages + sent.securityEvents + sent.logEvents);
    const counts = await vigil.store.counts('demo');
    expect(counts.securityEvents - before.securityEvents).toBe(sent.securityEvents);
    expect(counts.apiEvents - before.apiEvents).toBe(sent.logEvents);
    // Malformed messages are refused whole (bad VIN, broken JSON) or lose the one bad entry (unknown signal, out of range).
    const dead = await vigil.store.listDeadLetters({ source: 'mqtt:edge', limit: 10_000 });
    expect(dead).toHaveLength(sent.malformed);
    for (const d of dead) expect(['vin.invalid', 'signal.unknown', 'value.out_of_range', 'json.malformed']).toContain(d.code);
    // Every signal of a well-formed message is stored, and the good entries of the partly refused ones.
    expect(counts.signals - before.signals).toBeGreaterThanOrEqual(sent.signals);
  });
});

describe('the HTTP publisher under backpressure', () => {
  let vigil: Vigil;
  beforeAll(async () => {
    // A pipeline of 150 messages that answers 503 at once when full: every batch is cut short.
    vigil = await startVigil(parseConfig({ tenant: 'demo', store: { path: ':memory:' }, http: { port: 0, ingest: { maxWaitMs: 0 } }, runtime: { workers: 1, maxInFlightPerWorker: 150, handoffBatch: 64 } }));
    process.env.VIGIL_TOKEN = await apiToken(vigil, 'ingest');
  });
  afterAll(async () => {
    await vigil?.stop();
  });

  it('sends again only the records from retryFrom, so nothing is taken twice', async () => {
    const publisher = await openPublisher(vigil.url!);
    // One tick: the whole run is one batch of several hundred signals messages.
    const sent = await runSimulation({ vehicles: 12, seed: 5, malformedRate: 0, start: Date.now() - 60_000 }, { write: (items) => publisher.publish(items) }, { durationS: 40, tickMs: 40_000 });
    await publisher.close();
    const m = vigil.pipeline.metrics;
    expect(sent.messages).toBeGreaterThan(300);
    expect(m.get('vigil_backpressure_total')).toBeGreaterThan(0);
    expect(publisher.sent).toBe(sent.messages + sent.securityEvents + sent.logEvents);
    expect(m.get('vigil_http_ingest_records_total')).toBe(sent.messages + sent.securityEvents + sent.logEvents);
    expect(m.get('vigil_messages_duplicate_total')).toBe(0);
    expect((await vigil.store.counts('demo')).signals).toBe(sent.signals);
  });
});
