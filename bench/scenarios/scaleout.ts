/**
 * Scenario `scaleout` (run by bench/run.ts; alone: `node --import tsx bench/scenarios/scaleout.ts
 * [--json] [--signals N] [--workers 1,2]`): signals per second through the scale-out path on
 * this machine — the ingest role's JetStream source, the bus, worker processes, the shared
 * PostgreSQL — with 1 and with 2 workers, against the embedded path on the same input (lanes
 * inline on one thread, DuckDB in memory). Input: labelled simulator output (40 vehicles,
 * attacks), default 1,000,000 signal values. Timed from the first publish of the input until
 * every signal is stored; the roles are started (and own their partitions) before. Efficiency
 * is scale-out signals/s per worker over embedded signals/s. The load average is reported: the
 * NATS server, PostgreSQL and every process share the machine's cores.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js';
import { dropTestSchemas, testOptions } from '../../src/adapters/postgres/test-db.js';
import { embeddedRun, labelledInput, parseConfig, publishInput, scaleoutConfig, spawnRole, writeConfig, type RoleProcess } from '../../test/scaleout/scaleout-helpers.js';

const { values: args } = parseArgs({
  strict: false,
  options: {
    json: { type: 'boolean', default: false },
    signals: { type: 'string', default: '1000000' },
    workers: { type: 'string', default: '1,2' },
  },
});
const say = (s: string): void => {
  if (!args.json) process.stderr.write(`${s}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const PARTITIONS = 8;
/** Hand-overs as the default config cuts them (the test uses 1 for exact comparison). */
const HANDOFF_BATCH = 512;
const TIMEOUT_MS = 600_000;

const input = await labelledInput(Number(args.signals), 40);
say(`input: ${input.items.length} messages, ${input.signals} signal values, ${input.labels} attack labels`);

const refConfig = parseConfig({ ...scaleoutConfig('ref', { url: 'postgres://unused/unused', schema: 'unused' }, PARTITIONS), runtime: { partitions: PARTITIONS, workers: 1, handoffBatch: HANDOFF_BATCH } });
const t0 = performance.now();
const reference = await embeddedRun(refConfig, input.items);
const embeddedS = (performance.now() - t0) / 1000;
const embedded = Math.round(reference.signals / embeddedS);
say(`embedded (one thread, DuckDB in memory): ${embedded} signals/s (${embeddedS.toFixed(1)} s), load ${loadavg()[0]!.toFixed(1)}`);

async function scaleout(workers: number): Promise<{ signals_per_s: number; seconds: number; load: number }> {
  const run = randomBytes(4).toString('hex');
  const pg = testOptions();
  const raw = { ...scaleoutConfig(run, { url: pg.url, schema: pg.schema }, PARTITIONS), runtime: { partitions: PARTITIONS, workers: 1, handoffBatch: HANDOFF_BATCH } };
  const file = writeConfig(raw);
  const store = await PostgresStore.open(pg);
  const nc = await connect({ servers: ['nats://127.0.0.1:4222'] });
  const procs: RoleProcess[] = [];
  try {
    for (let i = 0; i < workers; i++) procs.push(spawnRole('worker', file));
    procs.push(spawnRole('ingest', file));
    // Every partition owned and the ingest role up before the clock starts.
    const ready = Date.now() + 60_000;
    const text = (p: RoleProcess): string => p.output.join('');
    while (Date.now() < ready) {
      const taken = procs.slice(0, workers).reduce((n, p) => n + text(p).split('"msg":"lease taken"').length - 1, 0);
      if (taken >= PARTITIONS && text(procs.at(-1)!).includes('vigil role started')) break;
      await sleep(200);
    }
    const start = performance.now();
    await publishInput(nc, run, input.items);
    const deadline = Date.now() + TIMEOUT_MS;
    while ((await store.counts()).signals < reference.signals) {
      if (Date.now() > deadline) throw new Error(`scale-out with ${workers} worker(s) did not finish`);
      await sleep(100);
    }
    const seconds = (performance.now() - start) / 1000;
    return { signals_per_s: Math.round(reference.signals / seconds), seconds: Number(seconds.toFixed(1)), load: Number(loadavg()[0]!.toFixed(1)) };
  } finally {
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => Promise.race([p.exited, sleep(10_000).then(() => p.child.kill('SIGKILL'))])));
    const jsm = await jetstreamManager(nc);
    for (const s of [`VB_${run}`, `VB_${run}_LEASES`, `VIN_${run}`]) await jsm.streams.delete(s).catch(() => undefined);
    await nc.close();
    await store.close();
  }
}

const results: Record<string, unknown> = { name: 'scaleout', signals: reference.signals, messages: input.items.length, partitions: PARTITIONS, embedded_signals_per_s: embedded, embedded_load: Number(loadavg()[0]!.toFixed(1)) };
try {
  for (const w of String(args.workers).split(',').map(Number)) {
    const r = await scaleout(w);
    const efficiency = Number((r.signals_per_s / w / embedded).toFixed(2));
    results[`workers_${w}`] = { ...r, efficiency_per_worker: efficiency };
    say(`scale-out, ${w} worker(s): ${r.signals_per_s} signals/s (${r.seconds} s), per worker ${efficiency} of embedded, load ${r.load}`);
  }
} finally {
  await dropTestSchemas();
}
if (args.json) process.stdout.write(`${JSON.stringify(results)}\n`);
process.exit(0);
