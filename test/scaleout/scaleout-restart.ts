/**
 * Registered by scaleout.test.ts (the tests of one file run one after another, so this and the
 * kill test never compete for the machine).
 *
 * Scale-out through a restart of the NATS server while the roles are working: the ingest
 * role's publishes and the workers' consumers and leases stall, retry, and resume when the
 * server is back (JetStream on disk keeps the streams). Nothing is lost: the stored signals
 * and alerts equal the embedded run's. The server is a private nats-server of this test (its
 * own port and JetStream directory), so the shared one on 4222, which other test files use at
 * the same time, is never interrupted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/core/records.js';
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js';
import { dropTestSchemas, testOptions } from '../../src/adapters/postgres/test-db.js';
import { embeddedRun, labelledInput, parseConfig, publishInput, scaleoutConfig, spawnRole, writeConfig, type RoleProcess } from './scaleout-helpers.js';

const SIGNALS = Number(process.env['SCALEOUT_RESTART_SIGNALS'] ?? 300_000);
const PARTITIONS = 4;
const SETTLE_MS = 150_000;
const NATS = '/usr/sbin/nats-server';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on loopback. */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** This test's own NATS server with JetStream on disk, stopped and started again at will. */
class PrivateNats {
  private child: ChildProcess | undefined;
  readonly dir = mkdtempSync(path.join(tmpdir(), 'vigil-nats-'));
  constructor(readonly port: number) {}
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }
  start(): void {
    if (this.child) return;
    this.child = spawn(NATS, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.dir], { stdio: 'ignore' });
  }
  /** Stops the server (SIGTERM: JetStream flushes its files) and waits for it to exit. */
  async stop(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  }
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function natsUp(url: string): Promise<NatsConnection> {
  for (let i = 0; ; i++) {
    try {
      return await connect({ servers: [url], maxReconnectAttempts: -1, reconnectTimeWait: 250 });
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
  let nats: PrivateNats | undefined;

  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await nc?.close().catch(() => undefined);
    await nats?.dispose();
    await store?.close();
    await dropTestSchemas();
  });

  it('pauses and resumes; every signal stored once, the embedded run’s alerts', async () => {
    const input = await labelledInput(SIGNALS, 40);
    const pg = testOptions();
    nats = new PrivateNats(await freePort());
    nats.start();
    const raw = scaleoutConfig(run, { url: pg.url, schema: pg.schema }, PARTITIONS, nats.url);
    const reference = await embeddedRun(parseConfig(raw), input.items);
    store = await PostgresStore.open(pg);
    const file = writeConfig(raw);
    const worker = spawnRole('worker', file);
    const ingest = spawnRole('ingest', file);
    procs.push(worker, ingest);
    nc = await natsUp(nats.url);
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
          await nats.stop();
          await sleep(3000);
        } finally {
          nats.start();
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
