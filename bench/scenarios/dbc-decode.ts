/**
 * Scenario `dbc-decode` (run by bench/run.ts; alone: `node --import tsx bench/scenarios/dbc-decode.ts
 * [--json] [--seconds N] [--trace PATH]`): the largest DAGA Volvo V40 trace, loaded before the
 * clock starts, decoded over and over on this one thread with opendbc's volvo_v40_2017_pt.dbc.
 *
 *   frames_per_s          every signal of every frame the DBC defines, generated decoders (the target: >= 3M per core)
 *   frames_per_s_per_core the same frames per CPU-second of this process
 *   plan_frames_per_s     the same with interpreted plans (the fallback where code generation is off)
 *   vss_frames_per_s      decode + rows through the shipped VSS mapping and checks into a signal batch (a lane's work, minus the store)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SignalBatchBuilder } from '../../src/core/batch.js';
import type { CanFrameBatch } from '../../src/core/can.js';
import { flattenVss, SignalCatalog } from '../../src/core/catalog.js';
import { compileCanBinding } from '../../src/decode/dbc/bind.js';
import { compileDbc, emptyRows, parseDbc, type DbcDecoder } from '../../src/decode/dbc/index.js';
import { DEFAULT_SIGNALS } from '../../src/sim/default-catalog.js';
import { DATASETS, loadDagaTrace } from '../../test/datasets.js';
import { peakRssMb } from '../harness.js';

const { values: args } = parseArgs({
  strict: false,
  options: {
    json: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '3' },
    trace: { type: 'string' },
  },
});

const say = (s: string): void => {
  if (!args.json) process.stderr.write(`${s}\n`);
};

/** The DAGA trace with the most bytes (zip size stands in for frames: all are the same drive). */
function largestTrace(): string {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.can.zip')) files.push(p);
    }
  };
  walk(`${DATASETS}can/daga`);
  if (!files.length) throw new Error(`no DAGA traces under ${DATASETS}can/daga`);
  return files.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
}

interface Rate {
  readonly framesPerS: number;
  readonly framesPerCpuS: number;
  readonly rowsPerS: number;
}

/** Run `once` (which handles the whole trace and returns rows) until `seconds` have passed, after a warm-up. */
function measure(frames: number, seconds: number, once: () => number): Rate {
  for (let i = 0; i < 5; i++) once();
  let n = 0;
  let rows = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let elapsed = 0;
  do {
    rows += once();
    n++;
    elapsed = (performance.now() - t0) / 1000;
  } while (elapsed < seconds);
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  return { framesPerS: (n * frames) / elapsed, framesPerCpuS: (n * frames) / cpuS, rowsPerS: rows / elapsed };
}

async function main(): Promise<void> {
  const seconds = Number(args.seconds);
  const tracePath = typeof args.trace === 'string' ? args.trace : largestTrace();
  const dbcPath = `${DATASETS}dbc/opendbc/volvo_v40_2017_pt.dbc`;
  const mappingPath = fileURLToPath(new URL('../../rules/can/volvo_v40_2017_pt.vss.yaml', import.meta.url));
  const trace: CanFrameBatch = await loadDagaTrace(tracePath);
  const dbcText = readFileSync(dbcPath, 'utf8');
  const db = parseDbc(dbcText, dbcPath).db;
  say(`trace: ${tracePath.slice(DATASETS.length)}, ${trace.size.toLocaleString()} frames`);

  const rows = emptyRows(trace.size * 4);
  const decodeAll = (d: DbcDecoder) => (): number => d.decodeBatch(trace, rows).size;
  const codegen = compileDbc(db, { strategy: 'codegen' });
  const gen = measure(trace.size, seconds, decodeAll(codegen));
  const known = countKnown(codegen, trace);
  say(`codegen: ${Math.round(gen.framesPerS).toLocaleString()} frames/s (${Math.round(gen.framesPerCpuS).toLocaleString()} per CPU-second), ${Math.round(gen.rowsPerS).toLocaleString()} signals/s`);
  const plan = measure(trace.size, seconds, decodeAll(compileDbc(db, { strategy: 'plan' })));
  say(`plans:   ${Math.round(plan.framesPerS).toLocaleString()} frames/s (${Math.round(plan.framesPerCpuS).toLocaleString()} per CPU-second)`);

  const catalog = new SignalCatalog([...DEFAULT_SIGNALS, ...flattenVss(JSON.parse(readFileSync(`${DATASETS}vss/vss_release_6.0.json`, 'utf8')))]);
  const { binding, problems } = compileCanBinding({ dbcFile: dbcPath, dbcText, mappingFile: mappingPath, mappingText: readFileSync(mappingPath, 'utf8') }, catalog);
  if (!binding) throw new Error(`mapping: ${problems.join('; ')}`);
  const vss = measure(trace.size, seconds, () => {
    const out = new SignalBatchBuilder('bench', trace.size * 2);
    return binding.map(trace, out, out.vehicleIndex('v'), Number.POSITIVE_INFINITY).rows;
  });
  say(`to VSS:  ${Math.round(vss.framesPerS).toLocaleString()} frames/s (${Math.round(vss.framesPerCpuS).toLocaleString()} per CPU-second), ${Math.round(vss.rowsPerS).toLocaleString()} VSS rows/s`);

  const result = {
    name: 'dbc-decode',
    frames_per_s: Math.round(gen.framesPerS),
    frames_per_s_per_core: Math.round(gen.framesPerCpuS),
    signals_per_s: Math.round(gen.rowsPerS),
    plan_frames_per_s: Math.round(plan.framesPerS),
    plan_frames_per_s_per_core: Math.round(plan.framesPerCpuS),
    vss_frames_per_s: Math.round(vss.framesPerS),
    vss_frames_per_s_per_core: Math.round(vss.framesPerCpuS),
    vss_rows_per_s: Math.round(vss.rowsPerS),
    peak_rss_mb: peakRssMb(),
    trace: tracePath.slice(DATASETS.length),
    frames: trace.size,
    frames_known_to_dbc: known,
    signals_per_frame: Math.round((gen.rowsPerS / gen.framesPerS) * 100) / 100,
    target_frames_per_s_per_core: 3_000_000,
  };
  if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else say(`peak RSS ${result.peak_rss_mb} MB`);
}

function countKnown(d: DbcDecoder, b: CanFrameBatch): number {
  let n = 0;
  for (let i = 0; i < b.size; i++) if (d.has(b.id[i]!)) n++;
  return n;
}

await main();
