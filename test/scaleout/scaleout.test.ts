/**
 * Scale-out on localhost, real processes: one ingest role, two workers, against the local NATS
 * JetStream (4222) and PostgreSQL (db `test`, a throw-away schema). Labelled simulator input
 * (attacks included) goes through the ingest role's JetStream source; one worker is killed
 * with SIGKILL midway. Afterwards every signal is stored exactly once, and the alerts are
 * exactly those of the embedded run of the same input (same ids: none lost, none twice).
 */
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/core/records.js';
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js';
import { dropTestSchemas, testOptions } from '../../src/adapters/postgres/test-db.js';
import './scaleout-restart.js';
import { embeddedRun, labelledInput, parseConfig, publishInput, scaleoutConfig, spawnRole, writeConfig, type RoleProcess } from './scaleout-helpers.js';

/** Signal values sent; the issue asks for 1,000,000 (SCALEOUT_SIGNALS overrides, e.g. for a quick run). */
const SIGNALS = Number(process.env['SCALEOUT_SIGNALS'] ?? 1_000_000);
const VEHICLES = 40;
const PARTITIONS = 8;
/** Give up waiting for the stored counts after this long. */
const SETTLE_MS = 150_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('scale-out: ingest, two workers, one killed midway', () => {
  const run = randomBytes(4).toString('hex');
  const procs: RoleProcess[] = [];
  let nc: NatsConnection;
  let store: PostgresStore;

  beforeAll(async () => {
    nc = await connect({ servers: ['nats://127.0.0.1:4222'] });
  });

  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    const jsm = await jetstreamManager(nc);
    for (const s of [`VB_${run}`, `VB_${run}_LEASES`, `VIN_${run}`]) await jsm.streams.delete(s).catch(() => undefined);
    await nc.close();
    await store?.close();
    await dropTestSchemas();
  });

  it('stores every signal once and raises the embedded run’s alerts, none lost or twice', async () => {
    const input = await labelledInput(SIGNALS, VEHICLES);
    expect(input.labels).toBeGreaterThan(0);
    const pg = testOptions();
    const raw = scaleoutConfig(run, { url: pg.url, schema: pg.schema }, PARTITIONS);
    const config = parseConfig(raw);
    const reference = await embeddedRun(config, input.items);
    expect(reference.alerts.length).toBeGreaterThan(0);

    store = await PostgresStore.open(pg);
    const file = writeConfig(raw);
    const a = spawnRole('worker', file);
    const b = spawnRole('worker', file);
    const ingest = spawnRole('ingest', file);
    procs.push(a, b, ingest);
    await publishInput(nc, run, input.items);

    // Kill a worker once about half the signals are stored, while it holds partitions.
    const deadline = Date.now() + SETTLE_MS;
    let killed = false;
    let stored = 0;
    while (Date.now() < deadline) {
      stored = (await store.counts()).signals;
      if (!killed && stored >= reference.signals / 2) {
        a.child.kill('SIGKILL');
        killed = true;
      }
      if (killed && stored >= reference.signals) break;
      await sleep(250);
    }
    expect(killed, `never reached half the signals; stored ${stored}\n${a.output.join('')}${ingest.output.join('')}`).toBe(true);
    // Settled: nothing more arrives.
    await sleep(2000);
    const counts = await store.counts();
    const tenants = [...new Set(input.items.map((i) => i.tenant))];
    const alerts: Alert[] = [];
    for (const t of tenants) alerts.push(...(await store.listAlerts({ tenant: t, limit: 1_000_000 })));

    expect(counts.signals, b.output.join('').slice(-4000)).toBe(reference.signals);
    expect(counts.deadLetters).toBe(reference.deadLetters);
    const ids = alerts.map((x) => x.id).sort();
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(reference.alerts.map((x) => x.id).sort());
    expect(b.child.exitCode).toBe(null);
    // The killed worker held partitions, and the survivor took them over.
    const taken = (p: RoleProcess): number => p.output.join('').split('"msg":"lease taken"').length - 1;
    expect(taken(a)).toBeGreaterThan(0);
    expect(taken(b)).toBeGreaterThanOrEqual(PARTITIONS);
  }, 240_000);
});
