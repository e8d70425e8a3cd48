/**
 * Registered by scaleout.test.ts after the kill test, so the two never run at once.
 *
 * Scale-out through a restart of the NATS server (4222) while the roles are working: the
 * ingest role's publishes and the workers' consumers and leases stall, retry, and resume
 * when the server is back (JetStream on disk keeps the streams). Nothing is lost: the stored
 * signals and alerts equal the embedded run's. The server is started again whatever happens,
 * since other tests use it.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/core/records.js';
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js';
import { dropTestSchemas, testOptions } from '../../src/adapters/postgres/test-db.js';
import { embeddedRun, labelledInput, parseConfig, publishInput, scaleoutConfig, spawnRole, writeConfig, type RoleProcess } from './scaleout-helpers.js';

const SIGNALS = Number(process.env['SCALEOUT_RESTART_SIGNALS'] ?? 300_000);
const PARTITIONS = 4;
const SETTLE_MS = 150_000;
const NATS = '/usr/sbin/nats-server';
const NATS_ARGS = ['-a', '127.0.0.1', '-p', '4222', '-js', '-sd', '/var/lib/nats-server', '-l', '/var/log/nats-server.log'];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function stopNats(): void {
  execFileSync('start-stop-daemon', ['--stop', '--retry', '5', '--oknodo', '--exec', NATS]);
}

function startNats(): void {
  execFileSync('start-stop-daemon', ['--start', '--oknodo', '--background', '--exec', NATS, '--', ...NATS_ARGS]);
}

async function natsUp(): Promise<NatsConnection> {
  for (let i = 0; ; i++) {
    try {
      return await connect({ servers: ['nats://127.0.0.1:4222'], maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    } catch (e) {
      if (i > 80) throw e;
      await sleep(250);
    }
  }
}

describe('scale-out: the NATS server restarts during ingest', () => {
  const run = randomBytes(4).toString('hex');
  const procs: RoleProcess[] = [];
  let nc: NatsConnection | undefined;
  let store: PostgresStore | undefined;

  afterAll(async () => {
    startNats();
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    const admin = await natsUp();
    const jsm = await jetstreamManager(admin);
    for (const s of [`VB_${run}`, `VB_${run}_LEASES`, `VIN_${run}`]) await jsm.streams.delete(s).catch(() => undefined);
    await admin.close();
    await nc?.close().catch(() => undefined);
    await store?.close();
    await dropTestSchemas();
  });

  it('pauses and resumes; every signal stored once, the embedded run’s alerts', async () => {
    const input = await labelledInput(SIGNALS, 40);
    const pg = testOptions();
    const raw = scaleoutConfig(run, { url: pg.url, schema: pg.schema }, PARTITIONS);
    const reference = await embeddedRun(parseConfig(raw), input.items);
    store = await PostgresStore.open(pg);
    const file = writeConfig(raw);
    const worker = spawnRole('worker', file);
    const ingest = spawnRole('ingest', file);
    procs.push(worker, ingest);
    nc = await natsUp();
    await publishInput(nc, run, input.items);

    const deadline = Date.now() + SETTLE_MS;
    let restarted = false;
    let stored = 0;
    let storedAtRestart = 0;
    while (Date.now() < deadline) {
      stored = (await store.counts()).signals;
      if (!restarted && stored >= reference.signals / 3) {
        storedAtRestart = stored;
        try {
          stopNats();
          await sleep(3000);
        } finally {
          startNats();
        }
        restarted = true;
      }
      if (restarted && stored >= reference.signals) break;
      await sleep(250);
    }
    expect(restarted, `never reached a third of the signals; stored ${stored}\n${worker.output.join('').slice(-3000)}`).toBe(true);
    // The restart fell in the middle of the work, not after it.
    expect(storedAtRestart).toBeLessThan(reference.signals);
    await sleep(2000);
    const counts = await store.counts();
    const alerts: Alert[] = [];
    for (const t of new Set(input.items.map((i) => i.tenant))) alerts.push(...(await store.listAlerts({ tenant: t, limit: 1_000_000 })));
    expect(counts.signals, `${worker.output.join('').slice(-3000)}\n${ingest.output.join('').slice(-3000)}`).toBe(reference.signals);
    expect(alerts.map((a) => a.id).sort()).toEqual(reference.alerts.map((a) => a.id).sort());
    expect(worker.child.exitCode).toBe(null);
    expect(ingest.child.exitCode).toBe(null);
  }, 240_000);
});
