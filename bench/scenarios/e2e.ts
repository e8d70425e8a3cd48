/**
 * Scenario `e2e` (run by bench/run.ts; alone: `node --import tsx bench/scenarios/e2e.ts
 * [--json] [--signals N] [--vehicles N] [--latency-seconds N] [--rules DIR|none]`), on ONE pre-generated input (simulated fleet, batched messages of >= 50
 * signals, no attacks or malformed messages so every signal counts):
 *   (a) decode-only limit: the same worker threads parse and shape-check, then discard;
 *   (b) end-to-end: normalize -> partition -> twin -> detectors and the full rule pack
 *       (default: the shipped rules/detections; `--rules none` for the code detectors only) -> DuckDB, until durable;
 *   efficiency (b)/(a), peak RSS, and p50/p99 ingest-to-store latency at half of (b).
 */
import { parseArgs } from 'node:util';
import { readDetectionFiles } from '../../src/api/detection.js';
import type { RulePackSource } from '../../src/runtime/detection.js';
import type { InputItem } from '../../src/runtime/lane.js';
import { defaultCatalog, FleetSimulator } from '../../src/sim/index.js';
import { peakRssMb, rig, runFlat, runPaced } from '../harness.js';

const { values: args } = parseArgs({
  strict: false,
  options: {
    json: { type: 'boolean', default: false },
    signals: { type: 'string', default: '6000000' },
    vehicles: { type: 'string', default: '20000' },
    'latency-seconds': { type: 'string', default: '4' },
    rules: { type: 'string' },
  },
});

const say = (s: string): void => {
  if (!args.json) process.stderr.write(`${s}\n`);
};

function generate(totalSignals: number, vehicles: number): { items: InputItem[]; signals: number; perMessage: number } {
  const sim = new FleetSimulator({ seed: 7, vehicles, tenants: ['bench'], start: Date.now() - 3_600_000, attacks: false, malformedRate: 0, signalsPerMessage: 80, apiRequestsPerVehicleHour: 0, heartbeatIntervalS: 86_400, benignSecurityEventMeanS: 1e9 });
  const items: InputItem[] = [];
  let signals = 0;
  let t = sim.now;
  const sink = {
    item(it: { kind: InputItem['kind']; tenant: string; payload: string }) {
      if (it.kind !== 'signals') return;
      items.push({ kind: 'signals', tenant: it.tenant, source: 'bench', payload: it.payload, receivedAt: 0 });
    },
  };
  while (signals < totalSignals) {
    t += 1000;
    const before = items.length;
    sim.tick(t, sink);
    signals = sim.stats.signals;
    if (items.length === before && t > sim.now + 10_000) break;
  }
  return { items, signals, perMessage: signals / items.length };
}

async function main(): Promise<void> {
  const catalog = defaultCatalog();
  const rules: RulePackSource | undefined = args.rules === 'none' ? undefined : { files: readDetectionFiles({ disabled: [], tickIntervalMs: 10_000, ...(typeof args.rules === 'string' ? { rules: [args.rules] } : {}) }) };
  const t0 = performance.now();
  const input = generate(Number(args.signals), Number(args.vehicles));
  say(`input: ${input.items.length.toLocaleString()} messages, ${input.signals.toLocaleString()} signals (${input.perMessage.toFixed(1)} per message), generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const limitRig = await rig(catalog, 'decode');
  await runFlat(limitRig.pipeline, input.items.slice(0, 2000), 'decode'); // warm-up
  await limitRig.close();
  const limitRig2 = await rig(catalog, 'decode');
  const limit = await runFlat(limitRig2.pipeline, input.items, 'decode');
  await limitRig2.close();
  const limitRate = limit.signals / limit.seconds;
  say(`(a) decode-only limit: ${Math.round(limitRate).toLocaleString()} signals/s (${limit.seconds.toFixed(2)} s)`);

  const e2eRig = await rig(catalog, 'full', {}, rules);
  say(`rules: ${e2eRig.pipeline.ruleCount} (${rules ? (typeof args.rules === 'string' ? args.rules : 'the shipped pack') : 'none'})`);
  const e2e = await runFlat(e2eRig.pipeline, input.items, 'full');
  await e2eRig.close();
  const e2eRate = e2e.signals / e2e.seconds;
  if (e2e.signals !== input.signals) throw new Error(`end-to-end stored ${e2e.signals} of ${input.signals} signals`);
  say(`(b) end-to-end:        ${Math.round(e2eRate).toLocaleString()} signals/s (${e2e.seconds.toFixed(2)} s), efficiency ${(e2eRate / limitRate).toFixed(3)}`);

  // Latency at half the measured maximum, for a few seconds of input.
  const halfMsgRate = (e2eRate / 2) / input.perMessage;
  const n = Math.min(input.items.length, Math.round(halfMsgRate * Number(args['latency-seconds'])));
  const latRig = await rig(catalog, 'full', {}, rules);
  // Warm up (JIT, twins of every vehicle, pseudonym cache) on other messages of the input.
  const warm = Math.min(input.items.length - n, Math.round(halfMsgRate * 2));
  if (warm < halfMsgRate) throw new Error(`input too small for a warm-up: use more --signals`);
  await runPaced(latRig.pipeline, input.items.slice(input.items.length - warm), halfMsgRate);
  const lat = await runPaced(latRig.pipeline, input.items.slice(0, n), halfMsgRate);
  await latRig.close();
  say(`latency at ${Math.round(e2eRate / 2).toLocaleString()} signals/s: p50 ${lat.p50} ms, p99 ${lat.p99} ms`);

  const result = {
    name: 'e2e',
    signals_per_s: Math.round(e2eRate),
    limit_signals_per_s: Math.round(limitRate),
    efficiency: Math.round((e2eRate / limitRate) * 1000) / 1000,
    peak_rss_mb: peakRssMb(),
    p50_ms: lat.p50,
    p99_ms: lat.p99,
    latency_load_signals_per_s: Math.round(lat.signals / lat.seconds),
    signals: input.signals,
    messages: input.items.length,
    signals_per_message: Math.round(input.perMessage * 10) / 10,
    vehicles: Number(args.vehicles),
    workers: e2eRig.pipeline.metrics.get('vigil_workers'),
    rules: e2eRig.pipeline.ruleCount,
    e2e_p99_ms_at_max: e2e.p99,
  };
  if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else say(`peak RSS ${result.peak_rss_mb} MB`);
}

await main();
