/**
 * Scenario `twins-1m` (run by bench/run.ts; alone: `node --import tsx bench/scenarios/twins-1m.ts
 * [--json] [--twins N] [--signals-per-twin N] [--rounds N]`): builds N twins (default 1,000,000)
 * with K live signals each (default 50) through the real update path — the worker's
 * SignalEngine with the built-in detectors over columnar batches — against the full VSS 6.0
 * catalog (the demo catalog when the dataset is absent), then measures:
 *   memory after GC: JS heap + array buffers attributable to the twins (bytes_per_twin), RSS;
 *   update speed: rows/s of further rounds over the same twins (steady state, no new signals).
 * Target (issue 4): 1,000,000 twins x 50 signals in <= 1.5 GiB.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SignalBatchBuilder } from '../../src/core/batch.js';
import { flattenVss, SignalCatalog } from '../../src/core/catalog.js';
import { BUILTIN_DETECTORS } from '../../src/detect/builtin.js';
import { SignalEngine } from '../../src/detect/engine.js';
import { DEFAULT_SIGNALS } from '../../src/sim/default-catalog.js';
import { TwinRegistry } from '../../src/twin/twins.js';
import { DATASETS } from '../../test/datasets.js';

// GC must be callable to measure what stays; re-run this script under --expose-gc if it is not.
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  const r = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=8192', '--import', 'tsx', fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const { values: args } = parseArgs({
  strict: false,
  options: {
    json: { type: 'boolean', default: false },
    twins: { type: 'string', default: '1000000' },
    'signals-per-twin': { type: 'string', default: '50' },
    rounds: { type: 'string', default: '2' },
  },
});
const say = (s: string): void => {
  if (!args.json) process.stderr.write(`${s}\n`);
};

const TWINS = Number(args.twins);
const K = Number(args['signals-per-twin']);
const ROUNDS = Number(args.rounds);
/** Vehicles per batch: a worker's hand-over of ~100 messages of 50 signals is ~5,000 rows; this is 4x that. */
const PER_BATCH = 400;
const MB = 1 << 20;

function catalog(): SignalCatalog {
  const vss = `${DATASETS}vss/vss_release_6.0.json`;
  const specs = existsSync(vss) ? flattenVss(JSON.parse(readFileSync(vss, 'utf8'))) : [];
  const known = new Set(specs.map((s) => s.path));
  return new SignalCatalog([...specs, ...DEFAULT_SIGNALS.filter((s) => !known.has(s.path))]);
}

/** A pseudonym-shaped key (16 hex digits) for vehicle n, made on the fly so no list of a million strings is held. */
function key(n: number): string {
  const a = Math.imul(n ^ 0x5bd1e995, 0x9e3779b1) >>> 0;
  const b = Math.imul(n + 0x7f4a7c15, 0x85ebca6b) >>> 0;
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

function used(): { heap: number; buffers: number; rss: number } {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers, rss: m.rss };
}

function main(): void {
  const cat = catalog();
  // The detectors' signals first (so they run), then other numeric leaves, K in all.
  const watched = ['Vehicle.Speed', 'Vehicle.TraveledDistance', 'Vehicle.Chassis.Axle.Row1.Wheel.Left.Speed'];
  const ids = [...new Set([...watched.map((p) => cat.get(p)!.id), ...[...cat].filter((d) => d.numeric).map((d) => d.id)])].slice(0, K);
  const engine = new SignalEngine(cat, BUILTIN_DETECTORS, 60_000);
  say(`catalog: ${cat.size} signals; ${ids.length} per twin; detectors ${engine.enabled.join(', ')}`);

  const before = used();
  const twins = new TwinRegistry(cat);
  let t = Date.UTC(2026, 0, 1);
  let alerts = 0;
  /** Seconds inside the engine (the update path), without making the batches: wall and CPU. */
  let engineS = 0;
  let engineCpuS = 0;
  const round = (): number => {
    let rows = 0;
    t += 1000;
    for (let v0 = 0; v0 < TWINS; v0 += PER_BATCH) {
      const n = Math.min(PER_BATCH, TWINS - v0);
      const b = new SignalBatchBuilder('bench', n * ids.length, t);
      for (let v = 0; v < n; v++) {
        const vi = b.vehicleIndex(key(v0 + v));
        for (let s = 0; s < ids.length; s++) b.push(vi, t + s, ids[s]!, 50 + ((v0 + v + s) % 40));
      }
      const batch = b.build();
      const e0 = performance.now();
      const c0 = process.cpuUsage();
      alerts += engine.process(batch, twins, t).alerts.length;
      const c = process.cpuUsage(c0);
      engineCpuS += (c.user + c.system) / 1e6;
      engineS += (performance.now() - e0) / 1000;
      rows += batch.size;
    }
    twins.takeDirty();
    return rows;
  };

  const b0 = performance.now();
  const buildRows = round();
  const buildS = (performance.now() - b0) / 1000;
  const buildEngineS = engineS;
  const after = used();
  const attributable = after.heap - before.heap + (after.buffers - before.buffers);
  say(`built ${twins.size.toLocaleString()} twins (${buildRows.toLocaleString()} rows) in ${buildS.toFixed(1)} s`);
  say(`memory after GC: heap ${(after.heap / MB).toFixed(0)} MiB, array buffers ${(after.buffers / MB).toFixed(0)} MiB, rss ${(after.rss / MB).toFixed(0)} MiB; twins ${(attributable / MB).toFixed(0)} MiB = ${(attributable / TWINS).toFixed(0)} B/twin`);

  let rows = 0;
  engineS = 0;
  engineCpuS = 0;
  for (let r = 0; r < ROUNDS; r++) rows += round();
  const perS = rows / engineS;
  say(`update: ${rows.toLocaleString()} rows in ${engineS.toFixed(1)} s in the engine = ${Math.round(perS).toLocaleString()} rows/s wall, ${Math.round(rows / engineCpuS).toLocaleString()} per CPU-second (one thread); alerts ${alerts}`);
  const target = 1.5 * 1024 * MB;
  say(`target <= 1.5 GiB for 1M x 50: ${attributable <= target * (TWINS / 1e6) ? 'met' : 'MISSED'}`);
  if (args.json) {
    process.stdout.write(
      `${JSON.stringify({
        name: 'twins-1m', twins: twins.size, signals_per_twin: ids.length,
        heap_mb: Math.round(after.heap / MB), array_buffers_mb: Math.round(after.buffers / MB), rss_mb: Math.round(after.rss / MB),
        twins_mb: Math.round(attributable / MB), bytes_per_twin: Math.round(attributable / TWINS),
        build_rows_per_s: Math.round(buildRows / buildEngineS), update_rows_per_s: Math.round(perS), update_rows_per_cpu_s: Math.round(rows / engineCpuS),
      })}\n`,
    );
  }
}

main();
