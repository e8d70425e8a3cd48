/**
 * Scenario `intel-exposure` (run by bench/run.ts; alone: `node --import tsx bench/scenarios/intel-exposure.ts
 * [--json] [--vehicles N] [--rounds N] [--db FILE]`): vulnerability exposure (src/adapters/duckdb/intel-store.ts)
 * on a seeded fleet (test/fleet-fixture.ts, seed 5, one tenant, default 1,000,000 vehicles) with the
 * 129 demo SBOMs (src/sim/sboms.ts) and the demo advisories (examples/intel), stored in a DuckDB file.
 * `--db FILE` keeps the database in FILE, and a later run with the same FILE skips generating and
 * importing. Each query is answered once cold, then `rounds` times: median and worst latency in ms.
 * Target (issue 6): per-CVE counts and first page well under 1 s, topExposed under ~1.5 s, one vehicle under 100 ms.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBIntelStore } from '../../src/adapters/duckdb/intel-store.js';
import { DuckDBStore } from '../../src/adapters/duckdb/duckdb-store.js';
import { ManualClock } from '../../src/core/clock.js';
import { IntelService } from '../../src/runtime/intel-service.js';
import { demoSboms } from '../../src/sim/sboms.js';
import { fleetFixture } from '../../test/fleet-fixture.js';

const { values: args } = parseArgs({
  strict: false,
  options: {
    json: { type: 'boolean', default: false },
    vehicles: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '5' },
    db: { type: 'string' },
  },
});
const say = (s: string): void => {
  if (!args.json) process.stderr.write(`${s}\n`);
};

const TENANT = 'bench';
const CVE = 'VIGIL-DEMO-2026-0001';
const EXAMPLES = join(import.meta.dirname, '../../examples/intel');

async function main(): Promise<void> {
  const vehicles = Number(args.vehicles);
  const rounds = Number(args.rounds);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-intel-'));
  const file = typeof args.db === 'string' ? args.db : join(dir, 'intel.duckdb');
  const reuse = typeof args.db === 'string' && existsSync(args.db);
  const store = await DuckDBStore.open({ path: file });
  try {
    const intel = new DuckDBIntelStore(store.connection);
    if (!reuse) {
      const t0 = performance.now();
      const fx = fleetFixture({ seed: 5, vehicles, tenants: [TENANT], noisyShare: 0, alertsPerNoisy: 0, planted: 10, end: Date.UTC(2026, 1, 1), days: 1, incidents: false });
      for (let i = 0; i < fx.vehicles.length; i += 100_000) await store.upsertVehicles(fx.vehicles.slice(i, i + 100_000));
      say(`stored ${fx.vehicles.length.toLocaleString()} vehicles in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const service = new IntelService({ store: intel, clock: new ManualClock(Date.UTC(2026, 1, 15)), insertAlerts: (a) => store.insertAlerts(a), offerAlerts: () => undefined });
      const feed = readdirSync(EXAMPLES).filter((f) => f.endsWith('.json')).sort().map((f) => ({ name: f, text: readFileSync(join(EXAMPLES, f), 'utf8') }));
      await service.importFeeds(feed, { tenant: TENANT, actor: 'bench' });
      const t1 = performance.now();
      await service.importSboms(demoSboms().map((s) => ({ name: s.name, text: JSON.stringify(s.doc) })), { tenant: TENANT, actor: 'bench' });
      say(`imported the feed and ${demoSboms().length} SBOMs (with the first-exposure check) in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
      await store.connection.exclusive(() => store.connection.run('CHECKPOINT'));
    }
    const [one] = await store.connection.exclusive(() => store.connection.all<{ id: bigint }>(
      `SELECT id FROM vehicles WHERE software IS NOT NULL ORDER BY id LIMIT 1 OFFSET 4321`));
    const vehicle = (await intel.exposedVehicles(TENANT, CVE, { limit: 1, offset: 0 }))[0]?.vehicle;
    const exposed = await intel.exposure(TENANT, CVE);
    say(`fleet: ${vehicles.toLocaleString()} vehicles; ${CVE} exposes ${exposed.vehicles.toLocaleString()}`);
    void one;
    const cases: [string, () => Promise<unknown>][] = [
      ['exposure() of one CVE (counts, all groupings, first page)', () => intel.exposure(TENANT, CVE, { limit: 50, offset: 0 })],
      ['exposureCounts() of one CVE', () => intel.exposureCounts(TENANT, [CVE])],
      ['first page of exposed vehicles', () => intel.exposedVehicles(TENANT, CVE, { limit: 50, offset: 0 })],
      ['topExposed() (every vulnerability)', () => intel.topExposed(TENANT, 10)],
      ['listVulnerabilities() first page', () => intel.listVulnerabilities({ tenant: TENANT, limit: 50, offset: 0 })],
      ['one exposed vehicle', () => intel.vehicleVulnerabilities(TENANT, vehicle!)],
    ];
    const results: Record<string, { cold_ms: number; median_ms: number; max_ms: number }> = {};
    for (const [name, run] of cases) {
      const c0 = performance.now();
      await run();
      const cold = performance.now() - c0;
      const times: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const s = performance.now();
        await run();
        times.push(performance.now() - s);
      }
      times.sort((a, b) => a - b);
      const median = times[Math.floor(times.length / 2)]!;
      const max = times.at(-1)!;
      results[name] = { cold_ms: Math.round(cold), median_ms: Math.round(median), max_ms: Math.round(max) };
      say(`${name.padEnd(60)} cold ${cold.toFixed(0).padStart(6)} ms   median ${median.toFixed(0).padStart(6)} ms   max ${max.toFixed(0).padStart(6)} ms`);
    }
    const load = loadavg()[0]!;
    say(`load average ${load.toFixed(1)} on ${cpus().length} cores`);
    if (args.json) process.stdout.write(`${JSON.stringify({ name: 'intel-exposure', vehicles, exposed: exposed.vehicles, load_average: Math.round(load * 10) / 10, results })}\n`);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
