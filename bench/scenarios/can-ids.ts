/**
 * Scenario `can-ids` (run by bench/run.ts; alone: `node --import tsx bench/scenarios/can-ids.ts
 * [--json] [--seconds N] [--batch N]`): the CAN intrusion-detection models on one thread. A
 * profile is learnt from the clean DAGA Volvo V40 trace; the ordered-sequence-replay trace
 * with n = 10 (the one where most models fire, so the flagged path is measured too) is
 * loaded before the clock starts and scored over and over in batches of `--batch` frames,
 * the detector's state carried from batch to batch and reset per pass.
 *
 *   frames_per_s           frames scored per wall second (target: >= 2M per core)
 *   frames_per_s_per_core  frames per CPU-second of this process
 *   ngram_frames_per_s     the same with the 2-gram model forced on
 */
import { parseArgs } from 'node:util';
import type { CanFrameBatch } from '../../src/core/can.js';
import { CanDetector, learnCanProfile, sliceByTime, type CanProfile } from '../../src/detect/can/index.js';
import { DATASETS, loadDagaTrace } from '../../test/datasets.js';
import { peakRssMb } from '../harness.js';

const { values: args } = parseArgs({
  strict: false,
  options: {
    json: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '3' },
    batch: { type: 'string', default: '8192' },
  },
});

const say = (s: string): void => {
  if (!args.json) process.stderr.write(`${s}\n`);
};

function batches(trace: CanFrameBatch, size: number): CanFrameBatch[] {
  const out: CanFrameBatch[] = [];
  for (let i = 0; i < trace.size; i += size) {
    const end = Math.min(trace.size, i + size);
    out.push(sliceByTime(trace, trace.time[i]!, end < trace.size ? trace.time[end]! : Infinity));
  }
  return out;
}

function measure(profile: CanProfile, parts: readonly CanFrameBatch[], frames: number, seconds: number): { framesPerS: number; framesPerCpuS: number; flagged: number } {
  const det = new CanDetector(profile);
  const out = new Uint8Array(Math.max(...parts.map((p) => p.size)));
  let flagged = 0;
  const pass = (): void => {
    det.reset();
    flagged = 0;
    for (const p of parts) flagged += det.score(p, out).flagged;
  };
  for (let i = 0; i < 3; i++) pass();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let passes = 0;
  do {
    pass();
    passes++;
  } while (performance.now() - t0 < seconds * 1000);
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { framesPerS: (passes * frames) / wall, framesPerCpuS: (passes * frames) / ((cpu.user + cpu.system) / 1e6), flagged };
}

async function main(): Promise<void> {
  const clean = await loadDagaTrace(`${DATASETS}can/daga/clean/V40_03.can.zip`);
  const trace = await loadDagaTrace(`${DATASETS}can/daga/infected/OrderedSequenceReplay/n_10_V40_03.can.zip`);
  const parts = batches(trace, Number(args.batch));
  const seconds = Number(args.seconds);
  const profile = learnCanProfile([clean]);
  const r = measure(profile, parts, trace.size, seconds);
  say(`can-ids: ${trace.size.toLocaleString('en')} frames in ${parts.length} batches, ${r.flagged.toLocaleString('en')} flagged per pass`);
  say(`  default models: ${Math.round(r.framesPerS).toLocaleString('en')} frames/s, ${Math.round(r.framesPerCpuS).toLocaleString('en')} per CPU-second`);
  const ngram = measure(learnCanProfile([clean], { ngram: 'on' }), parts, trace.size, seconds);
  say(`  with 2-grams:   ${Math.round(ngram.framesPerS).toLocaleString('en')} frames/s`);
  const result = {
    name: 'can-ids',
    frames: trace.size,
    frames_per_s: Math.round(r.framesPerS),
    frames_per_s_per_core: Math.round(r.framesPerCpuS),
    ngram_frames_per_s: Math.round(ngram.framesPerS),
    peak_rss_mb: peakRssMb(),
  };
  if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else say(JSON.stringify(result));
}

await main();
