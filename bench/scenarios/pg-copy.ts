/**
 * Scenario `pg-copy` (run by bench/run.ts; alone: `node --import tsx bench/scenarios/pg-copy.ts
 * [--json] [--rows N] [--batch N] [--url postgres://...]`): signal batches appended to the
 * PostgreSQL Store (COPY into day partitions) in binary and in text COPY format, each in a
 * throw-away schema dropped afterwards. Reports rows/s per format (whole `appendSignals`: encode,
 * send, server-side insert and index, commit) and the share of it spent encoding in JS, with the
 * load average, since the server shares the machine. Default 1,000,000 rows in 100,000-row
 * batches, 20 vehicles, a text value every 100 rows, spread over two days.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { encodeSignalsBinary, encodeSignalsText } from '../../src/adapters/postgres/copy-encoder.js';
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js';
import { SignalBatchBuilder, type SignalBatch } from '../../src/core/batch.js';

const { values: args } = parseArgs({
  strict: false,
  options: {
    json: { type: 'boolean', default: false },
    rows: { type: 'string', default: '1000000' },
    batch: { type: 'string', default: '100000' },
    url: { type: 'string', default: process.env['VIGIL_TEST_PG_URL'] ?? `postgres://${process.env['PGUSER'] ?? 'postgres'}@localhost:5432/test` },
  },
});
const say = (s: string): void => {
  if (!args.json) process.stderr.write(`${s}\n`);
};

const T0 = Date.UTC(2026, 0, 1);

function batches(rows: number, size: number): SignalBatch[] {
  const out: SignalBatch[] = [];
  for (let start = 0; start < rows; start += size) {
    const b = new SignalBatchBuilder('bench', size);
    const keys = Array.from({ length: 20 }, (_, v) => b.vehicleIndex((0x1000 + v).toString(16).padStart(16, '0')));
    for (let i = start; i < Math.min(rows, start + size); i++) {
      // Two days in all, so the writes cross a partition boundary.
      b.push(keys[i % 20]!, T0 + (i * 172_800_000) / rows, i % 200, i * 0.5, i % 100 === 0 ? `state-${i % 7}` : undefined);
    }
    out.push(b.build());
  }
  return out;
}

async function run(format: 'binary' | 'text', work: readonly SignalBatch[]): Promise<{ rows_per_s: number; encode_share: number; seconds: number }> {
  const schema = `vigil_bench_${randomBytes(4).toString('hex')}`;
  const store = await PostgresStore.open({ url: String(args.url), schema, copyFormat: format, poolSize: 2 });
  try {
    // Warm-up: tenant registration, partitions and the first COPY's plan, outside the timing.
    await store.appendSignals(work[0]!);
    await store.connection.run('TRUNCATE signals');
    const t0 = performance.now();
    let rows = 0;
    for (const b of work) rows += await store.appendSignals(b);
    const seconds = (performance.now() - t0) / 1000;
    const e0 = performance.now();
    for (const b of work) (format === 'binary' ? encodeSignalsBinary : encodeSignalsText)(1, b);
    const encode = (performance.now() - e0) / 1000;
    return { rows_per_s: Math.round(rows / seconds), encode_share: Number((encode / seconds).toFixed(2)), seconds: Number(seconds.toFixed(2)) };
  } finally {
    await store.connection.run(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
    await store.close();
  }
}

async function main(): Promise<void> {
  const rows = Number(args.rows);
  const size = Number(args.batch);
  const work = batches(rows, size);
  const load = loadavg()[0]!.toFixed(2);
  const binary = await run('binary', work);
  say(`binary COPY: ${binary.rows_per_s.toLocaleString()} rows/s (${rows.toLocaleString()} rows in ${size.toLocaleString()}-row batches, ${binary.seconds} s, encoding ${Math.round(binary.encode_share * 100)}%)`);
  const text = await run('text', work);
  say(`text COPY:   ${text.rows_per_s.toLocaleString()} rows/s (${text.seconds} s, encoding ${Math.round(text.encode_share * 100)}%)`);
  say(`load average at start: ${load}`);
  if (args.json) process.stdout.write(`${JSON.stringify({ name: 'pg-copy', rows, batch: size, binary, text, loadavg: Number(load) })}\n`);
}

/** Without a reachable PostgreSQL the scenario reports itself skipped instead of failing the bench run. */
async function reachable(): Promise<boolean> {
  const probe = await PostgresStore.open({ url: String(args.url), schema: 'vigil_bench_probe', migrate: false, poolSize: 1 });
  try {
    await probe.connection.query('SELECT 1');
    return true;
  } catch (error) {
    say(`pg-copy skipped: no PostgreSQL at ${String(args.url)} (${(error as Error).message})`);
    if (args.json) process.stdout.write(`${JSON.stringify({ name: 'pg-copy', skipped: 'no PostgreSQL' })}\n`);
    return false;
  } finally {
    await probe.close();
  }
}

if (await reachable()) await main();
